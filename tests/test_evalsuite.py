"""The eval suite: reading the suite file, pooling rows by kind, the summary table."""

from __future__ import annotations

from pathlib import Path

import pytest

from litopys.core.errors import LitopysError
from litopys.evalsuite import (
    aggregate,
    curve_table,
    load_suite,
    merge_reports,
    summary_table,
    threshold_curve,
)

ROOT = Path(__file__).resolve().parents[1]


def _row(
    gold: str | None, *, correct=False, refused=False, citations=(), gold_citations=0, russian=False, top=None
) -> dict:
    return {
        "top_score": top,
        "gold": gold,
        "correct": correct,
        "refused": refused,
        "citations": list(citations),
        "gold_citations": gold_citations,
        "russian_letters": russian,
    }


def test_suite_file_is_read_and_filtered(tmp_path: Path) -> None:
    suite = tmp_path / "suite.toml"
    suite.write_text(
        '[[run]]\nname = "a"\nquestions = "q.jsonl"\ncorpus = "c"\n'
        '[[run]]\nname = "b"\nquestions = "u.jsonl"\ncorpus = "c"\nkind = "near_miss"\n'
    )
    assert [r.kind for r in load_suite(suite)] == ["answerable", "near_miss"]
    assert [r.name for r in load_suite(suite, ("b",))] == ["b"]
    with pytest.raises(LitopysError, match="no runs"):
        load_suite(suite, ("missing",))


def test_bad_kind_and_missing_keys_are_named(tmp_path: Path) -> None:
    suite = tmp_path / "suite.toml"
    suite.write_text('[[run]]\nname = "a"\nquestions = "q"\ncorpus = "c"\nkind = "maybe"\n')
    with pytest.raises(LitopysError, match="kind must be one of"):
        load_suite(suite)
    suite.write_text('[[run]]\nname = "a"\n')
    with pytest.raises(LitopysError, match="needs name, questions and corpus"):
        load_suite(suite)


def test_the_projects_suite_names_existing_question_files() -> None:
    runs = load_suite(ROOT / "eval" / "suite.toml")
    assert {r.kind for r in runs} == {"answerable", "offtopic", "near_miss"}
    for run in runs:
        if not str(run.questions).startswith("../"):  # ../shared sits beside the clone, not in it
            assert (ROOT / run.questions).is_file(), run.questions


def test_aggregates_pool_rows_by_kind() -> None:
    results = {
        "ans": {
            "kind": "answerable",
            "rows": [
                _row("a", correct=True, citations=["a"], gold_citations=1),
                _row("b", refused=True),
                _row(None, refused=True),
            ],
        },  # an answerable set's own unanswerable question
        "off": {"kind": "offtopic", "rows": [_row(None, refused=True), _row(None, refused=True)]},
        "near": {"kind": "near_miss", "rows": [_row(None, citations=["x"], russian=True), _row(None, refused=True)]},
    }
    agg = aggregate(results)
    assert agg["answerable_correct"] == 0.5
    assert agg["answerable_wrongly_refused"] == 0.5
    assert agg["unanswerable"] == 5
    assert agg["unanswerable_refused"] == 0.8
    assert agg["near_miss_refused"] == 0.5
    assert agg["citation_precision"] == 0.5  # the near miss's citation can never be to a gold article
    assert agg["russian_letters_answers"] == 1


def test_summary_table_has_a_row_per_run_and_the_aggregates() -> None:
    metrics = {
        "answers": {"correct_rate": 1.0},
        "refusals": {"answerable_refused_rate": 0.0, "unanswerable_refused_rate": 1.0},
        "citations": {"precision": 1.0, "total": 1.0},
        "language": {"russian_letters_answers": 0},
        "timing": {"median_s": 2.5},
    }
    result = {
        "runs": {"ans": {"kind": "answerable", "rows": [_row("a", correct=True)], **metrics}},
        "aggregate": {"answerable_correct": 1.0, "near_miss_refused": None},
    }
    table = summary_table(result)
    assert "| ans | answerable | 1 | 1.000 | 0.000 | 1.000 | 0 | 2.5 | - |" in table
    metrics["timing"] = {"median_s": 2.5, "median_answered_s": 3.0, "median_answered_without_checks_s": 2.99}
    table = summary_table({**result, "runs": {"ans": {**result["runs"]["ans"], **metrics}}})
    assert "| 0 | 2.5 | 3.00, 2.99 |" in table
    assert "| near_miss_refused | - |" in table


def test_reports_merge_and_a_higher_bar_is_applied_offline() -> None:
    answerable = {
        "kind": "answerable",
        "rows": [
            _row("a", correct=True, citations=["a"], gold_citations=1, top=1.2),
            _row("b", correct=True, citations=["b"], gold_citations=1, top=3.0),
        ],
    }
    offtopic = {"kind": "offtopic", "rows": [_row(None, citations=["x"], top=1.8), _row(None, refused=True, top=0.9)]}
    merged = merge_reports(
        [
            {"settings": {"retrieval": {"min_answer_score": 0.0}}, "runs": {"ans": answerable}},
            {"settings": {"retrieval": {"min_answer_score": 1.5}}, "runs": {"off": offtopic}},
        ]
    )
    assert merged["aggregate"]["answerable_correct"] == 1.0 and merged["aggregate"]["offtopic_refused"] == 0.5
    points = {p["bar"]: p for p in threshold_curve(merged["runs"], [1.0, 1.5, 2.0])}
    # The off-topic run was measured at 1.5: a lower bar cannot be judged on it.
    assert points[1.0]["runs"] == ["ans"] and points[1.0]["offtopic_refused"] is None
    assert points[1.5]["answerable_correct"] == 0.5 and points[1.5]["answerable_wrongly_refused"] == 0.5
    assert points[1.5]["offtopic_refused"] == 0.5
    assert points[2.0]["offtopic_refused"] == 1.0 and points[2.0]["citation_precision"] == 1.0
    table = curve_table(list(points.values()))
    assert table.count("\n") == 4 and "| 2.0 | 0.500 | 0.500 |" in table


def test_retrieval_only_with_a_suite_is_a_clear_error_not_an_llm_run(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from litopys.cli import app

    suite = tmp_path / "suite.toml"
    suite.write_text(
        '[[run]]\nname = "a"\nquestions = "q.jsonl"\ncorpus = "c"\nkind = "answerable"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["eval", "--suite", str(suite), "--retrieval-only"])
    assert result.exit_code == 2
    assert "--retrieval-only works with --questions" in result.output
