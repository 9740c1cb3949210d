"""Open the last published local index (database + vector file of the same generation) for reading.

The local backend of litopys.index.backend: BM25 from SQLite FTS5, dense search from FAISS.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import numpy as np

from litopys.core.errors import IndexStateError
from litopys.index import vectors
from litopys.index.backend import DatedArticles, LexicalHits, Ranking
from litopys.index.builder import DB_NAME
from litopys.index.corpus import Article
from litopys.index.filters import RetrievalFilter
from litopys.index.store import SqlFilter, Store, StoredChunk
from litopys.index.vectors import IdIndex


@dataclass
class Snapshot:
    """One consistent generation: its vector index and build facts.

    BM25 and chunk texts come from the database, which always shows the last committed
    generation; a chunk a newer build deleted is simply absent from ``chunks``.
    """

    generation: int
    vectors: IdIndex
    meta: dict[str, str]
    store: Store | None = field(default=None, repr=False)
    # The reader's one SQLite connection is shared by threads: one statement at a time.
    db_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _store(self) -> Store:
        if self.store is None:
            raise IndexStateError("this snapshot was made without its database")
        return self.store

    @staticmethod
    def _where(filters: RetrievalFilter | None) -> SqlFilter | None:
        return filters.sql() if filters and filters.active else None

    def lexical(self, lemmas: Sequence[str], limit: int, filters: RetrievalFilter | None) -> LexicalHits:
        # One FTS5 pass scores every match: a second pass for a few rows would cost as much (store.bm25_scores).
        with self.db_lock:
            matched = self._store().bm25_scores(lemmas, self._where(filters))
        top = heapq.nlargest(limit, matched.items(), key=itemgetter(1))
        return LexicalHits(top, lambda ids: {c: matched[c] for c in ids if c in matched})

    def dense(self, query: np.ndarray, limit: int, filters: RetrievalFilter | None) -> Ranking:
        where = self._where(filters)
        allowed = None
        if where is not None:
            with self.db_lock:
                allowed = self._store().chunk_ids_where(where)
        return vectors.search(self.vectors, query, limit, allowed)

    def dense_scores(self, query: np.ndarray, ids: Sequence[int]) -> Ranking:
        return vectors.scores_for(self.vectors, query, list(ids))

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        with self.db_lock:
            return self._store().get_chunks(ids)

    def chunk_dates(self, ids: Sequence[int]) -> dict[int, str | None]:
        with self.db_lock:
            return self._store().chunk_dates(ids)

    def dated_articles(self, filters: RetrievalFilter | None) -> DatedArticles:
        with self.db_lock:
            return DatedArticles(*self._store().dated_articles(self._where(filters)))


class IndexReader:
    """Read access that follows new generations as builds publish them.

    From ``hnsw_threshold`` vectors on, dense search runs on an HNSW graph (None: always exact).
    """

    def __init__(self, index_dir: Path, embedder_spec: str, dim: int, hnsw_threshold: int | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.embedder_spec = embedder_spec
        self.dim = dim
        self.hnsw_threshold = hnsw_threshold
        self.store = Store(self.index_dir / DB_NAME, readonly=True)
        self._lock = threading.Lock()
        self.db_lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self.refresh()

    def snapshot(self) -> Snapshot:
        """The current generation for one question (``refresh``)."""
        return self.refresh()

    def refresh(self) -> Snapshot:
        """Return the current generation, loading its vector file if a build published a new one."""
        with self.db_lock:
            meta = self.store.get_meta()
        if "generation" not in meta:
            raise IndexStateError(f"the index at {self.index_dir} is empty; run `litopys index`")
        if meta.get("embedder") != self.embedder_spec or meta.get("dim") != str(self.dim):
            raise IndexStateError(
                f"the index was built with embedder {meta.get('embedder')} ({meta.get('dim')}-d) "
                f"but the settings ask for {self.embedder_spec} ({self.dim}-d); "
                "run `litopys index` to rebuild it"
            )
        generation = int(meta["generation"])
        with self._lock:
            if self._snapshot is None or self._snapshot.generation != generation:
                path = vectors.vectors_path(self.index_dir, generation)
                index = vectors.read_index(path, self.dim, meta.get("vectors_sha256"))
                if self.hnsw_threshold is not None:
                    graph_cache = vectors.hnsw_path(self.index_dir, generation)
                    index = vectors.searchable(index, self.hnsw_threshold, graph_cache)
                self._snapshot = Snapshot(generation, index, meta, self.store, self.db_lock)
            return self._snapshot

    def article(self, article_id: str) -> Article | None:
        """One indexed article with its full body, or None when it is not indexed."""
        with self.db_lock:
            return self.store.get_article(article_id)

    def close(self) -> None:
        self.store.close()


def indexed_article(index_dir: Path, article_id: str) -> Article | None:
    """One indexed article (full body, as chunk offsets count it), or None when it is not indexed.

    Opens its own read-only connection, so a viewer never waits for a running search.
    """
    with closing(Store(Path(index_dir) / DB_NAME, readonly=True)) as store:
        return store.get_article(article_id)


def index_status(index_dir: Path) -> dict[str, object]:
    """Counts and build facts of the published index (empty dict when there is none yet)."""
    path = Path(index_dir) / DB_NAME
    if not path.exists():
        return {}
    with closing(Store(path, readonly=True)) as store:
        meta = store.get_meta()
        if "generation" not in meta:
            return {}
        return {
            **store.counts(),
            "embedder": meta.get("embedder"),
            "dim": meta.get("dim"),
            "built_at": meta.get("built_at"),
            "generation": int(meta["generation"]),
            "corpus_dir": meta.get("corpus_dir"),
        }


def list_articles(index_dir: Path) -> list[tuple[str, str, str | None]]:
    """(id, title, date) of every indexed article, by id; empty when there is no index yet."""
    if not (Path(index_dir) / DB_NAME).exists():
        return []
    with closing(Store(Path(index_dir) / DB_NAME, readonly=True)) as store:
        return store.article_list()


def list_sections_and_tags(index_dir: Path) -> tuple[list[str], list[str]]:
    """The sections and tags of the indexed articles (for filters); empty when there is no index yet."""
    if not (Path(index_dir) / DB_NAME).exists():
        return [], []
    with closing(Store(Path(index_dir) / DB_NAME, readonly=True)) as store:
        return store.sections_and_tags()


def verify_index(index_dir: Path) -> list[str]:
    """Cross-check the published generation; return the problems found (empty when consistent).

    The vector file named by the database, the ``chunks`` table and the FTS table must hold
    exactly the same chunk ids, and every chunk must belong to an article.
    """
    store = Store(Path(index_dir) / DB_NAME, readonly=True)
    try:
        damage = store.quick_check()  # first: reading a damaged table raises
        if damage:
            return [f"the database fails SQLite's check: {'; '.join(damage[:3])}"]
        meta = store.get_meta()
        if "generation" not in meta:
            return ["no published generation"]
        path = vectors.vectors_path(Path(index_dir), int(meta["generation"]))
        try:
            # The checksum is absent in indexes built before it was recorded.
            index = vectors.read_index(path, int(meta["dim"]), meta.get("vectors_sha256"))
        except IndexStateError as exc:
            return [str(exc)]
        dense_list = vectors.index_ids(index).tolist()
        dense = set(dense_list)
        chunks = set(store.all_chunk_ids())
        fts = {r[0] for r in store.conn.execute("SELECT rowid FROM chunks_fts")}
        orphans = store.conn.execute(
            "SELECT COUNT(*) FROM chunks c LEFT JOIN articles a ON a.id = c.article_id WHERE a.id IS NULL"
        ).fetchone()[0]
    finally:
        store.close()
    problems = []
    if len(dense_list) != len(dense):
        problems.append(f"{path.name} holds {len(dense_list) - len(dense)} duplicate chunk ids")
    for name, ids in (("the vector file", dense), ("the FTS table", fts)):
        if ids - chunks:
            problems.append(f"{name} has {len(ids - chunks)} chunk ids missing from `chunks`")
        if chunks - ids:
            problems.append(f"{len(chunks - ids)} chunks are missing from {name}")
    if orphans:
        problems.append(f"{orphans} chunks belong to no article")
    return problems


def check_index(index_dir: Path) -> None:
    """Refuse to start on a damaged index, naming the one-command repair.

    A missing or empty index is left to IndexReader, which says to run `litopys index`.
    """
    if not (Path(index_dir) / DB_NAME).exists():
        return
    problems = verify_index(index_dir)
    if problems and problems != ["no published generation"]:
        raise IndexStateError(
            f"the index at {index_dir} is damaged: {'; '.join(problems[:3])}. "
            "Repair it with `litopys index --rebuild` (re-reads the corpus folder)"
        )
