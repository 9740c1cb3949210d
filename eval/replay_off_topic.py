"""Replay the off_topic rule over saved eval reports, before a new LLM run confirms it.

Run from the repo root: `.venv/bin/python eval/replay_off_topic.py REPORT.json [...]`,
where each report is the output of `litopys eval --suite eval/suite.toml --json`.
Every draft the report shows as an answer (not refused, not withheld) is judged as
`rag.withhold.judge` would: the question's names against its cited passages, then
against the cited articles read whole from the run's corpus (eval/suite.toml). It
prints what the rule would withhold, and per run how many correct and wrong answers.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from litopys.evalsuite import load_suite
from litopys.rag.withhold import names_absent


def shown_rows(reports: list[Path]) -> list[dict]:
    """The shown answers of the reports, one per (question, answer), each with its run's name."""
    seen: dict[tuple[str, str], dict] = {}
    for report in reports:
        for name, run in json.loads(report.read_text(encoding="utf-8"))["runs"].items():
            for row in run.get("rows", []):
                if not (row.get("refused") or row.get("withheld")) and "cited_texts" in row:
                    seen[(row["question"], row["answer"])] = dict(row, run=name)
    return list(seen.values())


def article_texts(corpus: Path, ids: list[str]) -> list[str]:
    return [(corpus / i).read_text(encoding="utf-8") for i in ids if (corpus / i).is_file()]


def main(reports: list[Path]) -> None:
    corpora = {run.name: run.corpus for run in load_suite(Path("eval/suite.toml"))}
    counts: Counter[tuple[str, str]] = Counter()
    for row in shown_rows(reports):
        absent = names_absent(row["question"], row["cited_texts"])
        if absent:
            absent = names_absent(row["question"], article_texts(corpora[row["run"]], row["citations"]))
        verdict = "correct" if row["correct"] else "wrong"
        counts[(row["run"], f"{verdict} {'withheld' if absent else 'kept'}")] += 1
        if absent:
            print(f"{verdict.upper():8} {row['run']}: {row['question']} | {row['answer'][:70]} | {', '.join(absent)}")
    for (run, what), n in sorted(counts.items()):
        print(f"{run:20} {what:18} {n}")


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]])
