"""Measure retrieval and answers on a question file (JSON lines).

Each line: ``question``, ``article`` (id of the article that answers it, or
null when the corpus does not contain the answer), ``answer_any`` (the answer
is right if it contains any of these strings, case-insensitive). Questions go
through the same code path as the chat (``Answerer.stream``).

A line may also carry ``kind`` (``factoid`` by default, ``dated``, ``latest``, ``overview``,
``list``; any other names a hard set's factoids, e.g. ``offtopic``), ``dates`` (``[from, to]``: the range the question's dates should read as) and
``articles`` (the articles a list should hold, or an overview should cite). Every kind is
reported on its own (``kinds``): how often the question took its kind's path, the date filter
read against ``dates``, correct-and-cited and median seconds, for lists recall@10 of
``articles``, and for overviews the recall of ``articles`` among the citations and whether
the timeline's lines run oldest first; the answer metrics count the questions answered by the LLM.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from litopys.core.errors import LitopysError
from litopys.core.measure import percentile
from litopys.rag.spelling import RUSSIAN_ONLY

if TYPE_CHECKING:
    from litopys.rag.answer import Answer
    from litopys.rag.citations import Citation

RECALL_AT = (1, 5, 10)


KINDS = ("factoid", "dated", "latest", "overview", "list")
LIST_AT = 10
# The answer paths (rag.kinds) each kind of question may take: an open dated question ("Що писали
# 14 листопада про X?") is an overview of that day's reports, a dated fact question a factoid.
KIND_PATHS = {
    "list": ("list",),
    "overview": ("overview",),
    "dated": ("factoid", "overview"),
    "latest": ("factoid", "overview"),
}


def kind_paths(kind: str) -> tuple[str, ...]:
    """The answer paths a question of ``kind`` may take (any other kind: the factoid path)."""
    return KIND_PATHS.get(kind, ("factoid",))


@dataclass(frozen=True)
class Question:
    question: str
    article: str | None
    answer_any: tuple[str, ...]
    kind: str = "factoid"
    dates: tuple[str, str] | None = None
    articles: tuple[str, ...] = ()

    @classmethod
    def parse(cls, obj: dict) -> Question:
        kind = obj.get("kind") or "factoid"  # the hard sets' own kinds (near_miss, offtopic, role) are factoids too
        if not isinstance(kind, str):
            raise ValueError(f"kind must be a string, not {kind!r}")
        dates = obj.get("dates")
        if dates is not None and (len(dates) != 2 or not all(isinstance(d, str) for d in dates)):
            raise ValueError(f"dates must be [from, to], not {dates!r}")
        return cls(
            obj["question"],
            obj.get("article"),
            tuple(obj.get("answer_any") or ()),
            kind,
            (dates[0], dates[1]) if dates else None,
            tuple(obj.get("articles") or ()),
        )


def load_questions(path: Path, limit: int | None = None) -> list[Question]:
    """Read a question file; a malformed line is an error naming the line."""
    out: list[Question] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise LitopysError(f"cannot read question file {path}: {exc.strerror or exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            out.append(Question.parse(obj))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise LitopysError(f"{path}:{n}: not a question object ({exc})") from exc
    return out[:limit] if limit else out


def article_rank(article_ids: Iterable[str], gold: str) -> int | None:
    seen: list[str] = []
    for aid in article_ids:
        if aid not in seen:
            seen.append(aid)
        if aid == gold:
            return len(seen)
    return None


def _basename(article_id: str) -> str:
    return article_id.rsplit("/", 1)[-1]


def same_article(article_id: str, gold: str) -> bool:
    """Whether an indexed ``article_id`` is the set's ``gold`` article."""
    # Gold ids in question files are file names; indexed ids are paths relative to the corpus.
    return _basename(article_id) == _basename(gold)


def retrieval_metrics(retriever, questions: list[Question], depth: int = 30) -> dict[str, float]:
    """Recall@1/5/10 and MRR of the gold article among retrieved passages' articles."""
    ranks: list[int | None] = []
    for q in questions:
        if q.article is None:
            continue
        passages = retriever.search(q.question, top_k=depth)
        ranks.append(article_rank((_basename(p.article_id) for p in passages), _basename(q.article)))
    return {**rank_metrics(ranks), "questions": float(len(ranks))}


def rank_metrics(ranks: list[int | None]) -> dict[str, float]:
    """Recall@1/5/10 and MRR from the 1-based rank of each query's target (None: not found)."""
    n = len(ranks) or 1
    out = {f"recall_at_{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in RECALL_AT}
    out["mrr"] = sum(1 / r for r in ranks if r is not None) / n
    return out


def answer_metrics(
    answerer,
    questions: list[Question],
    on_result: Callable[[dict], None] | None = None,
    *,
    gold_only: bool = False,
) -> tuple[dict[str, dict], list[dict]]:
    """Ask every question; score correctness, citations, refusals and time.

    ``gold_only`` searches only each answerable question's gold article: the model's
    ceiling, with retrieval and passage choice taken out of the way.
    """
    from litopys.rag.answer import final_answer
    from litopys.rag.retrieval import RetrievalFilter

    rows: list[dict] = []
    for q in questions:
        started = time.perf_counter()
        filters = RetrievalFilter(articles=(q.article,)) if gold_only and q.article else None
        answer = final_answer(answerer.stream(q.question, filters=filters))
        rows.append(score_answer(q, answer, time.perf_counter() - started))
        if on_result:
            on_result(rows[-1])
    return summarize(rows), rows


def score_answer(q: Question, answer: Answer, seconds: float) -> dict:
    """One eval row: what was answered and cited, whether it is right, and what it cost."""
    holds_fact = has_fact(q, answer.text)
    gold_citations = _gold_citations(q, answer.citations)
    draft = answer.withheld
    return {
        "question": q.question,
        "gold": q.article,
        "answer": answer.text,
        "refused": answer.refused,
        "correct": bool(q.article is not None and holds_fact and gold_citations),
        # Correct, citing any passage that holds the answer (dated in the question's range, when it
        # gives one): several articles of a day may report the fact the set names one article for.
        "correct_any_source": bool(q.article is not None and holds_fact and _sourced(q, answer.citations)),
        "has_fact": holds_fact,
        "cites_gold": bool(gold_citations),
        "citations": [c.passage.article_id for c in answer.citations],
        "gold_citations": gold_citations,
        "seconds": round(seconds, 2),
        "first_token_s": round(answer.timings.get("first_token_s", 0.0), 2),
        "completion_tokens": int(answer.timings.get("completion_tokens", 0)),
        "checks_s": round(answer.timings.get("checks_s", 0.0), 4),
        "grounding": answer.grounding,
        "flagged": bool(answer.unsupported_claims),
        "withheld": draft.draft if draft else None,
        "withheld_reason": draft.reason if draft else None,
        "answerable_p": None if answer.answerable_p is None else round(answer.answerable_p, 4),
        # Would the withheld draft have counted as correct? What each withholding rule costs.
        "draft_correct": bool(draft and q.article and has_fact(q, draft.draft) and _gold_citations(q, draft.citations)),
        # The best fused score: lets a refusal threshold be calibrated offline from one run.
        "top_score": round(answer.passages[0].score, 4) if answer.passages else None,
        "missing": sorted(draft.missing if draft else {m for c in answer.claims for m in c.missing}),
        "russian_letters": bool(not answer.refused and RUSSIAN_ONLY.search(answer.text)),
        # What the answer (or the withheld draft) cites, so answer checks can be tried offline on a run.
        "cited_texts": [c.passage.text for c in (draft.citations if draft else answer.citations)],
        **kind_scores(q, answer),
    }


def kind_scores(q: Question, answer: Answer) -> dict:
    """What a question's kind is judged by: the path it took, the dates read, a list's recall."""
    read = list(answer.dates.range.iso) if answer.dates and answer.dates.applied else None
    listed = [a.article_id for a in answer.articles]
    overview = q.kind == "overview"
    timed = overview or answer.kind == "overview"  # a timeline (a dated or latest question may take that path)
    lines = _timeline_dates(answer) if timed and not answer.refused else []
    return {
        "kind": q.kind,
        "answer_kind": answer.kind,
        "dates_expected": list(q.dates) if q.dates else None,
        "dates_read": read,
        "dates_exact": read == list(q.dates) if q.dates else None,
        "listed": listed,
        "list_recall": list_recall(listed, q.articles) if q.articles and q.kind == "list" else None,
        "overview_recall": (
            cited_recall([c.passage.article_id for c in answer.citations], q.articles)
            if q.articles and overview
            else None
        ),
        "timeline_lines": len(lines) if timed else None,
        "timeline_dates": lines if timed else None,
        # The latest news come newest first.
        "in_date_order": _in_date_order(lines, q.kind == "latest") if timed and lines else None,
    }


def cited_recall(cited: Iterable[str], expected: Iterable[str]) -> float:
    """The share of ``expected`` articles that an answer cites (ids compared by file name)."""
    wanted = {_basename(a) for a in expected}
    return len(wanted & {_basename(a) for a in cited}) / len(wanted) if wanted else 0.0


def _timeline_dates(answer: Answer) -> list[str | None]:
    from litopys.rag.overview import line_dates

    return line_dates(answer.text, answer.passages)


def _in_date_order(dates: list[str | None], newest_first: bool = False) -> bool:
    from litopys.rag.overview import in_date_order

    return in_date_order(dates, newest_first)


def list_recall(listed: Iterable[str], expected: Iterable[str], at: int = LIST_AT) -> float:
    """The share of ``expected`` articles among the first ``at`` of ``listed`` (ids compared by file name)."""
    wanted = {_basename(a) for a in expected}
    found = {_basename(a) for a in list(listed)[:at]}
    return len(wanted & found) / len(wanted) if wanted else 0.0


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def kind_metrics(rows: list[dict]) -> dict[str, dict[str, float | None]]:
    """Per kind: how many questions, how many took their kind's path, the dates read exactly,
    correct-and-cited, median seconds; list recall@10; overview recall of the expected articles
    among the citations and the share of timelines in date order."""
    out: dict[str, dict[str, float | None]] = {}
    present = {r.get("kind", "factoid") for r in rows}
    for kind in [*(k for k in KINDS if k in present), *sorted(present - set(KINDS))]:
        mine = [r for r in rows if r.get("kind", "factoid") == kind]
        dated = [r for r in mine if r.get("dates_expected") is not None]
        listed = [r["list_recall"] for r in mine if r.get("list_recall") is not None]
        paths = kind_paths(kind)
        answerable = [r for r in mine if r.get("gold") is not None and "correct" in r]
        sourced = [r for r in answerable if "correct_any_source" in r]  # (rows of older runs lack it)
        ordered = [r for r in mine if r.get("in_date_order") is not None]
        out[kind] = {
            "questions": float(len(mine)),
            "took_its_path_rate": _share([{"ok": r.get("answer_kind") in paths} for r in mine], "ok"),
            "dates_exact_rate": _share(dated, "dates_exact") if dated else None,
            "dates_given": float(len(dated)),
            "correct_rate": _share(answerable, "correct") if answerable else None,
            "correct_any_source_rate": _share(sourced, "correct_any_source") if sourced else None,
            # For ``latest``: how often the newest article on the subject (the gold one) is cited.
            "cites_gold_rate": _share(answerable, "cites_gold") if answerable else None,
            "refused_rate": _share(mine, "refused") if mine and all("refused" in r for r in mine) else None,
            "median_s": statistics.median(r["seconds"] for r in mine) if all("seconds" in r for r in mine) else None,
            f"recall_at_{LIST_AT}": _mean(listed),
            "overview_recall": _mean([r["overview_recall"] for r in mine if r.get("overview_recall") is not None]),
            "in_date_order_rate": _share(ordered, "in_date_order") if ordered else None,
            "timeline_lines_mean": _mean(
                [float(r["timeline_lines"]) for r in mine if r.get("timeline_lines") is not None]
            ),
        }
    return out


def has_fact(q: Question, text: str) -> bool:
    """Whether ``text`` holds one of the question's answer strings (case aside)."""
    return any(s.lower() in text.lower() for s in q.answer_any)


def _sourced(q: Question, citations: Iterable[Citation]) -> bool:
    """Whether a cited passage holds one of the answer strings (and is dated in ``q.dates``, if given)."""
    for c in citations:
        day = (c.passage.date or "")[:10]
        if q.dates and not (day and q.dates[0] <= day <= q.dates[-1]):
            continue
        if has_fact(q, c.passage.text) or same_article(c.passage.article_id, q.article or ""):
            return True
    return False


def _gold_citations(q: Question, citations: Iterable[Citation]) -> int:
    return sum(1 for c in citations if q.article and same_article(c.passage.article_id, q.article))


def _share(rows: list[dict], key: str) -> float:
    return sum(1 for r in rows if r[key]) / (len(rows) or 1)


def _flag_rate(rows: list[dict]) -> float | None:
    answered = [r for r in rows if not r["refused"]]
    return sum(r["flagged"] for r in answered) / len(answered) if answered else None


def _checks_cost(rows: list[dict]) -> dict[str, float]:
    """Median seconds per answered question with and without the checks after generation, from one run."""
    answered = [r for r in rows if not r["refused"] or r["withheld"]]
    if not answered:
        return {}
    with_checks = statistics.median(r["seconds"] for r in answered)
    without = statistics.median(r["seconds"] - r.get("checks_s", 0.0) for r in answered)
    return {
        "median_answered_s": with_checks,
        "median_answered_without_checks_s": without,
        "median_checks_s": statistics.median(r.get("checks_s", 0.0) for r in answered),
    }


def summarize(rows: list[dict]) -> dict[str, dict]:
    """The metrics of a set of eval rows (answerable ones name a gold article), and per kind (``kinds``).

    Questions of the ``list`` kind are answered without the LLM: only ``kinds`` counts them.
    """
    kinds = kind_metrics(rows)
    rows = [r for r in rows if r.get("kind", "factoid") != "list"]
    answerable = [r for r in rows if r["gold"] is not None]
    unanswerable = [r for r in rows if r["gold"] is None]
    n_cit = sum(len(r["citations"]) for r in rows)
    times = [r["seconds"] for r in rows]
    return {
        "answers": {
            "correct_rate": _share(answerable, "correct"),
            "has_fact_rate": _share(answerable, "has_fact"),
            "answerable": float(len(answerable)),
        },
        "citations": {
            "precision": sum(r["gold_citations"] for r in answerable) / n_cit if n_cit else 0.0,
            "total": float(n_cit),
        },
        "refusals": {
            "unanswerable_refused_rate": _share(unanswerable, "refused"),
            "answerable_refused_rate": _share(answerable, "refused"),
            "unanswerable": float(len(unanswerable)),
        },
        "language": {"russian_letters_answers": sum(1 for r in rows if r["russian_letters"])},
        "timing": {
            "median_s": statistics.median(times) if times else 0.0,
            "p90_s": percentile(times, 90) if times else 0.0,
            "median_first_token_s": statistics.median([r["first_token_s"] for r in rows]) if rows else 0.0,
            "completion_tokens_total": float(sum(r["completion_tokens"] for r in rows)),
            **_checks_cost(rows),
        },
        # How often the grounding check flags an answer, split by whether the answer was right:
        # a useful check fires on wrong answers much more often than on right ones.
        "grounding": {
            "flagged_rate_correct": _flag_rate([r for r in answerable if r["correct"]]),
            "flagged_rate_incorrect": _flag_rate([r for r in answerable if not r["correct"]]),
            "flagged_rate_unanswerable": _flag_rate(unanswerable),
        },
        "kinds": kinds,
    }
