"""One folder of every article format, indexed in one run and answered by the real default models.

The page and the export row each hold a name no other article has, so each question has exactly
one right source; the answer must cite it and carry its original URL in ``ask --json``.
"""

from __future__ import annotations

import json
import shutil

import pytest

pytestmark = pytest.mark.slow

NER_FILES = ["0386.txt", "0368.txt", "0187.txt", "0552.txt"]
PAGE_URL = "https://zhytomyr.example.ua/news/2024/05/14/vodogin/"
ROW_URL = "https://cherkasy.example.ua/2024/06/02/zoo-director"

PAGE = f"""<!DOCTYPE html>
<html lang="uk"><head><meta charset="utf-8">
<title>У Житомирі почали будувати новий водогін | Житомирські вісті</title>
<meta property="og:title" content="У Житомирі почали будувати новий водогін">
<meta property="og:site_name" content="Житомирські вісті">
<meta property="article:published_time" content="2024-05-14T09:00:00+03:00">
<meta name="author" content="Марія Гончар">
<link rel="canonical" href="{PAGE_URL}">
</head><body>
<nav><ul><li><a href="/">Головна</a></li><li><a href="/news/">Новини</a></li><li><a href="/sport/">Спорт</a></li></ul></nav>
<article>
<h1>У Житомирі почали будувати новий водогін</h1>
<p>Житомирська міська рада уклала договір на будівництво нового водогону від водозабору на річці Тетерів до мікрорайону Польова. Підрядником стала компанія «Тетерів-Гідробуд», яка виграла тендер у квітні.</p>
<p>Довжина нового водогону становитиме дев'ять кілометрів. Роботи мають завершити до кінця наступного року, повідомили в міській раді.</p>
<p>Читайте також: Як у Житомирі ремонтують дороги</p>
</article>
<footer>© 2024 Житомирські вісті. Усі права захищено.</footer>
</body></html>
"""

ROWS = [
    {
        "id": "ck-2024-0602",
        "headline": "Черкаський зоопарк отримав нового директора",
        "published": "2024-06-02T12:00:00+03:00",
        "body": (
            "Новим директором Черкаського зоопарку призначено Остапа Верещагу, який раніше працював "
            "ветеринаром у Київському зоопарку. Він пообіцяв до осені оновити вольєри для ведмедів "
            "і відкрити контактний куточок для дітей."
        ),
        "link": ROW_URL,
        "author": "Андрій Ткаченко",
        "category": "Місто",
    },
    {
        "id": "ck-2024-0603",
        "headline": "У Черкасах відремонтують набережну",
        "published": "2024-06-03",
        "body": "Міська рада Черкас виділила кошти на ремонт набережної Дніпра. Роботи почнуться влітку.",
        "link": "https://cherkasy.example.ua/2024/06/03/embankment",
    },
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, ner_uk, seed):
    root = tmp_path_factory.mktemp("corpus")
    seed.copy_to(root)
    for name in NER_FILES:
        shutil.copy(ner_uk / name, root / name)
    (root / "notes.md").write_text(
        "Ремонт бібліотеки у Вінниці\n\nУ Вінниці завершили ремонт обласної бібліотеки. Читальні зали знову відкриті.",
        encoding="utf-8",
    )
    (root / "pages").mkdir()
    (root / "pages" / "vodogin.html").write_text(PAGE, encoding="utf-8")
    (root / "pages" / "empty.html").write_text("<html><body></body></html>", encoding="utf-8")
    lines = [json.dumps(r, ensure_ascii=False) for r in ROWS]
    lines.insert(1, "{not json")
    (root / "cms.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "wire.csv").write_text(
        "title,date,text,url\n"
        "Рівне отримало нові тролейбуси,2024-04-20,До Рівного прибули десять нових тролейбусів.,https://rivne.example.ua/t\n"
        "Без тексту,2024-04-21,,https://rivne.example.ua/x\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture(scope="module")
def env(tmp_path_factory, corpus, model_cache, cli_env):
    return cli_env(corpus, tmp_path_factory.mktemp("index"), model_cache)


@pytest.fixture(scope="module")
def build(env, run_cli):
    proc = run_cli(env, "index", "--json", check=False)
    assert proc.returncode == 5, proc.stderr[-3000:]  # indexed, with skips reported
    return json.loads(proc.stdout)


def test_every_format_indexes_in_one_run_with_a_reason_for_each_skip(build):
    # seed + ner files + .md + the page + two export rows + one CSV row
    assert build["added"] == build["articles_total"] == 1 + len(NER_FILES) + 1 + 1 + 2 + 1
    skipped = {i["path"]: i["reason"] for i in build["issues"] if i["skipped"]}
    assert set(skipped) == {"pages/empty.html", "cms.jsonl:2", "wire.csv:3"}, build["issues"]
    assert "empty page" in skipped["pages/empty.html"]
    assert "JSON" in skipped["cms.jsonl:2"]
    assert "text" in skipped["wire.csv:3"]
    assert build["skipped"] == 3


def _answer(env, run_cli, question):
    return json.loads(run_cli(env, "ask", question, "--json").stdout)


def test_a_question_only_the_page_answers_cites_the_page_and_its_url(env, build, run_cli):
    out = _answer(env, run_cli, "Яка компанія стала підрядником будівництва нового водогону в Житомирі?")
    assert "Тетерів-Гідробуд" in out["answer"], out["answer"]
    cited = {c["article_id"]: c["url"] for c in out["citations"]}
    assert cited.get("pages/vodogin.html") == PAGE_URL, out["citations"]
    assert any("Тетерів-Гідробуд" in c["text"] for c in out["citations"])


def test_a_question_only_the_export_row_answers_cites_the_row_and_its_url(env, build, run_cli):
    out = _answer(env, run_cli, "Кого призначили новим директором Черкаського зоопарку?")
    assert "Верещаг" in out["answer"], out["answer"]
    cited = {c["article_id"]: c["url"] for c in out["citations"]}
    assert cited.get("cms.jsonl#ck-2024-0602") == ROW_URL, out["citations"]
    assert any("Верещаг" in c["text"] for c in out["citations"])
