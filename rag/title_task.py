"""The title-to-article retrieval task: compare BM25, dense and the hybrid in seconds.

Each article's title line is the query; the target is the same article with
its title removed (body cut to 2,000 characters), as in the retrieval measurements
in docs/quality.md. It needs no question file, so fusion settings can be
compared on any corpus. The scratch corpus and index live in a temporary folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from litopys.core.config import RetrievalSettings, Settings
from litopys.index.builder import build_index
from litopys.index.corpus import load_corpus
from litopys.index.embedder import Embedder
from litopys.index.reader import IndexReader
from litopys.rag.evaluation import article_rank, rank_metrics
from litopys.rag.retrieval import Retriever

BODY_CHARS = 2000
DEPTH = 30


def _signals(settings: Settings) -> dict[str, RetrievalSettings]:
    """The retrieval settings to compare: each single signal and the configured hybrid."""
    r = settings.retrieval
    return {
        "bm25": r.model_copy(update={"dense_weight": 0.0}),
        "dense": r.model_copy(update={"dense_weight": 1.0}),
        "hybrid": r,
    }


def title_task(settings: Settings, embedder: Embedder, corpus_dir: Path, limit: int | None = None) -> dict[str, object]:
    """Recall@1/5/10 and MRR per signal for finding each article from its title."""
    articles, _ = load_corpus(Path(corpus_dir), settings.max_file_bytes)
    articles = articles[:limit] if limit else articles
    with tempfile.TemporaryDirectory(prefix="litopys-titles-") as tmp:
        scratch = Path(tmp) / "corpus"
        queries: list[tuple[str, str]] = []
        for n, article in enumerate(articles):
            # The scratch title is a neutral id, so only the body can match the query.
            path = scratch / f"{n:05d}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{n:05d}\n{article.body[:BODY_CHARS]}", encoding="utf-8")
            queries.append((article.title, path.name))
        run = settings.model_copy(update={"corpus_dir": scratch, "index_dir": Path(tmp) / "index"})
        report = build_index(run, embedder)
        reader = IndexReader(run.index_dir, embedder.spec, embedder.dim, settings.retrieval.hnsw_threshold)
        try:
            out: dict[str, object] = {
                "queries": len(queries),
                "index_seconds": round(report.seconds, 2),
                "hybrid_settings": {
                    "fusion": settings.retrieval.fusion,
                    "dense_weight": settings.retrieval.dense_weight,
                },
            }
            for name, retrieval in _signals(settings).items():
                retriever = Retriever(reader, embedder, retrieval.model_copy(update={"per_article_cap": 1}))
                ranks = [
                    article_rank((p.article_id for p in retriever.search(title, top_k=DEPTH)), target)
                    for title, target in queries
                ]
                out[name] = {k: round(v, 4) for k, v in rank_metrics(ranks).items()}
        finally:
            reader.close()
    return out
