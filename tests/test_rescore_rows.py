"""eval/rescore_rows.py: saved eval rows scored again against a corrected question file."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "eval" / "rescore_rows.py"


def _rescore():
    spec = importlib.util.spec_from_file_location("rescore_rows", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.rescore


def _write(path: Path, lines: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    return path


def test_rows_are_scored_with_the_files_current_answer_strings(tmp_path):
    q = "Скільки людей загинуло?"
    questions = _write(tmp_path / "q.jsonl", [{"question": q, "article": "0297.txt", "answer_any": ["двоє", "дві"]}])
    row = {"question": q, "gold": "0297.txt", "kind": "dated", "refused": False, "seconds": 3.0}
    rows = _write(
        tmp_path / "rows.jsonl",
        [
            {**row, "answer": "Дві люди загинули [1].", "citations": ["news/0297.txt"], "cited_texts": ["…"]},
            {**row, "answer": "Дві людини [1].", "citations": ["0033.txt"], "cited_texts": ["загинули дві людини"]},
            {**row, "answer": "Троє [1].", "citations": ["0297.txt"], "cited_texts": ["троє"]},
            {**row, "question": "Інше запитання?", "answer": "Дві.", "citations": []},  # not in the file: skipped
        ],
    )
    assert _rescore()(questions, rows)["dated"] == {
        "questions": 3,
        "answerable": 3,
        "correct": 1,
        "correct_any_source": 2,
        "refused": 0,
        "median_s": 3.0,
    }
