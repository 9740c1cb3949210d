"""Index-side measurements for `litopys bench`: indexing overhead, retrieval latency at 10k/100k, HNSW recall.

The 100k-chunk index is the real index repeated with new chunk ids (its rows copied by
the store, its embeddings tiled with a little noise so copies are near-duplicates, not exact
ties); nothing is re-embedded, and the result is cached until the source index changes.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from litopys.core.config import Settings
from litopys.core.integrity import file_sha256
from litopys.core.measure import times_ms
from litopys.index import vectors
from litopys.index.builder import DB_NAME, build_index
from litopys.index.embedder import Embedder, SentenceEmbedder
from litopys.index.lemmatize import lemma
from litopys.index.reader import IndexReader
from litopys.index.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexingRun:
    """Our full pipeline vs raw SentenceTransformer.encode over the same chunk texts."""

    articles: int
    chunks: int
    pipeline_s: float
    raw_encode_s: float


def indexing_overhead(
    settings: Settings, embedder: SentenceEmbedder, corpus: Path, index_dir: Path, repeats: int = 2
) -> IndexingRun:
    """Build ``corpus`` from scratch into ``index_dir`` and time raw encoding of the chunks it made.

    Both are run ``repeats`` times, alternating, and the fastest of each is kept: on a noisy
    machine a single pass of either can be slowed by 10-20% by something else running.
    """
    run = settings.model_copy(update={"corpus_dir": corpus, "index_dir": index_dir})
    pipeline, raw = [], []
    for _ in range(repeats):
        lemma.cache_clear()  # each build starts as a new `litopys index` process does: nothing cached
        report = build_index(run, embedder, force_rebuild=True)
        pipeline.append(report.seconds)
        with closing(Store(Path(index_dir) / DB_NAME, readonly=True)) as store:
            ids = store.all_chunk_ids()
            chunks = store.get_chunks(ids)
            texts = [chunks[i].text for i in ids]
        # The reference is what any indexer must at least spend: the bare model over the same texts.
        t = time.perf_counter()
        embedder.model.encode(
            texts, batch_size=settings.embedder.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        raw.append(time.perf_counter() - t)
    return IndexingRun(report.articles_total, report.chunks_total, min(pipeline), min(raw))


def _source_stamp(index_dir: Path) -> str:
    with closing(Store(Path(index_dir) / DB_NAME, readonly=True)) as store:
        meta = store.get_meta()
        return f"{meta.get('embedder')}|{meta.get('generation')}|{meta.get('built_at')}|{store.counts()['chunks']}"


def tiled_index(source: Path, target: Path, copies: int, *, seed: int = 0) -> Path:
    """``target`` holding ``copies`` copies of the index in ``source`` (built once, reused while unchanged)."""
    stamp = f"{_source_stamp(source)}|x{copies}"
    db = target / DB_NAME
    if db.exists():
        with closing(Store(db, readonly=True)) as store:
            meta = store.get_meta()
        path = vectors.vectors_path(target, int(meta.get("generation", "0")))
        if meta.get("bench_source") == stamp and path.exists() and meta.get("vectors_sha256") == file_sha256(path):
            return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with closing(sqlite3.connect(source / DB_NAME)) as src, closing(sqlite3.connect(db)) as dst:
        src.backup(dst)
    with closing(Store(db)) as store, store.conn:
        offset = store.add_copies(copies)
        generation = int(store.get_meta()["generation"])
    flat = vectors.read_index(vectors.vectors_path(source, generation), _dim(source))
    vecs, ids = vectors.all_vectors(flat)
    rng = np.random.default_rng(seed)
    big = vectors.new_index(flat.d)
    for k in range(copies):
        part = vecs if k == 0 else vecs + rng.normal(0, 0.1 / np.sqrt(flat.d), vecs.shape).astype(np.float32)
        part /= np.linalg.norm(part, axis=1, keepdims=True)
        big.add_with_ids(part.astype(np.float32), ids + k * offset)
    path = vectors.vectors_path(target, generation)
    vectors.write_index(big, path)
    # The copied metadata names the source's checksum. Stamped after the vectors are written:
    # an interrupted tiling is redone, never reused half-made.
    with closing(Store(db)) as store, store.conn:
        store.set_meta({"vectors_sha256": file_sha256(path), "bench_source": stamp})
    return target


def _dim(index_dir: Path) -> int:
    with closing(Store(Path(index_dir) / DB_NAME, readonly=True)) as store:
        return int(store.get_meta()["dim"])


@dataclass(frozen=True)
class LatencyRun:
    """Query latencies (ms) at one index size: end to end and per stage."""

    chunks: int
    index_type: str
    total_ms: list[float]
    search_ms: list[float]  # the same search with the query vector computed in advance
    embed_ms: list[float]
    bm25_ms: list[float]
    dense_ms: list[float]
    exact_dense_ms: list[float]
    recall_at_10: float | None  # of the searched index vs exact flat search; None when it is flat
    open_s: float  # opening the index, including building/caching an HNSW graph


def retrieval_latency(settings: Settings, embedder: Embedder, index_dir: Path, queries: Sequence[str]) -> LatencyRun:
    """p50/p95 material for ``queries`` against the index in ``index_dir`` (hybrid search, no LLM)."""
    from litopys.rag.retrieval import Retriever

    t = time.perf_counter()
    reader = IndexReader(index_dir, embedder.spec, embedder.dim, settings.retrieval.hnsw_threshold)
    open_s = time.perf_counter() - t
    try:
        retriever = Retriever(reader, embedder, settings.retrieval)
        searched = reader.refresh().vectors
        flat = vectors.read_index(vectors.vectors_path(index_dir, reader.refresh().generation), embedder.dim)
        total = times_ms(retriever.search, queries, warmup=3)
        qvecs = {q: embedder.encode_query(q) for q in queries}
        search = times_ms(Retriever(reader, _Precomputed(embedder, qvecs), settings.retrieval).search, queries)
        embed = times_ms(embedder.encode_query, queries)
        bm25 = times_ms(lambda q: retriever.lexical(q, settings.retrieval.candidates), queries)
        k = settings.retrieval.candidates
        dense = times_ms(lambda q: vectors.search(searched, qvecs[q], k), queries)
        exact = times_ms(lambda q: vectors.search(flat, qvecs[q], k), queries)
        graph = flat.ntotal >= settings.retrieval.hnsw_threshold
        recall = recall_at(searched, flat, _probe_queries(flat, qvecs.values()), 10) if graph else None
        kind = "HNSW" if graph else "flat (exact)"
        return LatencyRun(flat.ntotal, kind, total, search, embed, bm25, dense, exact, recall, open_s)
    finally:
        reader.close()


class _Precomputed:
    """The embedder with its query vectors computed in advance: times the search without the model."""

    def __init__(self, embedder: Embedder, query_vectors: dict[str, np.ndarray]) -> None:
        self.embedder = embedder
        self.query_vectors = query_vectors

    def encode_query(self, text: str) -> np.ndarray:
        return self.query_vectors[text]

    def __getattr__(self, name: str):
        return getattr(self.embedder, name)


def _probe_queries(flat, question_vectors, n: int = 200, seed: int = 1) -> np.ndarray:
    """Question embeddings plus perturbed stored vectors: enough probes for a stable recall figure."""
    vecs, _ = vectors.all_vectors(flat)
    rng = np.random.default_rng(seed)
    picked = vecs[rng.choice(len(vecs), size=min(n, len(vecs)), replace=False)]
    picked = picked + rng.normal(0, 0.5 / np.sqrt(flat.d), picked.shape).astype(np.float32)
    picked /= np.linalg.norm(picked, axis=1, keepdims=True)
    return np.vstack([np.asarray(list(question_vectors)), picked]).astype(np.float32)


def recall_at(index, flat, queries: np.ndarray, k: int) -> float:
    """Share of the exact top-``k`` that ``index`` also returns (ties at the k-th score count as found)."""
    exact_scores, exact_ids = flat.search(queries, k)
    scores, ids = index.search(queries, k)
    found = 0
    for row in range(len(queries)):
        got = set(ids[row].tolist())
        kth = exact_scores[row, -1]
        tied = sum(1 for s in scores[row] if s >= kth - 1e-6)
        found += max(len(got & set(exact_ids[row].tolist())), min(tied, k))
    return found / (k * len(queries))
