"""One index interface, two backends: what retrieval, the filters, fusion, the evidence gate and the viewer read.

``[index] backend`` picks the implementation: ``local`` (SQLite/FTS5 + FAISS files in
``index_dir``; litopys.index.reader) or ``milvus`` (collections on a Milvus server;
litopys.index.milvus). Retrieval takes one ``IndexSnapshot`` per question and reads
both signals and the chunk texts from it, so a question sees one published generation
while a build publishes the next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from litopys.core.config import Settings
from litopys.index.corpus import Article
from litopys.index.filters import RetrievalFilter
from litopys.index.store import StoredChunk

Ranking = list[tuple[int, float]]  # (chunk id, score), best first


@dataclass(frozen=True)
class LexicalHits:
    """The best chunks by BM25, and the exact BM25 score of any other chunks (absent: no shared lemma)."""

    top: Ranking
    score_of: Callable[[Sequence[int]], dict[int, float]]


@dataclass(frozen=True)
class DatedArticles:
    """How many articles a filter lets through, how many of them have a date, and their date span."""

    articles: int
    dated: int
    oldest: str | None
    newest: str | None


class IndexSnapshot(Protocol):
    """One published generation, as one question reads it."""

    generation: int

    def lexical(self, lemmas: Sequence[str], limit: int, filters: RetrievalFilter | None) -> LexicalHits:
        """The ``limit`` best chunks by BM25 over ``lemmas`` among those ``filters`` let through."""
        ...

    def dense(self, query: np.ndarray, limit: int, filters: RetrievalFilter | None) -> Ranking:
        """The ``limit`` chunks nearest to the normalized ``query`` vector (cosine)."""
        ...

    def dense_scores(self, query: np.ndarray, ids: Sequence[int]) -> Ranking:
        """Exact cosine of ``query`` with the stored vectors of ``ids`` (unknown ids are skipped)."""
        ...

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        """The chunks of ``ids`` with their article's title, date and origin (gone ones are absent)."""
        ...

    def chunk_dates(self, ids: Sequence[int]) -> dict[int, str | None]:
        """The date of each chunk's article (None: undated), by chunk id (gone ones are absent)."""
        ...

    def dated_articles(self, filters: RetrievalFilter | None) -> DatedArticles:
        """The articles ``filters`` let through (all with None): counts and date span."""
        ...


class SearchIndex(Protocol):
    """A published index open for reading; follows new generations as builds publish them."""

    def snapshot(self) -> IndexSnapshot: ...

    def article(self, article_id: str) -> Article | None:
        """One published article with its full body, or None when it is not indexed."""
        ...

    def close(self) -> None: ...


def is_milvus(settings: Settings) -> bool:
    return settings.index.backend == "milvus"


def open_index(settings: Settings, embedder_spec: str, dim: int) -> SearchIndex:
    """The published index of ``settings`` for answering (fails clearly when there is none)."""
    if is_milvus(settings):
        from litopys.index.milvus import MilvusIndex

        return MilvusIndex(settings.index, embedder_spec, dim)
    from litopys.index.reader import IndexReader

    return IndexReader(settings.index_dir, embedder_spec, dim, settings.retrieval.hnsw_threshold)


def check_index(settings: Settings) -> None:
    """Refuse to start on a damaged local index (the Milvus backend is checked as it opens)."""
    if not is_milvus(settings):
        from litopys.index.reader import check_index as check_local

        check_local(settings.index_dir)


def indexed_article(settings: Settings, article_id: str) -> Article | None:
    """One indexed article with its full body (for the viewer), or None when it is not indexed."""
    if is_milvus(settings):
        from litopys.index.milvus import MilvusIndex

        with MilvusIndex.for_browsing(settings.index) as index:
            return index.article(article_id)
    from litopys.index.reader import indexed_article as local_article

    return local_article(settings.index_dir, article_id)


def list_articles(settings: Settings) -> list[tuple[str, str, str | None]]:
    """(id, title, date) of every indexed article, by id; empty when there is no index yet."""
    if is_milvus(settings):
        from litopys.index.milvus import MilvusIndex

        with MilvusIndex.for_browsing(settings.index) as index:
            return index.article_list()
    from litopys.index.reader import list_articles as local_list

    return local_list(settings.index_dir)


def list_sections_and_tags(settings: Settings) -> tuple[list[str], list[str]]:
    """The sections and tags of the indexed articles (for filters); empty when there is no index yet."""
    if is_milvus(settings):
        from litopys.index.milvus import MilvusIndex

        with MilvusIndex.for_browsing(settings.index) as index:
            return index.sections_and_tags()
    from litopys.index.reader import list_sections_and_tags as local_sections

    return local_sections(settings.index_dir)


def index_status(settings: Settings) -> dict[str, object]:
    """Counts and build facts of the published index (empty dict when there is none yet)."""
    if is_milvus(settings):
        from litopys.index.milvus import MilvusIndex

        with MilvusIndex.for_browsing(settings.index) as index:
            return index.status()
    from litopys.index.reader import index_status as local_status

    return local_status(settings.index_dir)
