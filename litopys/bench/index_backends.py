"""Local vs Milvus, side by side in one process: build time, query latency, recall of the gold article.

    litopys bench-index-backends --corpus DIR --questions FILE

Builds the local index of ``corpus`` in ``index_dir`` (the configured embedder, loaded once),
copies it into the Milvus index of ``[index]`` with `migrate` (no re-embedding), builds it
into Milvus from the corpus too (embedding again: the Milvus build time), then asks every
question on both through the same Retriever code, alternating backends so load on the machine
hits both alike. Latency is one `Retriever.search` (both signals, fusion, chunk texts),
the question's embedding included.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litopys.core.config import Settings


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def _latency(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"p50_ms": statistics.median(ms) if ms else 0.0, "p95_ms": _percentile(ms, 0.95), "n": len(ms)}


def index_backends(
    settings: Settings,
    corpus: Path,
    questions_path: Path,
    say: Callable[[str], None] = lambda s: None,
    embedder: Any = None,
) -> dict[str, Any]:
    """Run the comparison (see the module docstring); returns one JSON-ready dict.

    ``embedder``: an already loaded one (default: load the configured embedder).
    """
    from litopys.index.backend import open_index
    from litopys.index.builder import build_index
    from litopys.index.embedder import load_embedder
    from litopys.index.milvus_migrate import migrate_to_milvus
    from litopys.rag.evaluation import _basename, article_rank, load_questions, rank_metrics
    from litopys.rag.retrieval import Retriever

    local = settings.model_copy(
        update={"corpus_dir": corpus, "index": settings.index.model_copy(update={"backend": "local"})}
    )
    remote = settings.model_copy(
        update={"corpus_dir": corpus, "index": settings.index.model_copy(update={"backend": "milvus"})}
    )
    embedder = embedder or load_embedder(settings.embedder)
    out: dict[str, Any] = {"corpus": str(corpus), "questions": str(questions_path), "milvus": settings.index.uri}
    report = build_index(local, embedder, force_rebuild=True)
    out["local_build_s"], out["chunks"] = report.seconds, report.chunks_total
    say(f"local build: {report.seconds:.1f} s, {report.chunks_total} chunks")
    moved = migrate_to_milvus(remote)
    out["milvus_migrate_s"] = moved.seconds
    say(f"migrate into Milvus: {moved.seconds:.1f} s")
    report = build_index(remote, embedder, force_rebuild=True)
    out["milvus_build_s"] = report.seconds
    say(f"Milvus build (embedding again): {report.seconds:.1f} s")

    questions = [q for q in load_questions(questions_path) if q.article is not None]
    readers = {name: open_index(s, embedder.spec, embedder.dim) for name, s in (("local", local), ("milvus", remote))}
    try:
        retrievers = {name: Retriever(r, embedder, settings.retrieval) for name, r in readers.items()}
        seconds: dict[str, list[float]] = {name: [] for name in retrievers}
        ranks: dict[str, list[int | None]] = {name: [] for name in retrievers}
        for q in questions:
            for name, retriever in retrievers.items():
                started = time.perf_counter()
                passages = retriever.search(q.question, top_k=30)
                seconds[name].append(time.perf_counter() - started)
                ranks[name].append(
                    article_rank((_basename(p.article_id) for p in passages), _basename(q.article or ""))
                )
        for name in retrievers:
            out[name] = {**_latency(seconds[name]), **rank_metrics(ranks[name])}
            say(f"{name}: {out[name]}")
    finally:
        for reader in readers.values():
            reader.close()
    return out
