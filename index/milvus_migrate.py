"""`litopys migrate`: copy a local index (SQLite/FTS5 + FAISS in ``index_dir``) into Milvus, no re-embedding.

It reads the published local generation (chunk texts, their lemmas as FTS5 holds them, the
vectors from the FAISS file) and writes it to the Milvus collections of ``[index]`` as one new
generation that replaces whatever was there, under the same chunk ids and build facts, so a
later `litopys index` against Milvus goes on incrementally.

Resumable: articles are copied in id order, a batch at a time, and a ``migrate`` row in the
meta collection records the source and how many articles are done. Killed and run again on the
same source, it deletes the half-written batch and goes on from there; a changed source, or a
`litopys index` run in between (which deletes unpublished rows), starts it over. Publishing
(one upsert of the record) and the clean-up of older rows are as in litopys.index.milvus_build.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from litopys.core.config import Settings
from litopys.core.errors import IndexStateError
from litopys.index import vectors
from litopys.index.builder import DB_NAME, Prepared, ProgressFn, build_lock, fault_point
from litopys.index.chunking import Chunk
from litopys.index.milvus import Milvus, Published, literals, writing
from litopys.index.milvus_build import _prepare_collections, _settle, _write_record, insert_rows, seal
from litopys.index.milvus_lock import write_lock
from litopys.index.reader import check_index
from litopys.index.store import Store

log = logging.getLogger(__name__)

ARTICLE_BATCH = 64  # articles per resumable step
PROGRESS_KEY = "migrate"
# The local build facts a Milvus record carries (the signature, so the next build stays incremental).
_FACT_KEYS = ("schema", "embedder", "dim", "chunking", "embedder_revision", "corpus_dir")


@dataclass
class MigrateReport:
    """What one `litopys migrate` run did."""

    articles: int = 0
    chunks: int = 0
    resumed_from: int = 0  # articles a previous, interrupted run had already copied
    generation: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Source:
    """The published local index, open for reading."""

    store: Store
    meta: dict[str, str]
    row_of: dict[int, int]  # chunk id -> row of ``matrix``
    matrix: np.ndarray

    @classmethod
    def open(cls, index_dir: Path) -> Source:
        check_index(index_dir)
        store = Store(index_dir / DB_NAME, readonly=True)
        meta = store.get_meta()
        if "generation" not in meta:
            store.close()
            raise IndexStateError(f"no local index at {index_dir} to migrate; run `litopys index` first")
        path = vectors.vectors_path(index_dir, int(meta["generation"]))
        matrix, ids = vectors.all_vectors(vectors.read_index(path, int(meta["dim"]), meta.get("vectors_sha256")))
        return cls(store, meta, {int(c): i for i, c in enumerate(ids)}, matrix)

    @property
    def key(self) -> dict[str, str]:
        """What identifies this source for a resumed run: the same file, the same generation."""
        return {k: self.meta.get(k, "") for k in ("generation", "built_at", "vectors_sha256")}

    def articles(self) -> list[str]:
        return sorted(self.store.article_hashes())

    def prepared(self, article_ids: list[str]) -> tuple[list[Prepared], list[int]]:
        """The articles with their stored chunks and lemmas, and the chunk ids in the same order."""
        out: list[Prepared] = []
        ids: list[int] = []
        for aid in article_ids:
            article = self.store.get_article(aid)
            if article is None:
                continue
            chunk_ids = sorted(self.store.chunk_ids_of([aid]))
            stored = self.store.get_chunks(chunk_ids)
            lemma_of = dict(
                self.store.conn.execute(
                    f"SELECT rowid, lemmas FROM chunks_fts WHERE rowid IN ({','.join('?' * len(chunk_ids))})",
                    chunk_ids,
                ).fetchall()
            )
            chunks = [Chunk(aid, stored[c].ordinal, stored[c].start, stored[c].end, stored[c].text) for c in chunk_ids]
            out.append((article, chunks, [lemma_of.get(c, "") for c in chunk_ids]))
            ids += chunk_ids
        return out, ids

    def close(self) -> None:
        self.store.close()


def migrate_to_milvus(settings: Settings, progress: ProgressFn | None = None) -> MigrateReport:
    """Copy the local index of ``settings.index_dir`` into the Milvus index of ``settings.index``."""
    started = time.perf_counter()
    index_dir = Path(settings.index_dir)
    source = Source.open(index_dir)
    report = MigrateReport()
    try:
        with build_lock(index_dir), writing(settings.index, "migrating the index") as milvus:
            _prepare_collections(milvus, int(source.meta["dim"]), settings.index.dense_index)
            with write_lock(milvus):
                _migrate(milvus, source, report, progress)
    finally:
        source.close()
    report.seconds = time.perf_counter() - started
    return report


def _progress_row(milvus: Milvus, generation: int) -> dict[str, Any] | None:
    rows = milvus.query(milvus.names.meta, f'key == "{PROGRESS_KEY}" and gen == {generation}', ["value"])
    return json.loads(rows[0]["value"]) if rows else None


def _record_progress(milvus: Milvus, generation: int, source: Source, done: int) -> None:
    value = json.dumps({"source": source.key, "done": done})
    row = {"key": PROGRESS_KEY, "gen": generation, "value": value, "unused": [0.0, 0.0]}
    milvus.client.upsert(milvus.names.meta, [row], timeout=milvus.timeout)


def _migrate(milvus: Milvus, source: Source, report: MigrateReport, progress: ProgressFn | None) -> None:
    published = milvus.published()
    generation = (published.generation if published else 0) + 1
    state = _progress_row(milvus, generation)
    done = state["done"] if state and state["source"] == source.key else 0
    if done:
        log.info("resuming an interrupted migration: %d articles already copied", done)
    else:
        published = _settle(milvus, published)  # drops unpublished rows: a killed build's, or another source's
    article_ids = source.articles()
    report.resumed_from = done
    if done < len(article_ids):  # a killed run may have written part of the next batch
        partial = article_ids[done : done + ARTICLE_BATCH]
        for name in (milvus.names.chunks, milvus.names.articles):
            expr = f"gen == {generation} and article_id in {literals(partial)}"
            milvus.client.delete(name, filter=expr, timeout=milvus.timeout)
    for start in range(done, len(article_ids), ARTICLE_BATCH):
        batch = article_ids[start : start + ARTICLE_BATCH]
        prepared, ids = source.prepared(batch)
        matrix = source.matrix[[source.row_of[c] for c in ids]] if ids else np.zeros((0, 1), np.float32)
        insert_rows(milvus, generation, prepared, matrix, ids)
        _record_progress(milvus, generation, source, start + len(batch))
        fault_point("migrate-batch")  # a batch copied, the run not finished
        if progress:
            progress("migrating", start + len(batch), len(article_ids))
    seal(milvus)
    chunk_ids = sorted(source.row_of)
    facts: dict[str, Any] = {k: source.meta[k] for k in _FACT_KEYS if k in source.meta}
    facts.update(
        built_at=source.meta.get("built_at", ""),
        next_chunk_id=int(source.meta.get("next_chunk_id", (chunk_ids[-1] + 1) if chunk_ids else 1)),
        articles=len(article_ids),
        chunks=len(chunk_ids),
    )
    record = Published(generation, generation, 0, facts)  # floor = generation: it replaces all older rows
    _write_record(milvus, record)
    milvus.client.delete(milvus.names.meta, filter=f'key == "{PROGRESS_KEY}"', timeout=milvus.timeout)
    _settle(milvus, record)
    report.articles, report.chunks, report.generation = len(article_ids), len(chunk_ids), generation
