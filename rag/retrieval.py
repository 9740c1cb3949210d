"""Question -> passages: hybrid BM25 (over lemmas) + dense retrieval, fused.

Both signals come from the index backend (litopys.index.backend): SQLite FTS5 + FAISS
locally, or a Milvus server; the fusion, the per-article cap and the evidence gate are
the same for both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from litopys.core.config import RetrievalSettings
from litopys.index.backend import IndexSnapshot, Ranking, SearchIndex
from litopys.index.embedder import Embedder
from litopys.index.filters import SECTION_PREFIX, TAG_PREFIX, RetrievalFilter, parse_date
from litopys.index.lemmatize import query_lemmas
from litopys.rag.fusion import rrf_fusion, zscore_fusion

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

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


MIN_POOL = 40  # fused candidates needed before a low best score means "nothing stands out"


@dataclass(frozen=True)
class Evidence:
    """What retrieval found for one question: the passages for the LLM and whether one stands out."""

    passages: list[Passage]
    stands_out: bool


class Retriever:
    """Hybrid retrieval over a published index."""

    def __init__(self, reader: SearchIndex, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.reader = reader
        self.embedder = embedder
        self.settings = settings

    def lexical(self, question: str, limit: int, filters: RetrievalFilter | None = None) -> Ranking:
        """The best ``limit`` chunks by BM25 alone (the lexical half of ``_signals``)."""
        return self.reader.snapshot().lexical(query_lemmas(question), limit, filters).top

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
        hits = snapshot.lexical(query_lemmas(question), s.candidates, filters)
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
        stands_out = bool(passages) and not (full and s.min_answer_score > 0 and passages[0].score < s.min_answer_score)
        if full and s.min_relative_score > 0 and passages and passages[0].score >= s.confident_score:
            floor = passages[0].score * s.min_relative_score
            passages = [p for p in passages if p.score >= floor]
        return Evidence(passages, stands_out)

    def article_texts(self, article_ids: Sequence[str]) -> list[str]:
        """The title and full text of each of ``article_ids`` that is still indexed."""
        articles = [self.reader.article(a) for a in article_ids]
        return [f"{a.title}\n{a.body}" for a in articles if a is not None]

    def search(self, question: str, top_k: int | None = None, filters: RetrievalFilter | None = None) -> list[Passage]:
        """The best ``top_k`` passages for ``question``, at most ``per_article_cap`` per article.

        With ``filters``, both signals search only the matching articles' chunks.
        """
        return self._search(question, top_k, filters)[0]

    def _search(self, question: str, top_k: int | None, filters: RetrievalFilter | None) -> tuple[list[Passage], int]:
        """The best passages and the size of the fused candidate pool they were chosen from."""
        s = self.settings
        top_k = top_k or s.top_k
        snapshot = self.reader.snapshot()  # follows a newly published generation
        lexical, dense = self._signals(question, filters, snapshot)
        if s.fusion == "rrf":
            fused = rrf_fusion(lexical, dense, s.dense_weight, s.rrf_k)
        else:
            fused = zscore_fusion(lexical, dense, s.dense_weight)
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
                )
            )
            if len(out) >= top_k:
                break
        return out, len(fused)
