"""Build eval/news_kinds.jsonl: "which articles?" and dated questions over ../shared/corpus/news.

The questions below are written by hand from the articles (their titles and bodies).
For a ``list`` question the expected articles are not picked by hand: they are every
article whose text has a word starting with the name's stem (``STEM`` below, matched at a
word start, case-sensitive), so the set is exactly "the articles that mention X". Only
names found in 1 to 10 articles are used, so recall@10 can reach 1.
For a ``dated`` question, ``dates`` is the range its date expression means (relative
dates count from the newest article, 2024-11-14: run the eval with
``LITOPYS_RETRIEVAL__RELATIVE_DATES_FROM=newest_article``), and ``article`` /
``answer_any`` name the article it was written from and words of its answer.

Usage (from the repo root; standard library only):
    python eval/make_news_kinds.py [--corpus DIR] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus" / "news" / "articles"

# (question, stem of the name as the articles write it)
LISTS = [
    ("Які статті пишуть про Умєрова?", "Умєров"),
    ("Де згадується Буданов?", "Буданов"),
    ("У яких статтях згадується Сирський?", "Сирськ"),
    ("Які статті згадують Макрона?", "Макрон"),
    ("Which articles mention Стармер?", "Стармер"),
    ("Де йдеться про Орбана?", "Орбан"),
    ("Які новини згадують Пєскова?", "Пєсков"),
    ("Знайди статті про Шмигаля", "Шмигал"),
    ("У яких статтях згадується Єрмак?", "Єрмак"),
    ("Де пишуть про Залужного?", "Залужн"),
    ("Які статті згадують Кличка?", "Кличк"),
    ("Покажи статті, де згадується Рютте", "Рютте"),
    ("Які матеріали пишуть про Блінкена?", "Блінкен"),
    ("Where is Рубіо mentioned?", "Рубіо"),
    ("Які статті пишуть про Нафтогаз?", "Нафтогаз"),
    ("Де згадується Вовчанськ?", "Вовчанськ"),
    ("Які статті пишуть про Гегсета?", "Гегсет"),
]

# (question, [from, to], article it was written from, answer strings)
DATED = [
    (
        "Що повідомляли 14 листопада 2024 року про схеми для ухилянтів?",
        ["2024-11-14", "2024-11-14"],
        "0037.txt",
        ["шість", "6"],
    ),
    (
        "Кого Трамп 13 листопада 2024 року назвав майбутнім держсекретарем?",
        ["2024-11-13", "2024-11-13"],
        "0185.txt",
        ["Рубіо"],
    ),
    ("На яку суму 13.11.2024 підписали угоди зі Світовим банком?", ["2024-11-13", "2024-11-13"], "0222.txt", ["750"]),
    ("Що 13 листопада 2024 повідомили про завод тротилу в США?", ["2024-11-13", "2024-11-13"], "0370.txt", ["тротил"]),
    (
        "Що писали у листопаді 2024 року про графіки відключень у Києві?",
        ["2024-11-01", "2024-11-30"],
        "0481.txt",
        ["відключ"],
    ),
    (
        "Що сталося з теплопостачанням у Шостці 13 листопада 2024?",
        ["2024-11-13", "2024-11-13"],
        "0518.txt",
        ["теплопостачання"],
    ),
    (
        "What did the Pentagon worry about on November 14, 2024?",
        ["2024-11-14", "2024-11-14"],
        "0111.txt",
        ["Hegseth", "Гегсет"],
    ),
    (
        "Що писали з 13 по 14 листопада 2024 року про просування ворога біля Курахового?",
        ["2024-11-13", "2024-11-14"],
        "0074.txt",
        ["Курахов"],
    ),
    (
        "Про що домовлялася Україна з Британією щодо студентів 13 листопада 2024 року?",
        ["2024-11-13", "2024-11-13"],
        "0333.txt",
        ["5-7 тисяч", "тисяч"],
    ),
    ("Що анонсувало Міноборони 14.11.2024?", ["2024-11-14", "2024-11-14"], "0148.txt", ["перевір"]),
    ("Які угоди вчора підписали зі Світовим банком?", ["2024-11-13", "2024-11-13"], "0222.txt", ["750"]),
    ("Які новини про схеми ухилянтів з'явилися сьогодні?", ["2024-11-14", "2024-11-14"], "0037.txt", ["шість", "6"]),
    # Written for the second set (issue 12, item 6): one fact of one article, asked with its date.
    (
        "Яку суму OMV відсудила в Газпрому, за повідомленнями 14 листопада 2024 року?",
        ["2024-11-14", "2024-11-14"],
        "0052.txt",
        ["230"],
    ),
    (
        "Скільки людей загинуло в Китаї 13 листопада 2024 року, де водій в'їхав у натовп?",
        ["2024-11-13", "2024-11-13"],
        "0512.txt",
        ["35"],
    ),
    (
        "Кого 13.11.2024 Трамп обрав на посаду секретаря Департаменту внутрішньої безпеки?",
        ["2024-11-13", "2024-11-13"],
        "0495.txt",
        ["Ноем", "Ноєм"],
    ),
    (
        "Скільки безпілотників Росія запустила в ніч на 14 листопада 2024 року?",
        ["2024-11-14", "2024-11-14"],
        "0118.txt",
        ["59"],
    ),
    (
        "Скільки населених пунктів Полтавщини знеструмила негода 14 листопада 2024 року?",
        ["2024-11-14", "2024-11-14"],
        "0079.txt",
        ["43"],
    ),
    (
        "З ким, як писали 13 листопада 2024 року, Г'ю Джекман зраджував дружину?",
        ["2024-11-13", "2024-11-13"],
        "0296.txt",
        ["Фостер"],
    ),
    (
        "Скільки кілограмів тканин видалили студентці з Бразилії, за новиною від 13.11.2024?",
        ["2024-11-13", "2024-11-13"],
        "0369.txt",
        ["10"],
    ),
    (
        "Яку суму Укрексімбанк надав Стрийській міськраді 13 листопада 2024 року?",
        ["2024-11-13", "2024-11-13"],
        "0267.txt",
        ["850"],
    ),
    (
        "Що 14 листопада 2024 року писали про обвалення мосту в окупованому Криму?",
        ["2024-11-14", "2024-11-14"],
        "0128.txt",
        ["Джанкой", "перевезен"],
    ),
    (
        "Скільки людей загинуло внаслідок вибуху на заводі в США 13 листопада 2024 року?",
        ["2024-11-13", "2024-11-13"],
        "0297.txt",
        ["двоє", "2", "два"],
    ),
    (
        "Скільки рятувальників гасили пожежу в Полтавській області, за новиною від 14.11.2024?",
        ["2024-11-14", "2024-11-14"],
        "0056.txt",
        ["100"],
    ),
    (
        "Скільки дітей загинуло в пожежі під Харковом, про яку повідомили 14 листопада 2024 року?",
        ["2024-11-14", "2024-11-14"],
        "0053.txt",
        ["чотири", "4"],
    ),
    (
        "Which actress received the Order of the British Empire on November 14, 2024?",
        ["2024-11-14", "2024-11-14"],
        "0103.txt",
        ["Стонтон", "Staunton"],
    ),
    (
        "How much Amazon stock had Bezos sold, as reported on 13 November 2024?",
        ["2024-11-13", "2024-11-13"],
        "0189.txt",
        ["2,7", "2.7", "1,25", "1.25"],
    ),
    ("Скільки безпілотників збила ППО сьогодні вночі?", ["2024-11-14", "2024-11-14"], "0118.txt", ["21"]),
    (
        "Що вчора сталося з вантажівкою з військовими у Фінляндії?",
        ["2024-11-13", "2024-11-13"],
        "0290.txt",
        ["перекину", "з'їхала"],
    ),
    (
        "Що писали за останні два дні про ціни на картоплю?",
        ["2024-11-13", "2024-11-14"],
        "0496.txt",
        ["вдвічі", "удвічі", "31,87", "31.87"],
    ),
    (
        "Що писали з 13 по 14 листопада 2024 року про відкликання пікапів Cybertruck?",
        ["2024-11-13", "2024-11-14"],
        "0278.txt",
        ["2431", "шост", "вшосте"],
    ),
    (
        "Що повідомили 13-го листопада 2024 року про заборону виїзду призовникам у Москві?",
        ["2024-11-13", "2024-11-13"],
        "0367.txt",
        ["обмежен", "реєстр", "виїзд"],
    ),
    (
        "Про що попередила водіїв поліція Києва 14 листопада 2024 року?",
        ["2024-11-14", "2024-11-14"],
        "0109.txt",
        ["погод", "ПДР"],
    ),
    (
        "What was reported in November 2024 about the Tesla Cybertruck recall?",
        ["2024-11-01", "2024-11-30"],
        "0278.txt",
        ["2431", "2,431", "sixth", "шост"],
    ),
    # No article is dated then: the right answer says so (``article`` null: counted as unanswerable).
    ("Що писали позавчора про обстріли Харкова?", ["2024-11-12", "2024-11-12"], None, []),
    ("Що повідомляли 10 листопада 2024 року про Укренерго?", ["2024-11-10", "2024-11-10"], None, []),
]

# (question, article it was written from: the newest article on the subject, answer strings).
# The subject is in articles of both 2024-11-13 and 2024-11-14; the 14th has one article on it.
LATEST = [
    ("Які останні новини про дозвіл США на удари вглиб Росії?", "0114.txt", ["обережн"]),
    ("Що нового про Піта Хегсета?", "0111.txt", ["стурбован", "скептич", "стривожен"]),
    ("Які останні новини про Курахове?", "0074.txt", ["Іллінк", "DeepState", "заперечу"]),
    ("Які останні новини від Укренерго?", "0079.txt", ["43", "Полтав", "споживання"]),
    ("Які останні новини про сніг в Україні?", "0097.txt", ["Харків", "засипа"]),
    ("Які останні новини про перевірки установ, що проводять ВЛК?", "0148.txt", ["перевір", "Лазуткін"]),
    ("Що нового про лідера республіканців у Сенаті США?", "0169.txt", ["Тун"]),
    ("Які останні новини про Палату представників США?", "0171.txt", ["більшість", "218"]),
    ("Які останні новини про кандидата на посаду генпрокурора США?", "0160.txt", ["Ґетц", "Гетц", "Гейтц"]),
    ("Що нового про президента Польщі Дуду?", "0115.txt", ["МіГ"]),
    ("Які останні новини про Довбика?", "0025.txt", ["Globe Soccer", "номінов", "премі"]),
    ("Які останні новини з карт ISW?", "0147.txt", ["Часов", "Гуляйпол", "чотирьох"]),
    ("Які останні новини про атаки шахедів?", "0118.txt", ["59", "21"]),
    ("What is the latest on Marine Le Pen?", "0154.txt", ["п'ять", "п’ять", "5", "five"]),
    ("What's new about the early elections in Germany?", "0036.txt", ["лютого", "February", "23"]),
]

# (question, pattern of the titles of the articles it should cite: every dated article whose
# title matches is expected, so the set is "the articles about X", not a hand-picked few).
OVERVIEWS = [
    ("Що відомо про справу нардепа Одарченка?", r"Одарченк"),
    ("Що відомо про реванш Усик – Ф'юрі?", r"Усик\s*[-–]\s*Ф"),
    ("Що відомо про бій Тайсона з Полом?", r"Тайсон.*Пол|Пол.*Тайсон"),
    (
        "Що відомо про кандидатуру Піта Хегсета на посаду глави Пентагону?",
        r"Хегсет|Геґсет|глави Пентагона|глави відомства|міністром оборони США",
    ),
    ("Що відомо про Тулсі Габбард?", r"Габбард|Ґаббард|голови Нацрозвідки"),
    ("Що відомо про призначення Марка Рубіо держсекретарем?", r"(?i)держсекретар(?!ем)|Рубіо"),
    ("Як розвивалася ситуація з дозволом США на удари вглиб Росії?", r"оптимізм"),
    ("Що відомо про переговори Сибіги з Блінкеном?", r"Сибіга і Блінкен|Сибіга перед зустріччю з Блінкеном"),
    ("Що відомо про зустріч Рютте і Блінкена?", r"Рютте і Блінкен|генсеком НАТО"),
    ("Як розвивалася ситуація з цінами на газ у Європі?", r"газ у Європі|Газпром"),
    ("Що відомо про сто днів Курської операції?", r"сто днів Курської"),
    ("Що відомо про зустріч Байдена і Сі Цзіньпіна?", r"Сі Цзіньпін|Байден і Сі"),
    ("Як розвивалася ситуація з теплопостачанням у Шостці?", r"Шостк|Шостц"),
    ("Що відомо про відсторонення судді Павла Вовка?", r"Вовка"),
    ("Що відомо про чистки в Пентагоні?", r"чистки"),
    ("Що відомо про дострокові вибори в Німеччині?", r"достроков\w* вибор|вотум довіри"),
    ("Що відомо про новий департамент Ілона Маска в адміністрації Трампа?", r"Маск"),
    ("Що відомо про чутки, що Україна може створити ядерну бомбу?", r"(?:створити|розробк\w*|розробити) ядерн"),
    ("Що відомо про контракт Словаччини на азербайджанський газ?", r"азербайджанськ|Азербайдж"),
    ("Що відомо про грант США на 1,35 млрд доларів?", r"1,35"),
    ("Що відомо про вирок за витік секретних даних Пентагону?", r"витік|витоку|Discord"),
    ("Що відомо про справу про вбивство Фаріон?", r"Фаріон"),
    ("What is known about Finland's aid for the education reform in Ukraine?", r"Фінляндія виділила"),
    ("What happened with the price of Bitcoin?", r"Bitcoin"),
    ("What happened with the Booker Prize 2024?", r"Букерівськ"),
    ("Як розвивалася ситуація з відключеннями світла для бізнесу?", r"(?i)для бізнес"),
]


def mentions(corpus: Path, stem: str) -> list[str]:
    word = re.compile(rf"(?<!\w){re.escape(stem)}")
    return sorted(p.name for p in corpus.glob("*.txt") if word.search(p.read_text(encoding="utf-8")))


def dated_titles(corpus: Path) -> dict[str, str]:
    """File name -> title of every article whose first line is ``date YYYY-MM-DD <title>``."""
    out = {}
    for path in sorted(corpus.glob("*.txt")):
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        m = re.match(r"date \d{4}-\d{2}-\d{2} (.*)", first)
        if m:
            out[path.name] = m.group(1)
    return out


def titled(titles: dict[str, str], pattern: str) -> list[str]:
    """The dated articles whose title matches ``pattern``."""
    return [name for name, title in titles.items() if re.search(pattern, title)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, default=REPO / "eval" / "news_kinds.jsonl")
    args = parser.parse_args()
    rows = []
    for question, stem in LISTS:
        found = mentions(args.corpus, stem)
        if not 1 <= len(found) <= 10:
            raise SystemExit(f"{stem!r} is in {len(found)} articles; pick a name found in 1 to 10")
        rows.append({"question": question, "article": None, "answer_any": [], "kind": "list", "articles": found})
    for question, dates, article, answer_any in DATED:
        rows.append(
            {"question": question, "article": article, "answer_any": answer_any, "kind": "dated", "dates": dates}
        )
    titles = dated_titles(args.corpus)
    for question, article, answer_any in LATEST:
        if article not in titles:
            raise SystemExit(f"{article} of {question!r} is not a dated article")
        rows.append({"question": question, "article": article, "answer_any": answer_any, "kind": "latest"})
    for question, pattern in OVERVIEWS:
        found = titled(titles, pattern)
        if not 2 <= len(found) <= 5:
            raise SystemExit(f"{pattern!r} matches {len(found)} titles ({found}); an overview needs 2 to 5")
        rows.append({"question": question, "article": None, "answer_any": [], "kind": "overview", "articles": found})
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(
        f"{len(rows)} questions ({len(LISTS)} list, {len(DATED)} dated, {len(LATEST)} latest, "
        f"{len(OVERVIEWS)} overview) -> {args.out}"
    )


if __name__ == "__main__":
    main()
