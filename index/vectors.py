"""The FAISS index of normalized chunk embeddings, keyed by chunk id.

Inner product on L2-normalized vectors is cosine similarity. Each published
build writes a new file ``vectors.<generation>.faiss`` (temp file, fsync,
atomic rename) before the database commit names that generation, so a
reader never pairs a database with a half-written vector file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from litopys.core.errors import IndexStateError
from litopys.core.integrity import file_sha256, fsync_dir

# One query at a time needs no thread team; FAISS's OpenMP threads spin after each search and
# take the cores from the query embedding and SQLite (one thread made queries several times
# faster; figures in docs/performance.md). Graph building sets more (``_all_cores``).
faiss.omp_set_num_threads(1)


@contextmanager
def _all_cores() -> Iterator[None]:
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(1)


# Every index here maps chunk ids to vectors (IndexIDMap2 over a flat or HNSW index). faiss's
# SWIG-generated stubs type all of them as the base Index, without downcasts or search
# parameters, so they are untyped for mypy.
IdIndex = Any


def new_index(dim: int) -> IdIndex:
    """An empty exact (flat, inner-product) index that maps vectors to chunk ids."""
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def vectors_path(index_dir: Path, generation: int) -> Path:
    return Path(index_dir) / f"vectors.{generation}.faiss"


def hnsw_path(index_dir: Path, generation: int) -> Path:
    """Where the search graph derived from a generation's flat vectors is cached."""
    return Path(index_dir) / f"vectors.{generation}.hnsw.faiss"


HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


def all_vectors(index: IdIndex) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, chunk ids) stored in a flat IndexIDMap, in insertion order."""
    return index.index.reconstruct_n(0, index.ntotal), index_ids(index)


def hnsw_from_flat(index: IdIndex) -> IdIndex:
    """An approximate (HNSW graph) index over the same vectors and ids: sub-linear search."""
    graph = faiss.IndexHNSWFlat(index.d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    graph.hnsw.efSearch = HNSW_EF_SEARCH
    # IDMap2 keeps the id -> vector map, so candidates can be scored exactly (scores_for).
    out = faiss.IndexIDMap2(graph)
    vecs, ids = all_vectors(index)
    with _all_cores():
        out.add_with_ids(vecs, ids)
    return out


def searchable(index: IdIndex, hnsw_threshold: int, cache: Path | None = None) -> IdIndex:
    """The index to search: the exact flat one below ``hnsw_threshold`` vectors, an HNSW graph above.

    The flat IndexIDMap2 stays the stored truth (it supports removals for incremental
    builds); the graph is derived from it once per generation and cached in ``cache``.
    """
    if index.ntotal < hnsw_threshold:
        return index
    if cache is not None and cache.exists():
        try:
            graph: IdIndex = faiss.read_index(str(cache))
            if isinstance(graph, faiss.IndexIDMap2) and graph.ntotal == index.ntotal and graph.d == index.d:
                hnsw: IdIndex = faiss.downcast_index(graph.index)
                hnsw.hnsw.efSearch = HNSW_EF_SEARCH
                return graph
        except RuntimeError:
            pass  # damaged cache: rebuild it below
    graph = hnsw_from_flat(index)
    if cache is not None:
        with contextlib.suppress(OSError):  # a read-only index folder: keep the graph in memory only
            write_index(graph, cache)
    return graph


def write_index(index: IdIndex, path: Path) -> None:
    """Write ``index`` to ``path`` atomically (temp file + fsync + rename)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    faiss.write_index(index, str(tmp))
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def read_index(path: Path, dim: int, sha256: str | None = None) -> IdIndex:
    """Load a vector file and check its dimension (and checksum, if given); damage is reported, not raised raw."""
    if not path.exists():
        raise IndexStateError(f"vector file {path} is missing; run `litopys index --rebuild`")
    if sha256 and file_sha256(path) != sha256:
        raise IndexStateError(
            f"vector file {path} does not match the checksum recorded when it was published (damaged); "
            "run `litopys index --rebuild`"
        )
    try:
        index = faiss.read_index(str(path))
    except RuntimeError as exc:
        raise IndexStateError(f"vector file {path} is damaged; run `litopys index --rebuild`") from exc
    if index.d != dim:
        raise IndexStateError(f"vector file {path} has dimension {index.d}, expected {dim}")
    return index


def index_ids(index: IdIndex) -> np.ndarray:
    """The chunk ids stored in an IndexIDMap."""
    return faiss.vector_to_array(index.id_map).astype(np.int64)


def search(index: IdIndex, query: np.ndarray, k: int, allowed: Sequence[int] | None = None) -> list[tuple[int, float]]:
    """Top-``k`` (chunk id, cosine) pairs for one normalized query vector.

    With ``allowed``, only those chunk ids compete (an exact search over the subset,
    so a filter never costs results the way post-filtering a top-k list would).
    """
    if index.ntotal == 0 or (allowed is not None and len(allowed) == 0):
        return []
    params = None
    if allowed is not None and not isinstance(faiss.downcast_index(index.index), faiss.IndexFlat):
        # A graph search restricted by a selector can miss allowed ids; score the subset exactly.
        return sorted(scores_for(index, query, list(allowed)), key=lambda kv: (-kv[1], kv[0]))[:k]
    if allowed is not None:
        # The selector must stay referenced while faiss searches.
        selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
        params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]  # SWIG kwargs, unknown to the stub
        k = min(k, len(allowed))
    scores, ids = index.search(query.reshape(1, -1).astype(np.float32), min(k, index.ntotal), params=params)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=False) if i != -1]


def scores_for(index: IdIndex, query: np.ndarray, ids: list[int]) -> list[tuple[int, float]]:
    """Exact cosine of the query with the stored vectors of ``ids`` (unknown ids are skipped)."""
    out = []
    q = query.astype(np.float32).ravel()
    for i in ids:
        try:
            out.append((int(i), float(np.dot(index.reconstruct(int(i)), q))))
        except RuntimeError:  # id not in this generation's vectors
            continue
    return out


def remove_stale(index_dir: Path, keep: set[int]) -> None:
    """Delete vector files of generations not in ``keep`` (and leftover temp files)."""
    for path in Path(index_dir).glob("vectors.*.faiss*"):
        parts = path.name.split(".")
        gen = parts[1] if len(parts) > 2 else ""
        if path.name.endswith(".tmp") or not gen.isdigit() or int(gen) not in keep:
            path.unlink(missing_ok=True)
