"""Local vs Milvus, side by side in one process: build time, query latency, recall of the gold article.

    litopys bench-index-backends --corpus DIR --questions FILE [--tile N] [--rounds R]

Builds the local index of ``corpus`` in ``index_dir`` (the configured embedder, loaded once),
copies it into the Milvus index of ``[index]`` with `migrate` (no re-embedding), builds it
into Milvus from the corpus too (embedding again: the Milvus build time), then asks every
question on both through the same Retriever code, alternating backends so load on the machine
hits both alike. Latency is one `Retriever.search` (both signals, fusion, chunk texts),
the question's embedding included; the questions are asked ``rounds`` times for latency,
recall comes from the first round.

With ``tile`` > 1 the same is done at ``tile`` times the size, with no embedding: the local
index is tiled (litopys.bench.indexing.tiled_index: article and chunk copies under new ids,
the vectors repeated with a little noise) and that tiled index is migrated into a second
Milvus prefix (``COLLECTION_xN``), so both backends hold the same chunks and vectors.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from litopys.core.config import Settings

WARMUP = 3  # untimed searches per backend before timing: model, caches, a released collection loaded


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def _latency(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"p50_ms": statistics.median(ms) if ms else 0.0, "p95_ms": _percentile(ms, 0.95), "n": len(ms)}


def _calls(reader: Any) -> int | None:
    """Milvus calls the reader has made so far (None for the local backend, which makes none)."""
    milvus = getattr(reader, "milvus", None)
    return getattr(milvus, "calls", None)


def _ask(readers: dict[str, Any], settings: Settings, embedder: Any, questions: Sequence[Any], rounds: int) -> dict:
    """Latency (every round), recall (first round) and Milvus calls per question, for each reader."""
    from litopys.rag.evaluation import _basename, article_rank, rank_metrics
    from litopys.rag.retrieval import Retriever

    retrievers = {name: Retriever(r, embedder, settings.retrieval) for name, r in readers.items()}
    for retriever in retrievers.values():
        for q in questions[:WARMUP]:
            retriever.search(q.question, top_k=30)
    seconds: dict[str, list[float]] = {name: [] for name in retrievers}
    ranks: dict[str, list[int | None]] = {name: [] for name in retrievers}
    calls_before = {name: _calls(r) for name, r in readers.items()}
    for round_ in range(rounds):
        for q in questions:
            for name, retriever in retrievers.items():
                started = time.perf_counter()
                passages = retriever.search(q.question, top_k=30)
                seconds[name].append(time.perf_counter() - started)
                if round_ == 0:
                    gold = _basename(q.article or "")
                    ranks[name].append(article_rank((_basename(p.article_id) for p in passages), gold))
    out: dict[str, Any] = {}
    for name, reader in readers.items():
        out[name] = {**_latency(seconds[name]), **rank_metrics(ranks[name])}
        before, after = calls_before[name], _calls(reader)
        if before is not None and after is not None:
            out[name]["calls_per_question"] = (after - before) / max(1, len(seconds[name]))
    return out


def _opened(settings_by_name: dict[str, Settings], embedder: Any) -> tuple[dict[str, Any], dict[str, float]]:
    """The readers, and how long each took to open (the local HNSW graph is built on first open)."""
    from litopys.index.backend import open_index

    readers: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    try:
        for name, s in settings_by_name.items():
            started = time.perf_counter()
            readers[name] = open_index(s, embedder.spec, embedder.dim)
            seconds[name] = time.perf_counter() - started
    except BaseException:
        for reader in readers.values():
            reader.close()
        raise
    return readers, seconds


def _measure(
    backends: dict[str, Settings], settings: Settings, embedder: Any, questions: Sequence[Any], rounds: int
) -> dict[str, Any]:
    readers, open_s = _opened(backends, embedder)
    try:
        out = _ask(readers, settings, embedder, questions, rounds)
    finally:
        for reader in readers.values():
            reader.close()
    for name in out:
        out[name]["open_s"] = open_s[name]
    return out


def _holds(remote: Settings) -> bool:
    """Whether the Milvus prefix of ``remote`` already holds the local index of its ``index_dir`` (migrated)."""
    from contextlib import closing

    from litopys.index.builder import DB_NAME
    from litopys.index.milvus import Milvus
    from litopys.index.store import Store

    with closing(Store(Path(remote.index_dir) / DB_NAME, readonly=True)) as store:
        meta, chunks = store.get_meta(), store.counts()["chunks"]
    milvus = Milvus(remote.index)
    try:
        published = milvus.published() if milvus.exists() else None
    finally:
        milvus.close()
    facts = published.facts if published else {}
    return facts.get("built_at") == meta.get("built_at") and facts.get("chunks") == chunks


def _migrate(remote: Settings, keep: bool, say: Callable[[str], None]) -> float | None:
    """Seconds to migrate ``remote.index_dir`` into Milvus; None when ``keep`` and it is there already."""
    from litopys.index.milvus_migrate import migrate_to_milvus

    if keep and _holds(remote):
        say(f"Milvus prefix {remote.index.collection} holds this local index already: not migrated again")
        return None
    return migrate_to_milvus(remote).seconds


def index_backends(
    settings: Settings,
    corpus: Path,
    questions_path: Path,
    say: Callable[[str], None] = lambda s: None,
    embedder: Any = None,
    *,
    tile: int = 1,
    rounds: int = 1,
    milvus_build: bool = True,
    keep: bool = False,
) -> dict[str, Any]:
    """Run the comparison (see the module docstring); returns one JSON-ready dict.

    ``embedder``: an already loaded one (default: load the configured embedder).
    ``milvus_build``: also build the Milvus index from the corpus (embedding everything again).
    ``keep``: update the local index incrementally instead of rebuilding it, and skip a
    migrate whose Milvus prefix holds that local index already (their times are then not
    build times: ``local_build_kept`` says so, a skipped migrate's time is None).
    """
    from litopys.index.builder import build_index
    from litopys.index.embedder import load_embedder
    from litopys.rag.evaluation import load_questions

    local = settings.model_copy(
        update={"corpus_dir": corpus, "index": settings.index.model_copy(update={"backend": "local"})}
    )
    remote = settings.model_copy(
        update={"corpus_dir": corpus, "index": settings.index.model_copy(update={"backend": "milvus"})}
    )
    embedder = embedder or load_embedder(settings.embedder)
    out: dict[str, Any] = {"corpus": str(corpus), "questions": str(questions_path), "milvus": settings.index.uri}
    out["rounds"] = rounds
    report = build_index(local, embedder, force_rebuild=not keep)
    out["local_build_s"], out["chunks"], out["local_build_kept"] = report.seconds, report.chunks_total, keep
    say(f"local build: {report.seconds:.1f} s, {report.chunks_total} chunks")
    out["milvus_migrate_s"] = _migrate(remote, keep, say)
    say(f"migrate into Milvus: {out['milvus_migrate_s']} s")
    if milvus_build:
        report = build_index(remote, embedder, force_rebuild=True)
        out["milvus_build_s"] = report.seconds
        say(f"Milvus build (embedding again): {report.seconds:.1f} s")

    questions = [q for q in load_questions(questions_path) if q.article is not None]
    measured = _measure({"local": local, "milvus": remote}, settings, embedder, questions, rounds)
    for name, figures in measured.items():
        out[name] = figures
        say(f"{name}: {figures}")
    if tile > 1:
        out["tiled"] = _tiled(local, remote, settings, embedder, questions, tile, rounds, keep, say)
    return out


def _tiled(
    local: Settings,
    remote: Settings,
    settings: Settings,
    embedder: Any,
    questions: Sequence[Any],
    tile: int,
    rounds: int,
    keep: bool,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """The local index tiled ``tile`` times and migrated into Milvus, then both asked (see the module docstring)."""
    from contextlib import closing

    from litopys.bench.indexing import tiled_index
    from litopys.index.builder import DB_NAME
    from litopys.index.store import Store

    source = Path(local.index_dir)
    big_dir = source.parent / f"{source.name}-x{tile}"
    started = time.perf_counter()
    tiled_index(source, big_dir, tile)
    out: dict[str, Any] = {"copies": tile, "local_tile_s": time.perf_counter() - started}
    big_local = local.model_copy(update={"index_dir": big_dir})
    collection = f"{remote.index.collection}_x{tile}"
    big_remote = remote.model_copy(
        update={"index_dir": big_dir, "index": remote.index.model_copy(update={"collection": collection})}
    )
    with closing(Store(big_dir / DB_NAME, readonly=True)) as store:
        out["chunks"] = store.counts()["chunks"]
    out["milvus_migrate_s"], out["collection"] = _migrate(big_remote, keep, say), collection
    say(
        f"tiled x{tile}: {out['chunks']} chunks; local copy {out['local_tile_s']:.1f} s, migrate {out['milvus_migrate_s']} s"
    )
    measured = _measure({"local": big_local, "milvus": big_remote}, settings, embedder, questions, rounds)
    for name, figures in measured.items():
        out[name] = figures
        say(f"x{tile} {name}: {figures}")
    return out
