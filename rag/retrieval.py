"""Question -> passages: hybrid BM25 (SQLite FTS5 over lemmas) + dense (FAISS) retrieval."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

from index import vectors
from index.lemmatize import query_lemmas
from index.reader import IndexReader
from litopys.config import RetrievalSettings
from rag.fusion import rrf_fusion, zscore_fusion


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

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class Retriever:
    """Hybrid retrieval over a published index."""

    def __init__(self, reader: IndexReader, embedder, settings: RetrievalSettings) -> None:
        self.reader = reader
        self.embedder = embedder
        self.settings = settings
        self._db_lock = threading.Lock()

    def lexical(self, question: str, limit: int) -> list[tuple[int, float]]:
        with self._db_lock:
            return self.reader.store.bm25(query_lemmas(question), limit)

    def dense(self, question: str, limit: int) -> list[tuple[int, float]]:
        snapshot = self.reader.refresh()
        return vectors.search(snapshot.vectors, self.embedder.encode_query(question), limit)

    def for_answer(self, question: str) -> list[Passage]:
        """The passages to put before the LLM: the top ones, minus those far weaker than the best.

        A small model is easily led astray by a weak passage (and every passage costs prompt
        time), so when retrieval is confident (the best passage stands out) the weak ones go.
        When nothing stands out, the question may have no answer here: all ``top_k`` stay,
        and their plain irrelevance helps the model say so.
        """
        passages = self.search(question)
        s = self.settings
        if s.min_relative_score <= 0 or not passages or passages[0].score < s.confident_score:
            return passages
        floor = passages[0].score * s.min_relative_score
        return [p for p in passages if p.score >= floor]

    def search(self, question: str, top_k: int | None = None) -> list[Passage]:
        """The best ``top_k`` passages for ``question``, at most ``per_article_cap`` per article."""
        s = self.settings
        top_k = top_k or s.top_k
        with self._db_lock:
            self.reader.refresh()
        lexical = self.lexical(question, s.candidates)
        dense = self.dense(question, s.candidates) if s.dense_weight > 0 else []
        if s.fusion == "rrf":
            fused = rrf_fusion(lexical, dense, s.dense_weight, s.rrf_k)
        else:
            fused = zscore_fusion(lexical, dense, s.dense_weight)
        with self._db_lock:
            chunks = self.reader.store.get_chunks([cid for cid, _ in fused])
        lex, den = dict(lexical), dict(dense)
        per_article: dict[str, int] = {}
        out: list[Passage] = []
        for cid, score in fused:
            chunk = chunks.get(cid)
            if chunk is None:  # vector of a chunk deleted by a newer build
                continue
            if per_article.get(chunk.article_id, 0) >= s.per_article_cap:
                continue
            per_article[chunk.article_id] = per_article.get(chunk.article_id, 0) + 1
            out.append(
                Passage(
                    cid, chunk.article_id, chunk.title, chunk.date, chunk.text,
                    chunk.start, chunk.end, round(score, 4), lex.get(cid), den.get(cid),
                )
            )
            if len(out) >= top_k:
                break
        return out
