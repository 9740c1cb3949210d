"""Right or silent, on real model output: drafts the bundled 1.5B model really writes are withheld.

Near-miss questions (eval/near_miss_ner_uk.jsonl) over a small real corpus: each names a firm or
person an article mentions and asks for a fact no article holds. The model's drafts for these
were seen to be an echo, a non-time for "коли", and no person's name for "як звати"; for two
off-topic questions, drafts from articles that name nothing the question names; and for two more,
the worked example's figure or name.
"""

from __future__ import annotations

import json
import shutil

import pytest

from litopys.rag.prompt import REFUSAL_UK

pytestmark = pytest.mark.slow

# The articles the near misses are about, and a few others from the same outlets.
FILES = [f"{n:04d}.txt" for n in (16, 25, 89, 123, 135, 15, 342, 1, 386, 368, 143, 94)]
WITHHELD = {
    "Коли Владислава Виноградова призначили керівником Чернігівського відділення АМКУ?": "wrong_type",
    "Хто є директором ТОВ «ЮТЕМ-Інжиніринг», яке будуватиме комплекс переробки відходів на Рівненській АЕС?": "echo",
    "Як звати головного лікаря трускавецького санаторію «Едельвейс»?": "wrong_type",
    # Off-topic UA-SQuAD questions: the drafts cite articles that mention neither name.
    "Хто був братом Маргарет?": "off_topic",
    "Який вид спорту стає дедалі популярнішим на півдні Каліфорнії?": "off_topic",
    # The prompt's worked example's figure and name, copied into drafts; no cited passage holds them.
    "Скільки коштувало зняти фільм «Межа очікування»?": "unsupported",
    "Як звати голову екологічної комісії Миколаївської міськради, яка відмовила «Західній нафтовій групі»?": "unsupported",
    # An invented place: "Кирило Дмитрієв став новим мером Львова [1]." cites the seed, which has no Lviv.
    "Що заявив Кирило Дмитрієв?": "unsupported",
    # A year the cited passages lack: "Тетяна Коб [3]." from an article on a regional boxing cup.
    "Хто виграв чемпіонат світу з футболу 2018 року?": "question_numbers",
}
# Role questions (eval/roles_ner_uk.jsonl) the model answers right: the rules must let them through.
RIGHT = {
    "Хто режисер фільму «Межа очікування» про родину Хом'яків і Андрія Щекуна?": ("ner/0342.txt", "Цехмістренко"),
    "Хто був власником більшої частини статутного капіталу та керівником ТОВ «Спецмебліпостач»?": (
        "ner/0016.txt",
        "Шутилін",
    ),
}


@pytest.fixture(scope="module")
def env(tmp_path_factory, ner_uk, seed, model_cache, cli_env):
    return _env(tmp_path_factory.mktemp("corpus"), tmp_path_factory.mktemp("index"), ner_uk, seed, model_cache, cli_env)


def _env(corpus, index_dir, ner_uk, seed, model_cache, cli_env) -> dict[str, str]:
    """The seed and the ner-uk FILES in ``corpus``, for a `litopys` subprocess indexing into ``index_dir``."""
    seed.copy_to(corpus)
    (corpus / "ner").mkdir()
    for name in FILES:
        shutil.copy(ner_uk / name, corpus / "ner" / name)
    # The no-evidence bar is off: these questions must reach the model, whose drafts are under test.
    return {**cli_env(corpus, index_dir, model_cache), "LITOPYS_RETRIEVAL__MIN_ANSWER_SCORE": "0"}


def test_drafts_that_are_not_answers_never_reach_the_user(env, seed, tmp_path, run_cli):
    questions = tmp_path / "q.jsonl"
    rows = [{"question": q, "article": None, "answer_any": []} for q in WITHHELD]
    rows.append({"question": seed.question, "article": seed.article_id, "answer_any": ["Дмитрієв"]})
    rows += [{"question": q, "article": a, "answer_any": [name]} for q, (a, name) in RIGHT.items()]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    out = json.loads(run_cli(env, "eval", "--questions", str(questions), "--json").stdout)
    by_question = {r["question"]: r for r in out["rows"]}
    for question, reason in WITHHELD.items():
        row = by_question[question]
        assert row["refused"] and row["answer"] == REFUSAL_UK and not row["citations"], row
        assert row["withheld_reason"] == reason and row["withheld"], row
    # The rules cost the right answers nothing.
    for question in [seed.question, *RIGHT]:
        right = by_question[question]
        assert right["correct"] and right["withheld"] is None, right


def test_ask_shows_the_refusal_and_keeps_the_draft_inspectable(env, run_cli):
    question = "Як звати головного лікаря трускавецького санаторію «Едельвейс»?"
    out = json.loads(run_cli(env, "ask", question, "--json").stdout)
    assert out["refused"] and out["answer"] == REFUSAL_UK and out["citations"] == []
    # "Як звати" answered without a person's name.
    assert out["withheld_reason"] == "wrong_type" and out["withheld_missing"] == ["name"], out
    assert out["withheld_citations"] and out["withheld_citations"][0]["article_id"] == "ner/0135.txt"
    text = run_cli(env, "ask", question).stdout
    assert "WITHHELD" in text and out["withheld"] in text and text.rstrip().endswith(REFUSAL_UK)


PRIVAT = """date 2016-12-19 Уряд націоналізував ПриватБанк
Уряд оголосив про націоналізацію ПриватБанку в грудні 2016 року. Рішення ухвалили після звернення власників банку до Національного банку.
Вкладники можуть користуватися рахунками як і раніше: банк працює у звичайному режимі, повідомили в Міністерстві фінансів.
"""


REORG = """date 2019-05-14 Мерія реорганізує комунальне підприємство
Міський голова підписав розпорядження про реорганізацію комунального підприємства «Житлосервіс». Його об'єднають із «Теплоенерго» до кінця року.
Працівників підприємства не звільнять, запевнили в міськраді. Модернізацію котелень профінансують із міського бюджету.
"""


def test_a_russian_spelling_of_the_model_takes_the_passages_spelling(
    tmp_path, ner_uk, seed, model_cache, cli_env, run_cli
):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    env = _env(corpus, tmp_path / "index", ner_uk, seed, model_cache, cli_env)
    (corpus / "privat.txt").write_text(PRIVAT, encoding="utf-8")
    (corpus / "reorg.txt").write_text(REORG, encoding="utf-8")
    run_cli(env, "index", "--json")
    question = "Що оголосив уряд щодо ПриватБанку в грудні 2016 року? Відповідай одним словом."
    proc = run_cli(env, "ask", question, "--json")
    out = json.loads(proc.stdout)
    # The model writes the Russian spelling ("Национал…"); the answer carries the passage's.
    assert "respelled" in proc.stderr and "'Национал" in proc.stderr, (
        out["answer"],
        out["withheld"],
        proc.stderr[-2000:],
    )
    assert not out["refused"] and "Націоналізац" in out["answer"], out
    assert "Национал" not in out["answer"] and [c["article_id"] for c in out["citations"]] == ["privat.txt"], out
