"""Build or update the index on a Milvus server (``[index] backend = "milvus"``).

The same plan as the local build (builder.compare: incremental by content hash, a full
rebuild when the embedder or chunking changed), written as one new generation:

1. finish what a previous writer left: the deletes its publish promised, or the rows of a
   generation it never published (a killed build);
2. insert the new and changed articles' rows under generation G+1 (invisible to readers);
3. list the articles whose older rows G+1 replaces or removes (``pending`` rows);
4. publish: one upsert of the ``published`` record names G+1: readers switch to it at once;
5. delete the replaced rows and the pending list, and record that nothing is pending.

A SIGKILL before 4 leaves readers on G; after 4, on G+1, with the replaced rows hidden by
the pending list until a writer deletes them. Chunk ids come from the record's
``next_chunk_id``, so an unchanged article keeps its ids.

One writer at a time: the build holds the local lock on ``index_dir`` (one host) and a write
lease in the meta collection (any host; litopys.index.milvus_lock) from step 1 to step 5.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from litopys.core.config import Settings
from litopys.index.builder import (
    IndexReport,
    Prepared,
    ProgressFn,
    build_signature,
    compare,
    fault_point,
    prepare_and_embed,
    signature_change,
)
from litopys.index.corpus import Article
from litopys.index.embedder import Embedder
from litopys.index.lemmatize import lemmas
from litopys.index.milvus import (
    BATCH,
    BM25_B,
    BM25_K1,
    BODY_PART_CHARS,
    Milvus,
    Published,
    bm25_text,
    literals,
    scopes,
    writing,
)
from litopys.index.milvus_lock import write_lock
from litopys.index.vectors import HNSW_EF_CONSTRUCTION, HNSW_M

log = logging.getLogger(__name__)

_LONG = 65_535  # bytes in the longest VARCHAR
_SHORT = 8_192
FLUSH_TIMEOUT_FACTOR = 10  # a flush may take this many times ``timeout_s`` (300 s by default)


def _clip(text: str | None, max_bytes: int) -> str:
    """``text`` cut to fit a VARCHAR of ``max_bytes`` (UTF-8), empty for None."""
    data = (text or "").encode("utf-8")
    return text or "" if len(data) <= max_bytes else data[:max_bytes].decode("utf-8", "ignore")


def _chunk_schema(dim: int) -> Any:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("gen", DataType.INT64)
    schema.add_field("article_id", DataType.VARCHAR, max_length=_SHORT)
    schema.add_field("scopes", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=256, max_length=_SHORT)
    for name in ("ordinal", "span_start", "span_end"):
        schema.add_field(name, DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=_LONG)
    for name in ("title", "date", "url", "author", "outlet", "section"):
        schema.add_field(name, DataType.VARCHAR, max_length=_SHORT)
    schema.add_field("tags", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=256, max_length=1024)
    schema.add_field("lemmas", DataType.VARCHAR, max_length=_LONG, enable_analyzer=True)
    schema.add_field("title_lemmas", DataType.VARCHAR, max_length=_SHORT, enable_analyzer=True)
    schema.add_field("sparse_lemmas", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("sparse_title", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    for source, target in (("lemmas", "sparse_lemmas"), ("title_lemmas", "sparse_title")):
        schema.add_function(
            Function(
                name=f"bm25_{source}",
                function_type=FunctionType.BM25,
                input_field_names=[source],
                output_field_names=[target],
            )
        )
    return schema


def _article_schema() -> Any:
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=True, enable_dynamic_field=False)
    schema.add_field("pk", DataType.INT64, is_primary=True)
    schema.add_field("gen", DataType.INT64)
    schema.add_field("article_id", DataType.VARCHAR, max_length=_SHORT)
    schema.add_field("part", DataType.INT64)
    schema.add_field("chunks", DataType.INT64)
    schema.add_field("body", DataType.VARCHAR, max_length=_LONG)
    for name in ("content_hash", "title", "date", "url", "author", "outlet", "section"):
        schema.add_field(name, DataType.VARCHAR, max_length=_SHORT)
    schema.add_field("tags", DataType.VARCHAR, max_length=_SHORT)  # a JSON list
    schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
    return schema


def _meta_schema() -> Any:
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=256)
    schema.add_field("gen", DataType.INT64)
    schema.add_field("value", DataType.VARCHAR, max_length=_LONG)
    schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
    return schema


def _create(milvus: Milvus, dim: int, dense_index: str) -> None:
    """Create the three collections with their indexes, and load them."""
    client, names, timeout = milvus.client, milvus.names, milvus.timeout
    chunk_index = client.prepare_index_params()
    if dense_index == "HNSW":
        params = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}
        chunk_index.add_index(field_name="vector", index_type="HNSW", metric_type="IP", params=params)
    else:
        chunk_index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    for sparse in ("sparse_lemmas", "sparse_title"):
        chunk_index.add_index(
            field_name=sparse,
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params={"bm25_k1": BM25_K1, "bm25_b": BM25_B},
        )
    for name in ("article_id", "gen"):
        chunk_index.add_index(field_name=name, index_type="INVERTED")
    client.create_collection(
        names.chunks, schema=_chunk_schema(dim), index_params=chunk_index, consistency_level="Strong", timeout=timeout
    )
    for name, schema in ((names.articles, _article_schema()), (names.meta, _meta_schema())):
        index = client.prepare_index_params()
        index.add_index(field_name="unused", index_type="FLAT", metric_type="L2")
        client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong", timeout=timeout)
    for name in names.all():
        client.load_collection(name, timeout=timeout)


def _stored_dim(milvus: Milvus) -> int | None:
    info = milvus.client.describe_collection(milvus.names.chunks, timeout=milvus.timeout)
    for f in info["fields"]:
        if f["name"] == "vector":
            return int(f["params"]["dim"])
    return None


def _prepare_collections(milvus: Milvus, dim: int, dense_index: str) -> None:
    """Make sure the collections exist with vectors of ``dim``; other vectors mean starting over."""
    if milvus.exists() and _stored_dim(milvus) == dim:
        for name in milvus.names.all():
            milvus.client.load_collection(name, timeout=milvus.timeout)
        return
    for name in milvus.names.all():
        if milvus.client.has_collection(name, timeout=milvus.timeout):
            log.warning("dropping Milvus collection %s (vectors of another dimension)", name)
            milvus.client.drop_collection(name, timeout=milvus.timeout)
    _create(milvus, dim, dense_index)


def _delete_in(milvus: Milvus, article_ids: Sequence[str], cond: str) -> None:
    """Delete the rows of ``article_ids`` that also meet ``cond`` from the chunk and article collections."""
    for i in range(0, len(article_ids), BATCH):
        expr = f"article_id in {literals(article_ids[i : i + BATCH])} and {cond}"
        for name in (milvus.names.chunks, milvus.names.articles):
            milvus.client.delete(name, filter=expr, timeout=milvus.timeout)


def _delete_where(milvus: Milvus, expr: str) -> None:
    for name in (milvus.names.chunks, milvus.names.articles):
        milvus.client.delete(name, filter=expr, timeout=milvus.timeout)


def _write_record(milvus: Milvus, published: Published) -> None:
    row = {"key": "published", "gen": published.generation, "value": published.dump(), "unused": [0.0, 0.0]}
    milvus.client.upsert(milvus.names.meta, [row], timeout=milvus.timeout)


def _settle(milvus: Milvus, published: Published | None) -> Published | None:
    """Finish a previous writer's work: its promised deletes, and the rows it never published."""
    generation = published.generation if published else 0
    # Rows (and pending lists) of an unpublished generation: a build killed before it published.
    _delete_where(milvus, f"gen > {generation}")
    milvus.client.delete(milvus.names.meta, filter=f'gen > {generation} and key != "published"', timeout=milvus.timeout)
    if published is None:
        return None
    if published.floor:
        _delete_where(milvus, f"gen < {published.floor}")
    if published.pending:
        _delete_in(milvus, milvus.pending_articles(generation), f"gen < {generation}")
        milvus.client.delete(
            milvus.names.meta, filter=f'gen == {generation} and key != "published"', timeout=milvus.timeout
        )
        published = Published(generation, published.floor, 0, published.facts)
        _write_record(milvus, published)
    return published


def _indexed(milvus: Milvus, published: Published | None) -> dict[str, tuple[str, int]]:
    """Content hash and chunk count of every published article (after ``_settle``, every stored one)."""
    if published is None:
        return {}
    rows = milvus.scan(milvus.names.articles, "part == 0", ["article_id", "content_hash", "chunks"])
    return {r["article_id"]: (r["content_hash"], int(r["chunks"])) for r in rows}


def update_milvus(
    settings: Settings,
    embedder: Embedder,
    articles: list[Article],
    report: IndexReport,
    force_rebuild: bool,
    progress: ProgressFn | None,
) -> None:
    """Bring the Milvus index in line with ``articles`` (see the module docstring); fills ``report``."""
    with writing(settings.index, "writing the index") as milvus:
        _prepare_collections(milvus, embedder.dim, settings.index.dense_index)
        with write_lock(milvus):
            _write_generation(milvus, settings, embedder, articles, report, force_rebuild, progress)


def _write_generation(
    milvus: Milvus,
    settings: Settings,
    embedder: Embedder,
    articles: list[Article],
    report: IndexReport,
    force_rebuild: bool,
    progress: ProgressFn | None,
) -> None:
    published = _settle(milvus, milvus.published())
    signature = build_signature(settings.chunking, embedder.spec, embedder.dim, embedder.revision)
    reason = None if published is None else signature_change(published.facts, signature)
    if force_rebuild:
        reason = "requested (--rebuild)"
    indexed = _indexed(milvus, published)
    changes = compare({aid: h for aid, (h, _) in indexed.items()}, articles, reason)
    changes.report_to(report)
    kept = 0 if reason else sum(n for aid, (_, n) in indexed.items() if aid not in set(changes.stale))
    if published is not None and not (reason or changes.embed or changes.stale):
        report.articles_total, report.chunks_total = len(indexed), kept
        return
    prepared, embeddings = prepare_and_embed(changes.embed, embedder, settings.chunking, progress)
    report.chunks_embedded = len(embeddings)
    generation = (published.generation if published else 0) + 1
    next_id = int(published.facts.get("next_chunk_id", 1)) if published else 1
    insert_rows(milvus, generation, prepared, embeddings, range(next_id, next_id + len(embeddings)))
    seal(milvus)
    next_id += len(embeddings)
    floor = generation if reason else (published.floor if published else 0)
    stale = [] if reason else changes.stale
    _write_pending(milvus, generation, stale)
    fault_point("vectors-written")  # new rows stored, not published
    facts = {
        **signature,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "corpus_dir": str(Path(settings.corpus_dir).resolve()),
        "next_chunk_id": next_id,
        "articles": len(articles),
        "chunks": kept + len(embeddings),
    }
    record = Published(generation, floor, (len(stale) + BATCH - 1) // BATCH, facts)
    _write_record(milvus, record)
    fault_point("committed")  # published; the replaced rows are not deleted yet
    _settle(milvus, record)
    report.articles_total, report.chunks_total = len(articles), kept + len(embeddings)


def _write_pending(milvus: Milvus, generation: int, stale: list[str]) -> None:
    rows = [
        {
            "key": f"pending/{generation}/{n}",
            "gen": generation,
            "value": json.dumps(stale[i : i + BATCH]),
            "unused": [0.0, 0.0],
        }
        for n, i in enumerate(range(0, len(stale), BATCH))
    ]
    if rows:
        milvus.client.insert(milvus.names.meta, rows, timeout=milvus.timeout)


def seal(milvus: Milvus) -> None:
    """Flush the chunk and article rows just written, before they are published.

    Sealed rows are scored against their segment's BM25 statistics whatever the filter. Rows
    left in milvus-lite's in-memory table are scored against the statistics of the rows a
    search's filter admits (an ``id in [...]`` filter of 40 rows gave a chunk a quarter of
    its score), and that table's BM25 index is rebuilt on every search. Milvus seals
    segments by itself; one flush per build is the bulk-load pattern it documents.
    """
    for name in (milvus.names.chunks, milvus.names.articles):
        # Sealing builds the segment's indexes: minutes for ~100k rows in milvus-lite on a busy machine.
        milvus.client.flush(name, timeout=FLUSH_TIMEOUT_FACTOR * milvus.timeout)


def insert_rows(
    milvus: Milvus, generation: int, prepared: list[Prepared], embeddings: np.ndarray, ids: Sequence[int]
) -> None:
    """Insert the articles' and chunks' rows under ``generation``, the chunks under ``ids`` in order."""
    chunk_rows: list[dict[str, Any]] = []
    article_rows: list[dict[str, Any]] = []
    row = 0
    for article, chunks, lemma_texts in prepared:
        title_lemmas = bm25_text(lemmas(article.title))
        common = {
            "gen": generation,
            "article_id": article.id,
            "title": _clip(article.title, _SHORT),
            "date": article.date or "",
            "url": _clip(article.url, _SHORT),
            "author": _clip(article.author, _SHORT),
            "outlet": _clip(article.outlet, _SHORT),
            "section": _clip(article.section, _SHORT),
        }
        tags = [_clip(t, 1024) for t in article.tags[:256]]
        for chunk, lemma_text in zip(chunks, lemma_texts, strict=True):
            chunk_rows.append(
                {
                    **common,
                    "id": int(ids[row]),
                    "scopes": scopes(article.id),
                    "ordinal": chunk.ordinal,
                    "span_start": chunk.start,
                    "span_end": chunk.end,
                    "text": _clip(chunk.text, _LONG),
                    "tags": tags,
                    "lemmas": _clip(bm25_text(lemma_text.split()), _LONG),
                    "title_lemmas": _clip(title_lemmas, _SHORT),
                    "vector": embeddings[row].tolist(),
                }
            )
            row += 1
        body = article.body
        for part, start in enumerate(range(0, max(len(body), 1), BODY_PART_CHARS)):
            article_rows.append(
                {
                    **common,
                    "part": part,
                    "chunks": len(chunks),
                    "body": body[start : start + BODY_PART_CHARS],
                    "content_hash": article.content_hash,
                    "tags": json.dumps(list(article.tags), ensure_ascii=False),
                    "unused": [0.0, 0.0],
                }
            )
        if len(chunk_rows) >= BATCH:
            milvus.client.insert(milvus.names.chunks, chunk_rows, timeout=milvus.timeout)
            chunk_rows = []
        if len(article_rows) >= BATCH:
            milvus.client.insert(milvus.names.articles, article_rows, timeout=milvus.timeout)
            article_rows = []
    if chunk_rows:
        milvus.client.insert(milvus.names.chunks, chunk_rows, timeout=milvus.timeout)
    if article_rows:
        milvus.client.insert(milvus.names.articles, article_rows, timeout=milvus.timeout)
