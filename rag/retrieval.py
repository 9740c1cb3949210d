"""Question -> passages: hybrid BM25 (SQLite FTS5 over lemmas) + dense (FAISS) retrieval."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import date
from operator import itemgetter

from litopys.core.config import RetrievalSettings
from litopys.core.errors import FilterError
from litopys.index import vectors
from litopys.index.corpus import iso_date
from litopys.index.embedder import Embedder
from litopys.index.lemmatize import query_lemmas
from litopys.index.reader import IndexReader
from litopys.index.store import SqlFilter
from litopys.rag.fusion import recency_boost, rrf_fusion, zscore_fusion
from litopys.rag.when import DateRange, asks_when, read_dates, wants_latest


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


def parse_date(text: str | None, field: str) -> str | None:
    """``YYYY-MM-DD`` (or empty -> None); anything else is a FilterError for ``field``."""
    text = (text or "").strip()
    if not text:
        return None
    date = iso_date(text)
    if date is None:
        what = field.replace("_", " ")
        raise FilterError(f"{what}: {text!r} is not a date in the form YYYY-MM-DD (e.g. 2024-11-14)", field, text)
    return date


SECTION_PREFIX, TAG_PREFIX = "section:", "tag:"
_NAMED = (SECTION_PREFIX, TAG_PREFIX)


@dataclass(frozen=True)
class RetrievalFilter:
    """Search only articles dated within [date_from, date_to] and/or among ``articles``/``folders``.

    Article ids are paths relative to the corpus folder; a folder matches every id under
    it, and an export file every article of its lines (``FILE#...``). Articles and
    folders combine with OR, the date range with AND. ``sections`` and ``tags`` (from
    web pages and exports) combine with OR among themselves, with AND with the rest.
    An article without a date never matches a date range (its date is unknown).
    """

    date_from: str | None = None
    date_to: str | None = None
    articles: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @classmethod
    def build(
        cls, date_from: str | None = None, date_to: str | None = None, paths: Iterable[str] = ()
    ) -> RetrievalFilter:
        """Validate user input; ``paths`` ending in ``/`` are folders, ``section:NAME`` and
        ``tag:NAME`` a section or tag, the others article ids (or export files)."""
        start, end = parse_date(date_from, "date_from"), parse_date(date_to, "date_to")
        if start and end and start > end:
            raise FilterError(f"the date range is empty: {start} is after {end}", "range", f"{start} > {end}")
        cleaned = [p.strip().lstrip("/") for p in paths if p and p.strip().strip("/")]
        named = {prefix: {p[len(prefix) :].strip() for p in cleaned if p.startswith(prefix)} for prefix in _NAMED}
        cleaned = [p for p in cleaned if not p.startswith(_NAMED)]
        folders = tuple(sorted({p.rstrip("/") + "/" for p in cleaned if p.endswith("/")}))
        articles = tuple(sorted({p for p in cleaned if not p.endswith("/")}))
        sections, tags = (tuple(sorted(named[prefix] - {""})) for prefix in _NAMED)
        return cls(start, end, articles, folders, sections, tags)

    @property
    def active(self) -> bool:
        return bool(self.date_from or self.date_to or self.articles or self.folders or self.sections or self.tags)

    def sql(self) -> SqlFilter:
        """The condition over the article row ``a`` that this filter means."""
        conds: list[str] = []
        params: list[object] = []
        if self.date_from:
            conds.append("a.date >= ?")
            params.append(self.date_from)
        if self.date_to:
            conds.append("a.date <= ?")
            params.append(self.date_to)
        which = ["a.id = ?" for _ in self.articles] + ["substr(a.id, 1, ?) = ?" for _ in self.articles + self.folders]
        if which:
            conds.append("(" + " OR ".join(which) + ")")
            params += list(self.articles)
            # An article path that is an export file matches its lines' articles (FILE#...).
            for prefix in [f"{a}#" for a in self.articles] + list(self.folders):
                params += [len(prefix), prefix]
        named = []
        if self.sections:
            named.append(f"a.section IN ({','.join('?' * len(self.sections))})")
            params += list(self.sections)
        if self.tags:
            named.append(
                f"EXISTS (SELECT 1 FROM json_each(a.tags) t WHERE t.value IN ({','.join('?' * len(self.tags))}))"
            )
            params += list(self.tags)
        if named:
            conds.append("(" + " OR ".join(named) + ")")
        return (" AND ".join(conds) or "1", params)


# Why dates read from a question did not become the filter.
USER_DATES = "user_dates"  # the user set a date range: theirs wins
UNDATED_INDEX = "undated_index"  # (almost) no article has a date: the question's dates must be about events
EVENT_TIME = "event_time"  # a year or "сьогодні" with no article dated then: the time of an event, not of its news
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

    def as_dict(self) -> dict[str, object]:
        return {**self.range.as_dict(), "applied": self.applied, "not_applied": self.not_applied}


MIN_POOL = 40  # fused candidates needed before a low best score means "nothing stands out"


@dataclass(frozen=True)
class Evidence:
    """What retrieval found for one question: the passages for the LLM and whether one stands out."""

    passages: list[Passage]
    stands_out: bool


class Retriever:
    """Hybrid retrieval over a published index."""

    def __init__(self, reader: IndexReader, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.reader = reader
        self.embedder = embedder
        self.settings = settings
        self._db_lock = threading.Lock()

    def question_dates(self, question: str, filters: RetrievalFilter | None = None) -> QuestionDates | None:
        """The dates ``question`` asks about, and whether they may narrow ``filters`` (see ``QuestionDates``).

        The user's own date range wins over the question's. Relative dates ("вчора") count from
        today or from the newest article's date (``relative_dates_from``).
        """
        s = self.settings
        if not s.question_dates:
            return None
        newest = self._dated_articles(None)[3] if s.relative_dates_from == "newest_article" else None
        found = read_dates(question, date.fromisoformat(newest[:10]) if newest else date.today())
        if found is None:
            return None
        if filters and (filters.date_from or filters.date_to):
            return QuestionDates(found, USER_DATES)
        articles, dated, _, _ = self._dated_articles(filters)
        if dated < MIN_DATED_SHARE * articles or not dated:
            return QuestionDates(found, UNDATED_INDEX)
        if not found.relative and asks_when(question):
            return QuestionDates(found, ASKS_WHEN)
        read = QuestionDates(found)
        narrowed = read.narrow(filters)
        if found.event_time and narrowed is not None and not self._dated_articles(narrowed)[1]:
            return QuestionDates(found, EVENT_TIME)
        return read

    def _recency(self, fused: list[tuple[int, float]]) -> dict[int, float]:
        """What each fused candidate gains for its article's date (``recency_boost``)."""
        s = self.settings
        newest = self._dated_articles(None)[3]
        if not newest:
            return {}
        with self._db_lock:
            dates = self.reader.store.chunk_dates([c for c, _ in fused])
        return recency_boost(fused, dates, newest, s.recency_boost, s.recency_half_life_days)

    def _dated_articles(self, filters: RetrievalFilter | None) -> tuple[int, int, str | None, str | None]:
        with self._db_lock:
            return self.reader.store.dated_articles(self._where(filters))

    def lexical(self, question: str, limit: int, filters: RetrievalFilter | None = None) -> list[tuple[int, float]]:
        """The best ``limit`` chunks by BM25 alone (the lexical half of ``_signals``)."""
        return self._bm25(query_lemmas(question), limit, filters)[0]

    def _bm25(
        self, lemmas: list[str], limit: int, filters: RetrievalFilter | None
    ) -> tuple[list[tuple[int, float]], dict[int, float]]:
        """The top ``limit`` (chunk id, BM25 score) pairs, and the scores of every matching chunk."""
        with self._db_lock:
            matched = self.reader.store.bm25_scores(lemmas, self._where(filters))
        return heapq.nlargest(limit, matched.items(), key=itemgetter(1)), matched

    def dense(self, question: str, limit: int, filters: RetrievalFilter | None = None) -> list[tuple[int, float]]:
        snapshot = self.reader.refresh()
        return vectors.search(snapshot.vectors, self.embedder.encode_query(question), limit, self._allowed(filters))

    @staticmethod
    def _where(filters: RetrievalFilter | None):
        return filters.sql() if filters and filters.active else None

    def _allowed(self, filters: RetrievalFilter | None):
        """The chunk ids a filter lets the dense search see (None: all)."""
        if not (filters and filters.active):
            return None
        with self._db_lock:
            return self.reader.store.chunk_ids_where(filters.sql())

    def _signals(
        self, question: str, filters: RetrievalFilter | None = None
    ) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """Both rankings over the union of their candidates, each candidate scored by both signals.

        A candidate found by one signal only is scored exactly by the other (its BM25 score from
        the same pass over every match, cosine of its stored vector) instead of a guessed floor:
        with a floor, a chunk the dense side likes but whose words miss the question could outrank
        a strong lexical match (the hybrid fell below BM25 alone on the title task; docs/quality.md).
        """
        s = self.settings
        with self._db_lock:
            snapshot = self.reader.refresh()  # follows a newly published generation
        lexical, matched = self._bm25(query_lemmas(question), s.candidates, filters)
        if s.dense_weight <= 0:
            return lexical, []
        query = self.embedder.encode_query(question)
        dense = vectors.search(snapshot.vectors, query, s.candidates, self._allowed(filters))
        if s.fusion != "zscore":  # rank fusion needs no scores for the other side's candidates
            return lexical, dense
        lex_ids, dense_ids = {c for c, _ in lexical}, {c for c, _ in dense}
        # A chunk that shares no lemma with the question has the lowest possible BM25 score.
        lexical = lexical + [(c, matched.get(c, 0.0)) for c in sorted(dense_ids - lex_ids)]
        dense = dense + vectors.scores_for(snapshot.vectors, query, sorted(lex_ids - dense_ids))
        return lexical, dense

    def for_answer(self, question: str, filters: RetrievalFilter | None = None) -> list[Passage]:
        """The passages to put before the LLM (see ``evidence``)."""
        return self.evidence(question, filters).passages

    def evidence(self, question: str, filters: RetrievalFilter | None = None) -> Evidence:
        """The passages for the LLM, and whether any of them stands out from the candidates.

        A small model is easily led astray by a weak passage (and every passage costs prompt
        time), so when retrieval is confident (the best passage stands out) the weak ones go.
        When nothing stands out, the question may have no answer here: all ``top_k`` stay,
        and their plain irrelevance helps the model say so.
        """
        passages, pool = self._search(question, None, filters)
        s = self.settings
        # A fused z-score is relative to the candidate pool: in a small pool (a tiny corpus, a
        # narrow filter) it says little, so both the bar and the pruning need a full pool.
        full = s.fusion == "zscore" and pool >= MIN_POOL
        # Being recent is no evidence of an answer: the bar sees the scores without the recency boost.
        best = max((p.score - (p.recency or 0.0) for p in passages), default=0.0)
        stands_out = bool(passages) and not (full and s.min_answer_score > 0 and best < s.min_answer_score)
        if full and s.min_relative_score > 0 and passages and passages[0].score >= s.confident_score:
            floor = passages[0].score * s.min_relative_score
            passages = [p for p in passages if p.score >= floor]
        return Evidence(passages, stands_out)

    def search(self, question: str, top_k: int | None = None, filters: RetrievalFilter | None = None) -> list[Passage]:
        """The best ``top_k`` passages for ``question``, at most ``per_article_cap`` per article.

        With ``filters``, both signals search only the matching articles' chunks.
        """
        return self._search(question, top_k, filters)[0]

    def _search(self, question: str, top_k: int | None, filters: RetrievalFilter | None) -> tuple[list[Passage], int]:
        """The best passages and the size of the fused candidate pool they were chosen from."""
        s = self.settings
        top_k = top_k or s.top_k
        lexical, dense = self._signals(question, filters)
        if s.fusion == "rrf":
            fused = rrf_fusion(lexical, dense, s.dense_weight, s.rrf_k)
        else:
            fused = zscore_fusion(lexical, dense, s.dense_weight)
        gains = self._recency(fused) if s.recency_boost > 0 and wants_latest(question) else {}
        if gains:
            fused = sorted(((c, v + gains.get(c, 0.0)) for c, v in fused), key=lambda kv: (-kv[1], kv[0]))
        lex, den = dict(lexical), dict(dense)
        per_article: dict[str, int] = {}
        out: list[Passage] = []
        chunks = {}
        page = 2 * top_k  # texts are read a page at a time: most of the pool is never shown
        for n, (cid, score) in enumerate(fused):
            if n % page == 0:
                with self._db_lock:
                    chunks = self.reader.store.get_chunks([c for c, _ in fused[n : n + page]])
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
        return out, len(fused)
