"""`litopys eval --suite`: several question sets, each over its own corpus, reported as one table.

suite file (TOML) -> for each ``[[run]]``: index its corpus (reused while unchanged) ->
ask every question through the chat's code path -> per-run metrics -> one summary
table, with the aggregate rows the trust targets are stated in (all answerable,
all unanswerable, near misses, citation precision, Russian-only letters).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litopys.core.config import Settings
from litopys.core.errors import LitopysError
from litopys.rag.evaluation import Question

KINDS = ("answerable", "offtopic", "near_miss")


@dataclass(frozen=True)
class SuiteRun:
    """One question set over one corpus; ``kind`` says whether its questions have answers."""

    name: str
    questions: Path
    corpus: Path
    kind: str


def load_suite(path: Path, only: tuple[str, ...] = ()) -> list[SuiteRun]:
    """Read a suite file; relative paths are taken from the folder the command runs in."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LitopysError(f"cannot read suite file {path}: {exc}") from exc
    runs: list[SuiteRun] = []
    for n, item in enumerate(data.get("run", []), 1):
        try:
            run = SuiteRun(item["name"], Path(item["questions"]), Path(item["corpus"]), item.get("kind", "answerable"))
        except (KeyError, TypeError) as exc:
            raise LitopysError(f"{path}: run {n} needs name, questions and corpus ({exc})") from exc
        if run.kind not in KINDS:
            raise LitopysError(f"{path}: run {run.name!r}: kind must be one of {', '.join(KINDS)}")
        if not only or run.name in only:
            runs.append(run)
    if not runs:
        raise LitopysError(f"{path}: no runs to do" + (f" (asked for {', '.join(only)})" if only else ""))
    return runs


def index_dir_for(settings: Settings, corpus: Path) -> Path:
    """A scratch index per corpus under the cache, so suite runs never touch the user's index."""
    key = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:12]
    return Path(settings.cache_dir) / "eval" / f"{corpus.resolve().name}-{key}"


def run_suite(
    settings: Settings,
    runs: list[SuiteRun],
    questions: dict[str, list[Question]],
    *,
    gold_only: bool = False,
    on_result: Callable[[SuiteRun, dict], None] | None = None,
) -> dict[str, object]:
    """Answer ``questions[run.name]`` for every run; returns per-run metrics and rows, and the aggregates."""
    from litopys.index.embedder import load_embedder
    from litopys.rag.evaluation import answer_metrics
    from litopys.runtime import index_corpus, open_assistant

    embedder = load_embedder(settings.embedder)
    results: dict[str, dict[str, object]] = {}
    llm = None
    for run in runs:
        run_settings = settings.model_copy(
            update={"corpus_dir": run.corpus, "index_dir": index_dir_for(settings, run.corpus)}
        )
        index_corpus(run_settings, embedder)
        assistant = open_assistant(run_settings, embedder, llm=llm)
        llm = assistant.answerer.llm
        try:
            report = (lambda row, run=run: on_result(run, row)) if on_result else None
            metrics, rows = answer_metrics(assistant.answerer, questions[run.name], report, gold_only=gold_only)
        finally:
            assistant.close()
        results[run.name] = {
            "kind": run.kind,
            "min_answer_score": run_settings.retrieval.min_answer_score,
            "questions": str(run.questions),
            "corpus": str(run.corpus),
            **metrics,
            "rows": rows,
        }
    return summarized(results)


def summarized(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per-run results with the suite-wide figures added: the aggregates and what each withholding rule did."""
    return {"runs": results, "aggregate": aggregate(results), "withheld": withheld_by_reason(results)}


def merge_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Several ``eval --suite --json`` outputs (say, one per ``--only`` run) as one suite result.

    Each run keeps the no-evidence bar it was measured with, so a threshold curve knows
    which runs a higher bar can be applied to.
    """
    results: dict[str, dict[str, Any]] = {}
    for report in reports:
        bar = report.get("settings", {}).get("retrieval", {}).get("min_answer_score")
        for name, run in report["runs"].items():
            results[name] = {**run, "min_answer_score": run.get("min_answer_score", bar)}
    return summarized(results)


CURVE_KEYS = (
    "answerable_correct",
    "answerable_wrongly_refused",
    "unanswerable_refused",
    "near_miss_refused",
    "offtopic_refused",
    "citation_precision",
)


def threshold_curve(results: dict[str, dict[str, Any]], bars: list[float]) -> list[dict[str, Any]]:
    """The pooled figures had ``retrieval.min_answer_score`` been each of ``bars``, from the rows' top scores.

    A bar applies only to runs measured with that bar or a lower one (a run measured at 1.5
    cannot say what 1.0 would have answered); the runs each point covers are listed.
    """
    points = []
    for bar in bars:
        covered = {
            name: {**run, "rows": [_under_bar(row, bar) for row in run["rows"]]}
            for name, run in results.items()
            if (run.get("min_answer_score") or 0.0) <= bar
        }
        figures = aggregate(covered)
        points.append({"bar": bar, **{k: figures[k] for k in CURVE_KEYS}, "runs": sorted(covered)})
    return points


def _under_bar(row: dict[str, Any], bar: float) -> dict[str, Any]:
    """The row as the no-evidence bar ``bar`` would have left it (refused before the LLM when under it)."""
    if bar <= 0 or (row["top_score"] is not None and row["top_score"] >= bar):
        return row
    return {**row, "refused": True, "correct": False, "citations": [], "gold_citations": 0, "russian_letters": False}


def aggregate(results: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """The suite-wide figures: rates over all rows, pooled (not averaged per run).

    A row is answerable when it names a gold article, whatever its run's kind: an
    answerable set may hold a few questions without an answer, and refusing those is right.
    """
    rows_of: dict[str, list[dict]] = {k: [] for k in KINDS}
    for run in results.values():
        rows_of[run["kind"]].extend(run["rows"])
    every = [row for rows in rows_of.values() for row in rows]
    answerable = [r for r in every if r["gold"] is not None]
    unanswerable = [r for r in every if r["gold"] is None]
    citations = sum(len(r["citations"]) for r in every)
    return {
        "answerable": len(answerable),
        "answerable_correct": _rate(answerable, "correct"),
        "answerable_wrongly_refused": _rate(answerable, "refused"),
        "unanswerable": len(unanswerable),
        "unanswerable_refused": _rate(unanswerable, "refused"),
        "near_miss_refused": _rate(rows_of["near_miss"], "refused"),
        "offtopic_refused": _rate(rows_of["offtopic"], "refused"),
        "citation_precision": sum(r["gold_citations"] for r in every) / citations if citations else None,
        "russian_letters_answers": sum(1 for r in every if r["russian_letters"]),
    }


def withheld_by_reason(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per withholding rule: drafts withheld on answerable rows (and how many were correct), and on the rest."""
    out: dict[str, dict[str, int]] = {}
    for result in results.values():
        for row in result["rows"]:
            if not row.get("withheld_reason"):
                continue
            counts = out.setdefault(row["withheld_reason"], {"answerable": 0, "correct_lost": 0, "unanswerable": 0})
            counts["answerable" if row["gold"] is not None else "unanswerable"] += 1
            counts["correct_lost"] += bool(row["draft_correct"])
    return out


def _rate(rows: list[dict], key: str) -> float | None:
    return sum(1 for r in rows if r[key]) / len(rows) if rows else None


def summary_table(result: dict[str, Any]) -> str:
    """The suite as a small Markdown table (one row per run, then the aggregates)."""
    lines = [
        "| run | kind | n | correct & cited | refused | citation precision | Russian letters | median s "
        "| answered: median s, without the checks |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["runs"].items():
        answers, refusals, cites = r["answers"], r["refusals"], r["citations"]
        answerable = r["kind"] == "answerable"
        refused = refusals["answerable_refused_rate" if answerable else "unanswerable_refused_rate"]
        lines.append(
            f"| {name} | {r['kind']} | {len(r['rows'])} | {_fmt(answers['correct_rate']) if answerable else '-'} | "
            f"{_fmt(refused)} | {_fmt(cites['precision']) if cites['total'] else '-'} | "
            f"{r['language']['russian_letters_answers']} | {r['timing']['median_s']:.1f} | {_answered_time(r)} |"
        )
    lines.append("")
    lines.append("| aggregate | value |")
    lines.append("|---|---|")
    for key, value in result["aggregate"].items():
        lines.append(f"| {key} | {_fmt(value)} |")
    if result.get("withheld"):
        lines += ["", "| draft withheld because | answerable (of them correct) | unanswerable |", "|---|---|---|"]
        for reason, n in sorted(result["withheld"].items()):
            lines.append(f"| {reason} | {n['answerable']} ({n['correct_lost']}) | {n['unanswerable']} |")
    return "\n".join(lines)


def _answered_time(run: dict[str, Any]) -> str:
    timing = run["timing"]
    if "median_answered_s" not in timing:  # nothing answered, or a run saved before checks were timed
        return "-"
    return f"{timing['median_answered_s']:.2f}, {timing['median_answered_without_checks_s']:.2f}"


def curve_table(points: list[dict[str, Any]]) -> str:
    """The threshold curve as a Markdown table: bar -> the pooled rates."""
    lines = ["| min_answer_score | " + " | ".join(CURVE_KEYS) + " | runs |", "|---" * (len(CURVE_KEYS) + 2) + "|"]
    for p in points:
        cells = " | ".join(_fmt(p[k]) for k in CURVE_KEYS)
        lines.append(f"| {p['bar']} | {cells} | {', '.join(p['runs'])} |")
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
