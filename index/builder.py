"""Build or update the on-disk index from a corpus folder.

Incremental by content hash: only new and changed articles are chunked,
lemmatized and embedded; removed articles lose their chunks. A change of
embedder, dimension or chunking settings forces a full rebuild (and says why).
Publishing is crash-safe: the new vector file is written completely under a
new generation number, then one SQLite transaction switches the metadata to
it; the old generation's file is deleted only after that commit.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from litopys.core.config import ChunkSettings, Settings
from litopys.core.errors import IndexBusyError, IndexStateError
from litopys.core.integrity import file_sha256
from litopys.index import vectors
from litopys.index.chunking import Chunk, chunk_article
from litopys.index.corpus import Article, FileIssue, load_corpus
from litopys.index.embedder import Embedder
from litopys.index.lemmatize import lemmas
from litopys.index.store import SCHEMA_VERSION, Store
from litopys.index.vectors import IdIndex

log = logging.getLogger(__name__)

DB_NAME = "litopys.sqlite3"
LOCK_NAME = ".build.lock"
EMBED_BATCH = 64

# (stage, done, total): lets the CLI draw a rich bar and the UI a gr.Progress.
ProgressFn = Callable[[str, int, int], None]


def fault_point(name: str) -> None:
    # Test-only fault injection: LITOPYS_FAULT_AT=<name> SIGKILLs the build here; no-op when unset.
    if os.environ.get("LITOPYS_FAULT_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class IndexReport:
    """What one `litopys index` run did."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: int = 0
    issues: list[FileIssue] = field(default_factory=list)
    chunks_embedded: int = 0
    full_rebuild_reason: str | None = None
    articles_total: int = 0
    chunks_total: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "articles_total": self.articles_total,
            "chunks_total": self.chunks_total,
            "chunks_embedded": self.chunks_embedded,
            "full_rebuild_reason": self.full_rebuild_reason,
            "issues": [{"path": i.path, "reason": i.reason, "skipped": i.skipped} for i in self.issues],
        }


@contextmanager
def build_lock(index_dir: Path, *, record_holder: bool = True) -> Iterator[None]:
    """Hold the single-writer lock for ``index_dir`` or fail with a clear message."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK_NAME, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip()
            who = f" ({holder})" if holder else ""
            raise IndexBusyError(
                f"another build{who} is updating the index at {index_dir}; try again when it finishes"
            ) from None
        if record_holder:
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()}")
            fh.flush()
        yield


def ensure_not_busy(index_dir: Path) -> None:
    """Fail at once, before models are loaded, if another build holds the lock.

    Only a courtesy check: ``build_index`` takes the lock itself for the actual build.
    """
    with build_lock(index_dir, record_holder=False):
        pass


def build_signature(
    chunking: ChunkSettings, embedder_spec: str, dim: int, embedder_revision: str = ""
) -> dict[str, str]:
    """The build facts that must match for an index to be updated incrementally."""
    signature = {
        "schema": SCHEMA_VERSION,
        "embedder": embedder_spec,
        "dim": str(dim),
        "chunking": json.dumps(chunking.model_dump(), sort_keys=True),
    }
    if embedder_revision:  # same model, other vectors (e.g. another tokenizer)
        signature["embedder_revision"] = embedder_revision
    return signature


def _rebuild_reason(meta: dict[str, str], signature: dict[str, str]) -> str | None:
    return signature_change(meta, signature) if "generation" in meta else None


def signature_change(facts: Mapping[str, object], signature: dict[str, str]) -> str | None:
    """Which build fact of an index differs from ``signature`` (None: it can be updated incrementally)."""
    for key, want in signature.items():
        have = facts.get(key)
        if have != want:
            return f"{key} changed ({have} -> {want})"
    return None


def build_index(
    settings: Settings,
    embedder: Embedder,
    *,
    corpus_dir: Path | None = None,
    force_rebuild: bool = False,
    progress: ProgressFn | None = None,
) -> IndexReport:
    """Bring the index in ``settings.index_dir`` in line with the corpus; return what changed."""
    started = time.perf_counter()
    corpus_dir = Path(corpus_dir or settings.corpus_dir)
    index_dir = Path(settings.index_dir)
    report = IndexReport()
    articles, issues = load_corpus(corpus_dir, settings.max_file_bytes, settings.exports)
    report.issues = issues
    report.skipped = sum(1 for i in issues if i.skipped)
    for issue in issues:
        log.warning("%s: %s%s", issue.path, "skipped, " if issue.skipped else "", issue.reason)

    with build_lock(index_dir):
        if settings.index.backend == "milvus":
            from litopys.index.milvus_build import update_milvus

            update_milvus(settings, embedder, articles, report, force_rebuild, progress)
        else:
            store = _open_for_build(index_dir / DB_NAME, force_rebuild)
            try:
                _update(store, settings, embedder, articles, index_dir, report, force_rebuild, progress)
            finally:
                store.close()
    report.seconds = time.perf_counter() - started
    return report


def _open_for_build(path: Path, force_rebuild: bool) -> Store:
    """The index database for writing; a damaged one fails, or with ``force_rebuild`` is set aside."""
    try:
        store = Store(path)
        problems = store.quick_check()
        if not problems:
            return store
        store.close()
        damage = IndexStateError(
            f"index database {path} is damaged ({'; '.join(problems[:3])}); run `litopys index --rebuild`"
        )
    except IndexStateError as exc:
        damage = exc
    if not force_rebuild:
        raise damage
    # Kept, not deleted: a damaged file may still matter to whoever investigates.
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
    os.replace(path, aside)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    log.warning("%s; moved it to %s and rebuilding from the corpus", damage, aside.name)
    return Store(path)


@dataclass
class Changes:
    """What the corpus changed since the last build, and so what to embed and what to drop."""

    rebuild_reason: str | None
    embed: list[Article]  # new and changed articles, in corpus order (every article on a full rebuild)
    stale: list[str]  # indexed articles whose chunks go: removed or changed (a full rebuild drops all)
    # What changed in the corpus since the last build (also reported for a full rebuild).
    added: int
    updated: int
    removed: int
    unchanged: int

    def report_to(self, report: IndexReport) -> None:
        report.full_rebuild_reason = self.rebuild_reason
        report.added, report.updated, report.removed = self.added, self.updated, self.removed
        report.unchanged = self.unchanged
        if self.rebuild_reason:
            log.info("full rebuild: %s", self.rebuild_reason)


@dataclass
class BuildPlan(Changes):
    """What a local build will change, decided before anything is written."""

    generation: int = 0  # the published generation the build starts from (0: none yet)
    vectors: IdIndex = None  # that generation's vectors, or an empty index for a full rebuild

    @property
    def publishes(self) -> bool:
        """Whether a new generation is written: a first build, a rebuild, or any change."""
        return bool(self.rebuild_reason or not self.generation or self.embed or self.stale)


def plan_build(
    store: Store, signature: dict[str, str], dim: int, index_dir: Path, articles: list[Article], force_rebuild: bool
) -> BuildPlan:
    """Compare ``articles`` with what the index holds: what to embed, what to drop, or why to rebuild."""
    reason, generation, base = _starting_point(store, signature, dim, index_dir, force_rebuild)
    changes = compare(store.article_hashes(), articles, reason)
    return BuildPlan(**vars(changes), generation=generation, vectors=base)


def compare(indexed: dict[str, str], articles: list[Article], reason: str | None) -> Changes:
    """Compare ``articles`` with the indexed ones' content hashes (``reason``: everything is rebuilt)."""
    current = {a.id for a in articles}
    # A full rebuild starts from nothing: every article is embedded again.
    kept = {} if reason else indexed
    embed = [a for a in articles if kept.get(a.id) != a.content_hash]
    removed = [aid for aid in indexed if aid not in current]
    added = sum(1 for a in articles if a.id not in indexed)
    updated = sum(1 for a in articles if a.id in indexed and indexed[a.id] != a.content_hash)
    stale = [] if reason else removed + [a.id for a in embed if a.id in indexed]
    return Changes(reason, embed, stale, added, updated, len(removed), len(articles) - added - updated)


def _starting_point(
    store: Store, signature: dict[str, str], dim: int, index_dir: Path, force_rebuild: bool
) -> tuple[str | None, int, IdIndex]:
    """Why everything must be rebuilt (None: it need not), the published generation, and its vectors."""
    meta = store.get_meta()
    reason = "requested (--rebuild)" if force_rebuild else _rebuild_reason(meta, signature)
    generation = int(meta.get("generation", "0"))
    old_path = vectors.vectors_path(index_dir, generation)
    if reason is None and generation and old_path.exists():
        return None, generation, vectors.read_index(old_path, dim, meta.get("vectors_sha256"))
    if reason is None and generation:
        reason = f"vector file {old_path.name} is missing"
    return reason, generation, vectors.new_index(dim)


def _update(
    store: Store,
    settings: Settings,
    embedder: Embedder,
    articles: list[Article],
    index_dir: Path,
    report: IndexReport,
    force_rebuild: bool,
    progress: ProgressFn | None,
) -> None:
    signature = build_signature(settings.chunking, embedder.spec, embedder.dim, embedder.revision)
    plan = plan_build(store, signature, embedder.dim, index_dir, articles, force_rebuild)
    plan.report_to(report)
    if plan.publishes:
        prepared, embeddings = prepare_and_embed(plan.embed, embedder, settings.chunking, progress)
        report.chunks_embedded = len(embeddings)
        new_generation = _publish(store, plan, prepared, embeddings, signature, index_dir, Path(settings.corpus_dir))
        fault_point("committed")  # new generation published, stale vector files not yet removed
        # Keep the previous generation one round so a reader mid-switch can still open it.
        vectors.remove_stale(index_dir, keep={new_generation, plan.generation})
    else:
        # Nothing to publish: keep the current generation (no new vector file, readers undisturbed),
        # but clear what a killed build may have left behind.
        vectors.remove_stale(index_dir, keep={plan.generation, plan.generation - 1})
    counts = store.counts()
    report.articles_total, report.chunks_total = counts["articles"], counts["chunks"]


def _publish(
    store: Store,
    plan: BuildPlan,
    prepared: list[Prepared],
    embeddings: np.ndarray,
    signature: dict[str, str],
    index_dir: Path,
    corpus_dir: Path,
) -> int:
    """Write the plan as the next generation in one transaction; returns the generation number.

    The new vector file is written completely before the metadata that names it is committed.
    """
    index = plan.vectors
    with store.conn:
        # Chunk ids are never reused (not even by --rebuild): a reader still holding an older
        # generation's vectors must find either the same chunk or none under an id, never another.
        next_id = max(store.next_chunk_id(), int(store.get_meta().get("next_chunk_id", "1")))
        if plan.rebuild_reason:
            store.conn.execute("DELETE FROM chunks_fts")
            store.conn.execute("DELETE FROM chunks")
            store.conn.execute("DELETE FROM articles")
        stale_chunks = store.chunk_ids_of(plan.stale)
        if stale_chunks:
            index.remove_ids(np.asarray(stale_chunks, dtype=np.int64))
        store.delete_articles(plan.stale)
        new_ids: list[int] = []
        for article, chunks, lemma_texts in prepared:
            ids = list(range(next_id, next_id + len(chunks)))
            next_id += len(chunks)
            new_ids += ids
            store.insert_article(article, chunks, ids, lemma_texts, " ".join(lemmas(article.title)))
        if new_ids:
            index.add_with_ids(embeddings, np.asarray(new_ids, dtype=np.int64))
        generation = plan.generation + 1
        path = vectors.vectors_path(index_dir, generation)
        vectors.write_index(index, path)
        store.set_meta(
            {
                **signature,
                "generation": str(generation),
                "vectors_sha256": file_sha256(path),
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "corpus_dir": str(corpus_dir.resolve()),
                "next_chunk_id": str(next_id),
            }
        )
        fault_point("vectors-written")  # new vector file on disk, metadata not committed
    return generation


Prepared = tuple[Article, list[Chunk], list[str]]


def _prepare(articles: list[Article], embedder: Embedder, chunking: ChunkSettings) -> Iterator[Prepared]:
    """Chunk and lemmatize each article (pure Python: holds the GIL)."""
    for article in articles:
        chunks = chunk_article(article, embedder.count_tokens, chunking.target_tokens, chunking.overlap_tokens)
        yield article, chunks, [" ".join(lemmas(c.text)) for c in chunks]


def prepare_and_embed(
    articles: list[Article], embedder: Embedder, chunking: ChunkSettings, progress: ProgressFn | None
) -> tuple[list[Prepared], np.ndarray]:
    """Chunk and lemmatize in a worker thread while this thread embeds the chunks made so far.

    Embedding is numpy matrix work that releases the GIL, so the Python-bound chunking and
    lemmatizing run in its shadow instead of before it (measured by `litopys bench`).
    """
    handoff: queue.Queue[Prepared | None] = queue.Queue(maxsize=32)
    failure: list[BaseException] = []

    def work() -> None:
        try:
            for item in _prepare(articles, embedder, chunking):
                handoff.put(item)
        except BaseException as exc:
            failure.append(exc)
        finally:
            handoff.put(None)

    worker = threading.Thread(target=work, name="litopys-chunking", daemon=True)
    worker.start()
    prepared: list[Prepared] = []
    pending: list[str] = []
    parts: list[np.ndarray] = []
    embedded = queued = 0
    finished = False
    while not finished or pending:
        if not finished:
            item = handoff.get()
            if item is None:
                finished = True
            else:
                prepared.append(item)
                pending += [c.text for c in item[1]]
                queued += len(item[1])
                if progress:  # reported from this thread: UI progress objects are not thread-safe
                    progress("chunking", len(prepared), len(articles))
        while pending and (len(pending) >= EMBED_BATCH or finished):
            batch, pending = pending[:EMBED_BATCH], pending[EMBED_BATCH:]
            parts.append(embedder.encode_passages(batch))
            embedded += len(batch)
            fault_point("embedding")
            if progress:
                progress("embedding", embedded, queued)
    worker.join()
    if failure:
        raise failure[0]
    if not parts:
        return prepared, np.zeros((0, embedder.dim), dtype=np.float32)
    return prepared, np.vstack(parts).astype(np.float32)
