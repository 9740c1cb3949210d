"""Build eval/offtopic.jsonl: UA-SQuAD questions the news corpora cannot answer.

The UA-SQuAD dev questions (../shared/eval/ua-squad/dev.jsonl, CC BY-SA 4.0)
are about Wikipedia topics (Normans, complexity theory, Southern California,
BSkyB, Victoria, Huguenots, steam engines). Asked against the ner-uk and news
corpora they have no answer there, so they make an off-topic unanswerable set:
the assistant should say the articles do not contain the answer.

What the script does:
  * keeps the questions written in Cyrillic (the dev file also holds five
    untranslated English questions; they have no Cyrillic letter at all);
  * drops the questions listed in EXCLUDED (see below for why);
  * writes each one as {"question", "article": null, "answer_any": [],
    "kind": "offtopic"}, in the order of the dev file.

The same file is run against both corpora (see eval/suite.toml).

Usage (from the repo root; standard library only):
    python eval/make_offtopic.py [--source PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "eval" / "ua-squad" / "dev.jsonl"
DEFAULT_OUT = REPO / "eval" / "offtopic.jsonl"

CYRILLIC = re.compile(r"[\u0400-\u04FF]")

# Questions one of the two corpora might actually answer, found by grepping
# ner-uk and news for each question's rarest words (see eval/README.md).
# Text must match the dev file exactly; the script fails if one is missing,
# so this list cannot silently go stale.
EXCLUDED: dict[str, str] = {
    "Куди втекли монахи?": (
        "news 0798.txt: Buddhist monks driven out of Luhansk region fled to "
        "the Carpathians ('привели ченців-утікачів у Карпати')"
    ),
    "До якого узбережжя прилягає Південна Каліфорнія?": (
        "news 0332.txt: 'біля берегів Каліфорнії ... поблизу тихоокеанського "
        "узбережжя США' contains the reference answer 'Тихоокеанського'"
    ),
    "Який клімат панує в Південній Каліфорнії?": (
        "news 0811.txt: 'Каліфорнії з її вічним літом, теплим океаном' (Los Angeles, Santa Barbara); arguably an answer"
    ),
    "Як називається система приміських залізничних перевезень?": (
        "generic wording; news 0128.txt names the 'Південна приміська "
        "пасажирська компанія' and its electric trains; borderline"
    ),
}


def is_cyrillic(question: str) -> bool:
    """True for a question written in Cyrillic (has at least one Cyrillic letter)."""
    return bool(CYRILLIC.search(question))


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def offtopic_items(rows: list[dict]) -> tuple[list[dict], int, int]:
    """Return (items, non-Cyrillic count, excluded count)."""
    texts = {r["question"].strip() for r in rows}
    missing = [q for q in EXCLUDED if q not in texts]
    if missing:
        raise SystemExit(f"EXCLUDED lists questions not in the source: {missing}")
    items, latin, excluded = [], 0, 0
    for row in rows:
        question = row["question"].strip()
        if not is_cyrillic(question):
            latin += 1
            continue
        if question in EXCLUDED:
            excluded += 1
            continue
        items.append({"question": question, "article": None, "answer_any": [], "kind": "offtopic"})
    return items, latin, excluded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="UA-SQuAD dev.jsonl")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSON-lines file")
    args = parser.parse_args(argv)

    rows = load(args.source)
    items, latin, excluded = offtopic_items(rows)
    with args.out.open("w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(
        f"{len(rows)} source questions: {latin} not Cyrillic, {excluded} excluded, {len(items)} written to {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
