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
]


def mentions(corpus: Path, stem: str) -> list[str]:
    word = re.compile(rf"(?<!\w){re.escape(stem)}")
    return sorted(p.name for p in corpus.glob("*.txt") if word.search(p.read_text(encoding="utf-8")))


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
        rows.append({"question": question, "article": article, "answer_any": answer_any, "kind": "dated",
                     "dates": dates})  # fmt: skip
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} questions ({len(LISTS)} list, {len(DATED)} dated) -> {args.out}")


if __name__ == "__main__":
    main()
