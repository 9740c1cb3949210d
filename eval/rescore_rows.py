"""Score saved eval rows (`litopys eval --rows`) again against the answer strings of a question file.

When a set's answer strings are corrected (a form the model rightly used, "дві" beside "двоє"),
rows of earlier runs can be compared with new ones without asking the model again. Prints, per
kind, correct and cited (an answer string in the answer, the gold article cited) and correct from
any source (an answer string in the answer, and in a cited passage or the gold article cited), as
`rag.evaluation` scores them; rows of questions the file no longer holds are skipped.

Usage: python eval/rescore_rows.py eval/news_kinds.jsonl ROWS.jsonl [ROWS.jsonl ...]
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from litopys.rag.evaluation import has_fact, load_questions, same_article


def rescore(questions: Path, rows_path: Path) -> dict[str, dict[str, float]]:
    asked = {q.question: q for q in load_questions(questions)}
    rows = [json.loads(line) for line in rows_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r["question"] in asked]
    out: dict[str, dict[str, float]] = {}
    for kind in sorted({r.get("kind", "factoid") for r in rows}):
        mine = [r for r in rows if r.get("kind", "factoid") == kind]
        gold = [r for r in mine if r.get("gold")]
        correct = sourced = 0
        for r in gold:
            q = asked[r["question"]]
            has = not r["refused"] and has_fact(q, r["answer"])
            cites = any(same_article(c, r["gold"]) for c in r["citations"])
            holds = any(has_fact(q, t) for t in r.get("cited_texts", []))
            correct += has and cites
            sourced += has and (cites or holds)
        out[kind] = {
            "questions": len(mine),
            "answerable": len(gold),
            "correct": correct,
            "correct_any_source": sourced,
            "refused": sum(r["refused"] for r in mine),
            "median_s": statistics.median(r["seconds"] for r in mine),
        }
    return out


def main() -> None:
    questions, *runs = (Path(a) for a in sys.argv[1:])
    for run in runs:
        print(run.name, json.dumps(rescore(questions, run), ensure_ascii=False))


if __name__ == "__main__":
    main()
