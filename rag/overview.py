"""An overview question ("Що відомо про X?", "What happened with X?") -> a dated timeline, oldest first.

Data flow: ``rag.kinds.overview_topic`` (or ``latest_topic``) gives X -> ``gather``: retrieval
over X alone with a larger per-article cap and a larger pool than the factoid path
(``prompt.overview_*`` settings; for the latest news, with the recency boost) -> ``spread``:
the best passage of each article first, then second ones, so the prompt holds several
articles -> ``rag.budget.fit_passages``: each passage within an equal share of the
overview's token budget, then all of them within the budget -> ``oldest_first`` -> one LLM
call (``rag.prompt.build_overview_prompt``) writes "- event [n]" lines -> ``timeline``: each
line is cited (or attributed), re-cited to the passage that holds its facts, and checked by
``rag.grounding``; a line with a number or name that its cited passages lack is dropped; each
line also cites the other articles whose passage alone backs it (``corroborating``). The
kept lines are dated by the passages they cite (an article's date is what the archive knows;
the model's own date is not trusted) and sorted oldest first (newest first for the latest
news); undated articles come last.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from litopys.core.config import PromptSettings
from litopys.index.lemmatize import lemmas
from litopys.rag.budget import fit_passages
from litopys.rag.citations import (
    MARKER,
    Citation,
    best_supporting,
    is_refusal,
    marker_numbers,
    resolve_citations,
    strip_invalid_markers,
)
from litopys.rag.grounding import ClaimCheck, check_answer, check_claim, claimed_lemmas, recite, split_claims
from litopys.rag.listing import search_text
from litopys.rag.prompt import in_english
from litopys.rag.retrieval import Evidence, Passage, RetrievalFilter, Retriever, cross_lingual
from litopys.rag.when import find_dates
from litopys.rag.withhold import evidence_text

UNDATED_UK = "без дати"
UNDATED_EN = "undated"
_BULLET = re.compile(r"^\s*(?:[-–—•*·]|\d{1,2}[.)])\s+")
_LEAD_DATE = re.compile(r"^\(?\d{4}-\d{2}-\d{2}\)?")
_AFTER_DATE = re.compile(r"^\s*(?:року|р\.)?\s*\)?\s*[:—–-]\s*")


def gather(
    retriever: Retriever,
    topic: str,
    filters: RetrievalFilter | None,
    settings: PromptSettings,
    latest: bool = False,
) -> Evidence:
    """Passages about ``topic`` from as many articles as the overview settings allow, best first.

    Retrieval runs with ``overview_per_article_cap`` and a pool of twice ``overview_passages``,
    unpruned (a weaker article may hold an earlier part of the story); with ``latest``, recent
    articles rank higher (the recency boost). When any passage shares a word with the topic,
    the passages that share none go (they are near in meaning only), unless the topic is
    written in another script than the passages (``cross_lingual``).
    """
    wide = Retriever(
        retriever.reader,
        retriever.embedder,
        retriever.settings.model_copy(update={"per_article_cap": settings.overview_per_article_cap}),
    )
    evidence = wide.evidence(
        search_text(topic), filters, top_k=2 * settings.overview_passages, prune=False, latest=latest
    )
    passages = evidence.passages
    # Across scripts the shared words are a year or a name written alike, no sign of the topic.
    if any((p.lexical_score or 0.0) > 0.0 for p in passages) and not cross_lingual(topic, (p.text for p in passages)):
        passages = [p for p in passages if (p.lexical_score or 0.0) > 0.0]
    return Evidence(passages, evidence.stands_out)


def focused(passages: Sequence[Passage], limit: int, share: float) -> list[Passage]:
    """At most ``limit`` of ``passages`` (best first), ``spread`` over the articles whose passages score
    at least ``share`` of the best one, and only then over the weaker ones.

    Under a date the question names, the day's few reports on the topic are read in depth: a
    second passage of the report asked about beats the best passage of an article that only
    shares a word with it.
    """
    if not passages or share <= 0 or passages[0].score <= 0:  # (a share of a score below 0 is no floor)
        return spread(passages, limit)
    floor = share * passages[0].score
    strong = spread([p for p in passages if p.score >= floor], limit)
    return strong + spread([p for p in passages if p.score < floor], limit - len(strong))


def spread(passages: Sequence[Passage], limit: int) -> list[Passage]:
    """At most ``limit`` of ``passages`` (best first): each article's best one, then each one's second, ..."""
    by_article: dict[str, list[Passage]] = {}
    for p in passages:
        by_article.setdefault(p.article_id, []).append(p)
    out: list[Passage] = []
    depth = 0
    while len(out) < limit and any(len(ps) > depth for ps in by_article.values()):
        out.extend(ps[depth] for ps in by_article.values() if len(ps) > depth)
        depth += 1
    return out[:limit]


def oldest_first(passages: Sequence[Passage]) -> list[Passage]:
    """``passages`` by their article's date, oldest first (undated last); within a date, an article's
    passages stay together in text order, and articles in the order given."""
    first_seen = {aid: n for n, aid in reversed(list(enumerate(p.article_id for p in passages)))}
    return sorted(passages, key=lambda p: (p.date is None, (p.date or "")[:10], first_seen[p.article_id], p.start))


def overview_passages(
    retriever: Retriever,
    topic: str,
    filters: RetrievalFilter | None,
    settings: PromptSettings,
    count_tokens: Callable[[str], int],
    latest: bool = False,
    dated: bool = False,
) -> tuple[Evidence, list[Passage]]:
    """What retrieval found for ``topic`` (recent articles first with ``latest``), and the passages
    for the prompt: spread over articles (the strong ones first when ``dated``: dates read from the
    question narrow ``filters``), fitted to ``overview_passage_tokens``, ordered oldest first."""
    evidence = gather(retriever, topic, filters, settings, latest)
    chosen = focused(evidence.passages, settings.overview_passages, settings.overview_dated_focus if dated else 0.0)
    asked = search_text(topic)
    budget = settings.overview_passage_tokens
    if budget > 0 and chosen:
        # Each passage gets an equal share of the budget (cut to the sentences about the topic),
        # so that one long passage does not take the room of the other articles; then the whole
        # is fitted once more, as the numbered blocks the prompt writes.
        share = max(1, budget // len(chosen))
        chosen = [cut for p in chosen for cut in fit_passages(asked, [p], share, count_tokens)]
    fitted = fit_passages(asked, chosen, budget, count_tokens)
    return evidence, oldest_first(fitted)


@dataclass(frozen=True)
class Line:
    """One event of a timeline: its text with ``[n]`` markers, the passages it cites, its date."""

    text: str
    cited: tuple[int, ...]
    date: str | None
    attributed: bool = False
    claims: tuple[ClaimCheck, ...] = ()


@dataclass
class Timeline:
    """The checked timeline: the kept lines (oldest first), the lines dropped and why."""

    lines: list[Line]
    dropped: list[str] = field(default_factory=list)
    missing: tuple[str, ...] = ()  # numbers and names of the dropped lines that no cited passage holds
    refused: bool = False

    def text(self, question: str) -> str:
        undated = UNDATED_EN if in_english(question) else UNDATED_UK
        return "\n".join(f"- {line.date or undated}: {line.text}" for line in self.lines)

    def citations(self, passages: Sequence[Passage]) -> list[Citation]:
        """One citation per passage cited, in order of first appearance; flagged as the lines are."""
        out: dict[int, Citation] = {}
        for line in self.lines:
            supported = all(c.supported for c in line.claims)
            for n in line.cited:
                if n in out:
                    out[n] = replace(out[n], supported=bool(out[n].supported and supported))
                else:
                    out[n] = Citation(n, passages[n - 1], attributed=line.attributed, supported=supported)
        return list(out.values())


def split_lines(raw: str) -> list[str]:
    """The model's events: one a line; a reply written as one paragraph is split into sentences."""
    lines = [ln.strip() for ln in raw.strip().splitlines() if ln.strip()]
    if len(lines) == 1:
        return [sentence for sentence, _ in split_claims(lines[0])]
    return lines


def strip_lead(line: str) -> str:
    """``line`` without its bullet and the date the model put before the event ("- 2024-11-13: …")."""
    body = _BULLET.sub("", line, count=1).strip()
    match = _LEAD_DATE.match(body)
    end = match.end() if match else 0
    if not match:
        found = find_dates(body, date.today())
        if found and found[0][0][0] == 0:
            end = found[0][0][1]
    if end:
        after = _AFTER_DATE.match(body[end:])
        if after:  # a date followed by ":" or a dash labels the line; one inside the sentence is a claim
            body = body[end + after.end() :].strip()
    return body


def timeline(
    question: str,
    raw: str,
    passages: Sequence[Passage],
    newest_first: bool = False,
    corroboration: float = 0.0,
) -> Timeline:
    """The model's ``raw`` reply over ``passages`` (numbered from 1) as a checked, dated timeline,
    oldest first (``newest_first``: for a question about the latest news); with ``corroboration``,
    each line also cites the other articles that back it (``corroborating``)."""
    evidence = [evidence_text(p) for p in passages]
    kept: list[Line] = []
    dropped: list[str] = []
    missing: dict[str, None] = {}
    seen: set[str] = set()
    lines = split_lines(raw)
    if lines and _cut_off(lines[-1]):
        lines = lines[:-1]  # the token limit ended the reply inside this line
    for raw_line in lines:
        body = strip_lead(raw_line)
        if not MARKER.sub("", body).strip(" .,;:—-") or (is_refusal(body) and not marker_numbers(body)):
            continue
        line = _cite_line(body, passages, evidence, question, corroboration)
        if line is None:
            dropped.append(body)
            continue
        gaps = tuple(m for c in line.claims for m in c.missing)
        if gaps:
            dropped.append(body)
            missing.update(dict.fromkeys(gaps))
            continue
        key = MARKER.sub("", line.text).strip(" .").lower()
        if key not in seen:
            seen.add(key)
            kept.append(line)
    order = sorted(range(len(kept)), key=lambda i: (kept[i].date is None, kept[i].date or "", i))
    if newest_first:
        dated = [i for i in order if kept[i].date]
        order = sorted(dated, key=lambda i: kept[i].date or "", reverse=True) + order[len(dated) :]
    refused = not kept and is_refusal(raw)
    return Timeline([kept[i] for i in order], dropped, tuple(missing), refused)


def _cut_off(line: str) -> bool:
    """Whether ``line`` stops mid-sentence: no marker and no closing punctuation (the reply hit its token limit)."""
    text = line.rstrip()
    return not marker_numbers(text) and not re.search(r"[.!?…»”\")]$", text)


def _cite_line(
    body: str, passages: Sequence[Passage], evidence: list[str], question: str, corroboration: float = 0.0
) -> Line | None:
    """``body`` with valid markers only, re-cited to the passage that holds its facts, joined by the
    passages of other articles that back it too, and checked; a line that cites nothing gets the
    passage that best supports it (or None: it is dropped)."""
    valid, invalid = resolve_citations(body, passages)
    body = strip_invalid_markers(body, invalid).strip()
    attributed = False
    if not valid:
        best = best_supporting(body, passages)
        if best is None:
            return None
        body = f"{body.rstrip(' .')} [{best[0]}]."
        attributed = True
    body = recite(body, evidence, question)
    valid, _ = resolve_citations(body, passages)
    if corroboration > 0 and valid:
        more = corroborating(body, [c.n for c in valid], passages, evidence, question, corroboration)
        body = _with_markers(body, more)
        valid, _ = resolve_citations(body, passages)
    cited = tuple(c.n for c in valid)
    checked = check_answer(body, {n: evidence[n - 1] for n in cited}, question)
    dates = _dates_of(passages, cited)
    return Line(body, cited, dates[0] if dates else None, attributed, checked.claims)


# Fewer of a line's own words than this (those of the question are given) say too little to match.
MIN_CORROBORATED_WORDS = 2


def corroborating(
    line: str, cited: Sequence[int], passages: Sequence[Passage], evidence: list[str], question: str, share: float
) -> list[int]:
    """The passages (1-based) of articles ``line`` does not cite that alone back it: all its names
    and numbers and at least ``share`` of its other content words, the question's words aside.

    Several reports of the same event are its sources, and a reader checks each one with a click.
    """
    claim = MARKER.sub(" ", line)
    if len(claimed_lemmas(claim, set(lemmas(question)))) < MIN_CORROBORATED_WORDS:
        return []
    articles = {passages[n - 1].article_id for n in cited}
    found: list[int] = []
    for n, passage in enumerate(passages, 1):
        if passage.article_id in articles:
            continue
        check = check_claim(claim, [n], [evidence[n - 1]], question)
        if check.overlap >= share and not check.missing_numbers and not check.missing_names:
            found.append(n)
            articles.add(passage.article_id)
    return found


def _with_markers(line: str, more: Sequence[int]) -> str:
    """``line`` with the numbers ``more`` joined to its last marker ("… [2]." -> "… [2, 5].")."""
    markers = list(MARKER.finditer(line))
    if not more or not markers:
        return line
    last = markers[-1]
    numbers = sorted({*marker_numbers(last.group(0)), *more})
    return f"{line[: last.start()]}[{', '.join(map(str, numbers))}]{line[last.end() :]}"


def _dates_of(passages: Sequence[Passage], cited: Sequence[int]) -> list[str]:
    """The dates (``YYYY-MM-DD``) of the cited passages that have one, oldest first."""
    return sorted(d[:10] for n in cited if (d := passages[n - 1].date))


def line_dates(text: str, passages: Sequence[Passage]) -> list[str | None]:
    """The date of each cited line of a timeline ``text``: the oldest date of the passages it cites."""
    out: list[str | None] = []
    for line in text.splitlines():
        cited = [n for n in marker_numbers(line) if 1 <= n <= len(passages)]
        if not cited:
            continue
        dates = _dates_of(passages, cited)
        out.append(dates[0] if dates else None)
    return out


def in_date_order(dates: Sequence[str | None], newest_first: bool = False) -> bool:
    """Whether the dated lines run oldest first, or newest first (undated lines are not placed in time)."""
    dated = [d for d in dates if d]
    return dated == sorted(dated, reverse=newest_first)
