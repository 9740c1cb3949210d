"""Question -> passages: hybrid BM25 (over lemmas) + dense retrieval, fused.

Both signals come from the index backend (litopys.index.backend): SQLite FTS5 + FAISS
locally, or a Milvus server; the fusion, the per-article cap and the evidence gate are
the same for both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date

from litopys.core.config import RetrievalSettings
from litopys.index.backend import IndexSnapshot, Ranking, SearchIndex
from litopys.index.embedder import Embedder
from litopys.index.filters import SECTION_PREFIX, TAG_PREFIX, RetrievalFilter, parse_date
from litopys.index.lemmatize import mostly_latin, search_lemmas
from litopys.rag.fusion import recency_boost, rrf_fusion, zscore_fusion
from litopys.rag.when import DateRange, asks_when, read_dates, wants_latest, without_dates, without_latest

# Re-exported: the filter used to live here, and the UI and evaluation import it from here.
__all__ = ["SECTION_PREFIX", "TAG_PREFIX", "Evidence", "Passage", "RetrievalFilter", "Retriever", "parse_date"]


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its scores; ``start``/``end`` locate it in the article body."""

    chunk_id: int
    article_id: str
    title: str
    date: str | None
    text: str
    start: int
    end: int
    score: float
    lexical_score: float | None = None
    dense_score: float | None = None
    # Where the article came from (web pages and exports; None for .txt/.md files).
    url: str | None = None
    author: str | None = None
    outlet: str | None = None
    # What ``score`` gained for a recent date on a question for the latest news (else None).
    recency: float | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


# Why dates read from a question did not become the filter.
USER_DATES = "user_dates"  # the user set a date range: theirs wins
UNDATED_INDEX = "undated_index"  # (almost) no article has a date: the question's dates must be about events
# A year, "сьогодні", or a day named without a year in no year of the archive, with no article
# dated then: the time of an event, not of its news.
EVENT_TIME = "event_time"
ASKS_WHEN = "asks_when"  # "Якого числа в грудні…?": the dates of a question asking when are the event's
MIN_DATED_SHARE = 0.1  # below this share of dated articles, a date filter would hide most of the index


@dataclass(frozen=True)
class QuestionDates:
    """The date range read from a question, and why it is not the filter when it is not (``not_applied``)."""

    range: DateRange
    not_applied: str | None = None

    @property
    def applied(self) -> bool:
        return self.not_applied is None

    def narrow(self, filters: RetrievalFilter | None) -> RetrievalFilter | None:
        """``filters`` (the user's) with this range as its dates, when it applies."""
        if not self.applied:
            return filters
        start, end = self.range.iso
        return replace(filters or RetrievalFilter(), date_from=start, date_to=end)

    def searched(self, text: str) -> str:
        """What to search for in ``text``: less its date expressions when the range applies (the
        filter holds them; searched as words, they would pull in any report that writes the date)."""
        if not self.applied:
            return text
        return without_dates(text).strip(" ,") or text

    def as_dict(self) -> dict[str, object]:
        return {**self.range.as_dict(), "applied": self.applied, "not_applied": self.not_applied}


WARM_UP_QUESTION = "Хто очолив делегацію України на переговорах?"
MIN_POOL = 40  # fused candidates needed before a low best score means "nothing stands out"


@dataclass(frozen=True)
class Evidence:
    """What retrieval found for one question: the passages for the LLM and whether one stands out."""

    passages: list[Passage]
    stands_out: bool


# The dense side's best passages whose script is compared with the question's (``cross_lingual``).
CROSS_LINGUAL_SAMPLE = 5


def cross_lingual(question: str, texts: Iterable[str]) -> bool:
    """Whether ``question`` is written in another script than ``texts`` (Latin against Cyrillic).

    Then their words cannot meet in the lexical index, only names written alike ("Tesla"):
    the dense side, multilingual, carries the search.
    """
    return mostly_latin(question) != mostly_latin(" ".join(texts))


class Retriever:
    """Hybrid retrieval over a published index."""

    def __init__(self, reader: SearchIndex, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.reader = reader
        self.embedder = embedder
        self.settings = settings

    def question_dates(self, question: str, filters: RetrievalFilter | None = None) -> QuestionDates | None:
        """The dates ``question`` asks about, and whether they may narrow ``filters`` (see ``QuestionDates``).

        The user's own date range wins over the question's. Relative dates ("вчора") count from
        today or from the newest article's date (``relative_dates_from``).
        """
        s = self.settings
        if not s.question_dates:
            return None
        snapshot: IndexSnapshot | None = None
        newest = None
        if s.relative_dates_from == "newest_article":
            snapshot = self.reader.snapshot()
            newest = snapshot.dated_articles(None).newest
        found = read_dates(question, date.fromisoformat(newest[:10]) if newest else date.today())
        if found is None:
            return None
        if filters and (filters.date_from or filters.date_to):
            return QuestionDates(found, USER_DATES)
        snapshot = snapshot or self.reader.snapshot()  # read only for a question with dates
        span = snapshot.dated_articles(filters)
        if span.dated < MIN_DATED_SHARE * span.articles or not span.dated:
            return QuestionDates(found, UNDATED_INDEX)
        if not found.relative and asks_when(question):
            return QuestionDates(found, ASKS_WHEN)
        read = QuestionDates(found)
        narrowed = read.narrow(filters)
        if narrowed is None or snapshot.dated_articles(narrowed).dated:
            return read
        if not found.year_given and not found.relative:
            # "13 листопада" with no year means the latest such days the archive has news of,
            # not this year's when nothing is dated then (an archive of older news).
            earlier = self._latest_year_with_articles(found, filters, snapshot)
            return QuestionDates(earlier) if earlier else QuestionDates(found, EVENT_TIME)
        return QuestionDates(found, EVENT_TIME) if found.event_time else read

    def _latest_year_with_articles(
        self, found: DateRange, filters: RetrievalFilter | None, snapshot: IndexSnapshot
    ) -> DateRange | None:
        """``found`` moved back by whole years to the latest year with articles in it (None: no such year)."""
        oldest = snapshot.dated_articles(filters).oldest
        if not oldest:
            return None
        for back in range(1, found.start.year - int(oldest[:4]) + 1):
            earlier = found.years_back(back)
            if earlier is not None and snapshot.dated_articles(QuestionDates(earlier).narrow(filters)).dated:
                return earlier
        return None

    def _recency(self, fused: Ranking, snapshot: IndexSnapshot) -> dict[int, float]:
        """What each fused candidate gains for its article's date (``recency_boost``)."""
        s = self.settings
        newest = snapshot.dated_articles(None).newest
        if not newest:
            return {}
        dates = snapshot.chunk_dates([c for c, _ in fused])
        return recency_boost(fused, dates, newest, s.recency_boost, s.recency_half_life_days)

    def warm_up(self) -> None:
        """Search once, so the first question does not pay for loading the lemmatizer, the embedder's
        kernels and the index's pages (docs/performance.md, "A new process's first answer")."""
        self.evidence(WARM_UP_QUESTION)

    def articles_in(self, filters: RetrievalFilter | None) -> int:
        """How many articles ``filters`` let through (all with None)."""
        return self.reader.snapshot().dated_articles(filters).articles

    def lexical(self, question: str, limit: int, filters: RetrievalFilter | None = None) -> Ranking:
        """The best ``limit`` chunks by BM25 alone (the lexical half of ``_signals``)."""
        return self.reader.snapshot().lexical(search_lemmas(question), limit, filters).top

    def dense(self, question: str, limit: int, filters: RetrievalFilter | None = None) -> Ranking:
        return self.reader.snapshot().dense(self.embedder.encode_query(question), limit, filters)

    def _signals(
        self, question: str, filters: RetrievalFilter | None = None, snapshot: IndexSnapshot | None = None
    ) -> tuple[Ranking, Ranking]:
        """Both rankings over the union of their candidates, each candidate scored by both signals.

        A candidate found by one signal only is scored exactly by the other (its BM25 score,
        cosine of its stored vector) instead of a guessed floor: with a floor, a chunk the dense
        side likes but whose words miss the question could outrank a strong lexical match (the
        hybrid fell below BM25 alone on the title task; docs/quality.md).
        """
        s = self.settings
        snapshot = snapshot or self.reader.snapshot()
        hits = snapshot.lexical(search_lemmas(question), s.candidates, filters)
        lexical = hits.top
        if s.dense_weight <= 0:
            return lexical, []
        query = self.embedder.encode_query(question)
        dense = snapshot.dense(query, s.candidates, filters)
        if s.fusion != "zscore":  # rank fusion needs no scores for the other side's candidates
            return lexical, dense
        lex_ids, dense_ids = {c for c, _ in lexical}, {c for c, _ in dense}
        dense_only = sorted(dense_ids - lex_ids)
        scored = hits.score_of(dense_only)
        # A chunk that shares no lemma with the question has the lowest possible BM25 score.
        lexical = lexical + [(c, scored.get(c, 0.0)) for c in dense_only]
        dense = dense + snapshot.dense_scores(query, sorted(lex_ids - dense_ids))
        return lexical, dense

    def _cross_lingual(self, question: str, dense: Ranking, snapshot: IndexSnapshot) -> bool:
        """Whether the dense side's best passages are written in another script than the question."""
        if not dense:
            return False
        best = snapshot.chunks([c for c, _ in dense[:CROSS_LINGUAL_SAMPLE]])
        return cross_lingual(question, (c.text for c in best.values()))

    def for_answer(self, question: str, filters: RetrievalFilter | None = None) -> list[Passage]:
        """The passages to put before the LLM (see ``evidence``)."""
        return self.evidence(question, filters).passages

    def evidence(
        self,
        question: str,
        filters: RetrievalFilter | None = None,
        top_k: int | None = None,
        prune: bool = True,
        latest: bool | None = None,
    ) -> Evidence:
        """The passages for the LLM, and whether any of them stands out from the candidates.

        A small model is easily led astray by a weak passage (and every passage costs prompt
        time), so when retrieval is confident (the best passage stands out) the weak ones go
        (unless ``prune`` is off: a list of articles keeps the weaker mentions too).
        When nothing stands out, the question may have no answer here: all ``top_k`` stay,
        and their plain irrelevance helps the model say so. ``latest`` says whether recent
        articles rank higher (None: when the question asks for the latest news).
        """
        passages, pool, across = self._search(question, top_k, filters, latest)
        s = self.settings
        # A fused z-score is relative to the candidate pool: in a small pool (a tiny corpus, a
        # narrow filter) it says little, so both the bar and the pruning need a full pool.
        full = s.fusion == "zscore" and pool >= MIN_POOL
        # Being recent is no evidence of an answer: the bar sees the scores without the recency boost.
        best = max((p.score - (p.recency or 0.0) for p in passages), default=0.0)
        # Across scripts the lexical side finds only names written alike, so the best fused score
        # is lower for the same evidence and has a bar of its own.
        bar = s.cross_lingual_min_answer_score if across else s.min_answer_score
        stands_out = bool(passages) and not (full and bar > 0 and best < bar)
        if prune and full and s.min_relative_score > 0 and passages and passages[0].score >= s.confident_score:
            floor = passages[0].score * s.min_relative_score
            passages = [p for p in passages if p.score >= floor]
        return Evidence(passages, stands_out)

    def article_body(self, article_id: str) -> str | None:
        """The full body of ``article_id``, or None when it is no longer indexed."""
        article = self.reader.article(article_id)
        return article.body if article is not None else None

    def article_texts(self, article_ids: Sequence[str]) -> list[str]:
        """The title and full text of each of ``article_ids`` that is still indexed."""
        articles = [self.reader.article(a) for a in article_ids]
        return [f"{a.title}\n{a.body}" for a in articles if a is not None]

    def search(self, question: str, top_k: int | None = None, filters: RetrievalFilter | None = None) -> list[Passage]:
        """The best ``top_k`` passages for ``question``, at most ``per_article_cap`` per article.

        With ``filters``, both signals search only the matching articles' chunks.
        """
        return self._search(question, top_k, filters)[0]

    def _search(
        self, question: str, top_k: int | None, filters: RetrievalFilter | None, latest: bool | None = None
    ) -> tuple[list[Passage], int, bool]:
        """The best passages, the size of the fused candidate pool they were chosen from, and whether
        the question is written in another script than the passages it finds (``cross_lingual``)."""
        s = self.settings
        top_k = top_k or s.top_k
        snapshot = self.reader.snapshot()  # follows a newly published generation
        asked = wants_latest(question)
        latest = s.recency_boost > 0 and (asked if latest is None else latest)
        lexical, dense = self._signals(without_latest(question) if asked else question, filters, snapshot)
        across = self._cross_lingual(question, dense, snapshot)
        weight = s.cross_lingual_dense_weight if across else s.dense_weight
        if s.fusion == "rrf":
            fused = rrf_fusion(lexical, dense, weight, s.rrf_k)
        else:
            fused = zscore_fusion(lexical, dense, weight)
        gains = self._recency(fused, snapshot) if latest else {}
        if gains:
            fused = sorted(((c, v + gains.get(c, 0.0)) for c, v in fused), key=lambda kv: (-kv[1], kv[0]))
        lex, den = dict(lexical), dict(dense)
        per_article: dict[str, int] = {}
        out: list[Passage] = []
        chunks = {}
        page = 2 * top_k  # texts are read a page at a time: most of the pool is never shown
        for n, (cid, score) in enumerate(fused):
            if n % page == 0:
                chunks = snapshot.chunks([c for c, _ in fused[n : n + page]])
            chunk = chunks.get(cid)
            if chunk is None:  # vector of a chunk deleted by a newer build
                continue
            if per_article.get(chunk.article_id, 0) >= s.per_article_cap:
                continue
            per_article[chunk.article_id] = per_article.get(chunk.article_id, 0) + 1
            out.append(
                Passage(
                    cid,
                    chunk.article_id,
                    chunk.title,
                    chunk.date,
                    chunk.text,
                    chunk.start,
                    chunk.end,
                    round(score, 4),
                    lex.get(cid),
                    den.get(cid),
                    url=chunk.url,
                    author=chunk.author,
                    outlet=chunk.outlet,
                    recency=round(gains[cid], 4) if cid in gains else None,
                )
            )
            if len(out) >= top_k:
                break
        return out, len(fused), across
