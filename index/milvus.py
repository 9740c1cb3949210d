"""The index on a Milvus server: the ``milvus`` backend of litopys.index.backend.

Three collections, named by ``[index] collection`` (PREFIX):

- ``PREFIX_chunks``: one row a chunk: its stable id, article id, span, text, a copy of the
  article fields the filters read (date, section, tags, the id's folder prefixes), the
  chunk's and the title's lemmas with a BM25 function over each (Milvus makes the sparse
  vectors from our pymorphy3 lemmas: lemmas in, BM25 out) and the dense vector.
- ``PREFIX_articles``: the article bodies for the viewer, cut into parts that fit a VARCHAR.
- ``PREFIX_meta``: the published record (generation, build facts) and the lists of articles
  a publish replaced (``pending``).

Every data row carries the generation that wrote it. Readers see exactly the published
generation: rows with ``floor <= gen <= generation``, less the older rows of the articles
that generation replaced or removed, which its writer deletes right after publishing
(litopys.index.milvus_build). A killed write leaves rows of an unpublished generation that
no reader sees and the next writer deletes. All reads ask for Strong consistency, so a
reader that saw a published record also sees every row written before it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from litopys.core.config import IndexSettings
from litopys.core.errors import IndexStateError, IndexUnavailableError, LitopysError
from litopys.index.backend import DatedArticles, LexicalHits, Ranking
from litopys.index.corpus import Article
from litopys.index.filters import RetrievalFilter
from litopys.index.store import StoredChunk
from litopys.index.vectors import HNSW_EF_SEARCH

# FTS5's column weights in store.bm25_scores: a title lemma counts 0.3 of a body lemma.
TITLE_WEIGHT = 0.3
# FTS5's BM25 constants (Milvus defaults to the same; milvus-lite to k1 = 1.5).
BM25_K1, BM25_B = 1.2, 0.75
CONSISTENCY = "Strong"
BODY_PART_CHARS = 16_000  # a VARCHAR holds 65 535 bytes: 16 000 characters of at most 4 bytes each
BATCH = 256  # rows per insert, ids per `in [...]` filter
SCAN_BATCH = 1000
MAX_SCOPES = 256
# pymilvus pings every 10 s, even with no call in flight. A gRPC server with default settings
# (milvus-lite's) allows one ping in 5 minutes and, at the third, drops the connection with
# GOAWAY "too_many_pings": a client idle for ~30 s then fails its next call. Every call is
# bounded by ``timeout_s``, so no keepalive is needed to find a dead server. Reconnecting
# backs off at most 2 s (gRPC's default grows to 2 minutes while a server is down), and each
# channel has its own connection, so the fresh channel pymilvus opens to recover does not
# inherit one still backing off. A dedicated client keeps these options (pymilvus otherwise
# shares one channel per uri, whatever options the first client in the process gave it).
GRPC_OPTIONS = {
    "grpc.keepalive_time_ms": 300_000,
    "grpc.keepalive_permit_without_calls": False,
    "grpc.initial_reconnect_backoff_ms": 200,
    "grpc.max_reconnect_backoff_ms": 2_000,
    "grpc.use_local_subchannel_pool": 1,
}

# Chunk fields a StoredChunk is made of.
_CHUNK_FIELDS = [
    *("id", "article_id", "ordinal", "span_start", "span_end", "text"),
    *("title", "date", "url", "author", "outlet"),
]
_ARTICLE_FIELDS = [
    *("article_id", "part", "content_hash", "title", "date", "body"),
    *("url", "author", "outlet", "section", "tags"),
]

log = logging.getLogger(__name__)

_NOT_WORD = re.compile(r"[^\w]|_")


def bm25_token(lemma: str) -> str:
    """One lemma as one token for Milvus's analyzer.

    Its standard tokenizer splits at apostrophes and hyphens (``п'ять``, ``будь-який``),
    where FTS5 matches the parts as a phrase; a modifier letter apostrophe (a letter to
    every tokenizer) keeps the lemma whole, so it counts as one term, as the phrase does.
    """
    return _NOT_WORD.sub("ʼ", lemma)


def bm25_text(lemmas: Iterable[str]) -> str:
    return " ".join(bm25_token(lem) for lem in lemmas)


def literal(text: str) -> str:
    """A Milvus filter string literal for ``text`` (quoted, with C-style escapes)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + escaped.replace("\t", "\\t") + '"'


def literals(texts: Iterable[str]) -> str:
    return "[" + ", ".join(literal(t) for t in texts) + "]"


def scopes(article_id: str) -> list[str]:
    """Every prefix of an article id ending at a ``/`` or ``#``: the folders and export file it is in.

    A folder filter (``dir/``) or an export-file filter (``FILE#``) is a prefix of the ids it
    matches (filters.RetrievalFilter.sql), so "the id starts with P" is "P is one of its scopes".
    """
    out = [article_id[: i + 1] for i, ch in enumerate(article_id) if ch in "/#"]
    return out[:MAX_SCOPES]


def filter_expr(filters: RetrievalFilter | None) -> str | None:
    """The Milvus expression over a chunk row that ``filters`` means (as ``RetrievalFilter.sql``)."""
    if not (filters and filters.active):
        return None
    conds: list[str] = []
    if filters.date_from or filters.date_to:
        conds.append('date != ""')  # an article without a date never matches a date range
    if filters.date_from:
        conds.append(f"date >= {literal(filters.date_from)}")
    if filters.date_to:
        conds.append(f"date <= {literal(filters.date_to)}")
    which = []
    if filters.articles:
        which.append(f"article_id in {literals(filters.articles)}")
    prefixes = [f"{a}#" for a in filters.articles] + list(filters.folders)
    if prefixes:
        which.append(f"array_contains_any(scopes, {literals(prefixes)})")
    if which:
        conds.append("(" + " or ".join(which) + ")")
    named = []
    if filters.sections:
        named.append(f"section in {literals(filters.sections)}")
    if filters.tags:
        named.append(f"array_contains_any(tags, {literals(filters.tags)})")
    if named:
        conds.append("(" + " or ".join(named) + ")")
    return " and ".join(conds)


def both(*conds: str | None) -> str:
    return " and ".join(f"({c})" for c in conds if c)


@dataclass(frozen=True)
class Names:
    """The collection names under one prefix."""

    prefix: str

    @property
    def chunks(self) -> str:
        return f"{self.prefix}_chunks"

    @property
    def articles(self) -> str:
        return f"{self.prefix}_articles"

    @property
    def meta(self) -> str:
        return f"{self.prefix}_meta"

    def all(self) -> list[str]:
        return [self.chunks, self.articles, self.meta]


@dataclass(frozen=True)
class Published:
    """The published record: which generation readers see, and its build facts."""

    generation: int = 0
    floor: int = 0  # rows older than this belong to a generation a full rebuild replaced
    pending: int = 0  # how many `pending` rows list articles whose older rows are still to be deleted
    facts: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, value: str) -> Published:
        data = json.loads(value)
        return cls(int(data["generation"]), int(data["floor"]), int(data["pending"]), dict(data["facts"]))

    def dump(self) -> str:
        return json.dumps(
            {"generation": self.generation, "floor": self.floor, "pending": self.pending, "facts": self.facts},
            ensure_ascii=False,
        )


class Milvus:
    """A connection to the server with the calls the index makes.

    Every call is bounded by ``timeout_s`` and fails as IndexUnavailableError naming the
    server. A collection the server has released (a restarted milvus-lite forgets what
    was loaded) is loaded again and the call retried once, so readers resume by themselves.
    """

    def __init__(self, settings: IndexSettings) -> None:
        from pymilvus import MilvusClient

        # pymilvus logs every failed call with its traceback on a handler of its own; the
        # failure reaches the caller as IndexUnavailableError and is reported once, there.
        logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
        self.settings = settings
        self.names = Names(settings.collection)
        self.timeout = settings.timeout_s
        self.calls = 0  # calls made through ``call`` (what a question costs in round trips; the bench reads it)
        token = settings.token.get_secret_value() if settings.token else ""
        try:
            self.client = MilvusClient(
                uri=settings.uri, token=token, timeout=self.timeout, dedicated=True, grpc_options=GRPC_OPTIONS
            )
        except Exception as exc:  # pymilvus's MilvusException, or grpc's RpcError on a deadline
            raise unavailable(settings.uri, "connect", exc) from exc

    def close(self) -> None:
        self.client.close()

    def call(self, what: str, collection: str | None, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, timeout=..., **kwargs)``, reloading ``collection`` once if the server released it."""
        kwargs["timeout"] = self.timeout
        self.calls += 1
        try:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                if collection is None or not is_released(exc):
                    raise
                log.warning("Milvus collection %s was released (a restarted server?); loading it", collection)
                self.client.load_collection(collection, timeout=self.timeout)
                return fn(*args, **kwargs)
        except Exception as exc:
            raise unavailable(self.settings.uri, what, exc) from exc

    def exists(self) -> bool:
        return all(self.call("has_collection", None, self.client.has_collection, n) for n in self.names.all())

    def published(self) -> Published | None:
        rows = self.query(self.names.meta, 'key == "published"', ["value"])
        return Published.parse(rows[0]["value"]) if rows else None

    def pending_articles(self, generation: int) -> list[str]:
        """The articles whose rows older than ``generation`` its publish replaced (listed in ``pending`` rows)."""
        rows = self.query(self.names.meta, f'gen == {generation} and key != "published"', ["value"])
        return [aid for row in rows for aid in json.loads(row["value"])]

    def query(self, collection: str, expr: str, fields: list[str]) -> list[dict[str, Any]]:
        return self.call(
            "query",
            collection,
            self.client.query,
            collection,
            filter=expr,
            output_fields=fields,
            consistency_level=CONSISTENCY,
        )

    def scan(self, collection: str, expr: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        """Every row matching ``expr``, a batch at a time (a plain query is capped at 16 384 rows)."""
        it = self.call(
            "query",
            collection,
            self.client.query_iterator,
            collection,
            batch_size=SCAN_BATCH,
            filter=expr,
            output_fields=fields,
            consistency_level=CONSISTENCY,
        )
        try:
            while batch := self.call("query", None, lambda timeout: it.next()):
                yield from batch
        finally:
            it.close()

    def search(
        self, anns_field: str, data: list[Any], limit: int, expr: str, params: dict[str, Any]
    ) -> list[tuple[int, float]]:
        hits = self.call(
            "search",
            self.names.chunks,
            self.client.search,
            self.names.chunks,
            data=data,
            anns_field=anns_field,
            limit=limit,
            filter=expr,
            search_params=params,
            output_fields=[],
            consistency_level=CONSISTENCY,
        )
        return [(int(h["id"]), float(h["distance"])) for h in hits[0]] if hits else []

    def bm25(self, text: str, limit: int, expr: str, title_weight: float) -> list[tuple[int, float]]:
        """Body and title BM25 of ``text`` in one hybrid search: the best ``limit`` of each, scores summed."""
        from pymilvus import AnnSearchRequest, WeightedRanker

        params = {"metric_type": "BM25", "params": {"drop_ratio_search": 0.0}}
        requests = [
            AnnSearchRequest(data=[text], anns_field=name, param=params, limit=limit, expr=expr)
            for name in ("sparse_lemmas", "sparse_title")
        ]
        hits = self.call(
            "search",
            self.names.chunks,
            self.client.hybrid_search,
            self.names.chunks,
            requests,
            WeightedRanker(1.0, title_weight, norm_score=False),
            limit=2 * limit,
            output_fields=[],
            consistency_level=CONSISTENCY,
        )
        return [(int(h["id"]), float(h["distance"])) for h in hits[0]] if hits else []


def is_released(exc: Exception) -> bool:
    """Whether ``exc`` says the collection is not loaded (Milvus's "collection not loaded", code 101)."""
    return getattr(exc, "code", None) == 101 or "not loaded" in str(exc) or "'released'" in str(exc)


def unavailable(uri: str, what: str, exc: BaseException) -> IndexUnavailableError:
    """The error for a failed call: the server, the call, and the cause in one line."""
    cause = getattr(exc, "message", None) or getattr(exc, "details", lambda: None)() or str(exc)
    return IndexUnavailableError(f"the Milvus server at {uri} failed or did not answer ({what}): {str(cause).strip()}")


@contextmanager
def writing(settings: IndexSettings, what: str) -> Iterator[Milvus]:
    """A client for one write job (a build, a migrate): pymilvus and grpc errors name the server."""
    milvus = Milvus(settings)
    try:
        yield milvus
    except LitopysError:
        raise
    except Exception as exc:
        raise unavailable(settings.uri, what, exc) from exc
    finally:
        milvus.close()


def ids_expr(ids: Sequence[int]) -> str:
    return f"id in [{', '.join(str(int(i)) for i in ids)}]"


class MilvusSnapshot:
    """One published generation on the server, as one question reads it."""

    def __init__(self, milvus: Milvus, published: Published, visible: str) -> None:
        self.milvus = milvus
        self.generation = published.generation
        self.visible = visible  # the expression that shows exactly this generation's rows
        self._dense_params: dict[str, Any] = {"metric_type": "IP", "params": {}}
        self._all_dated: DatedArticles | None = None  # the unfiltered span, read once per generation

    def _bm25(self, text: str, limit: int, expr: str) -> dict[int, float]:
        """Body BM25 + TITLE_WEIGHT x title BM25 of the best ``limit`` chunks of each field, in one call.

        One hybrid search: both fields searched, the scores summed with those weights (no
        normalization). A chunk in only one field's best ``limit`` gets only that field's share;
        with ``limit`` at least the number of chunks ``expr`` admits, every sum is exact.
        """
        # Milvus reports a BM25 score as it is; milvus-lite negates it (its distances sort
        # ascending). Both shares have the same sign and are never negative, so the magnitude
        # of the sum is right on both.
        return {cid: abs(score) for cid, score in self.milvus.bm25(text, limit, expr, TITLE_WEIGHT)}

    def _combined(self, text: str, ids: Sequence[int], where: str) -> dict[int, float]:
        """Body BM25 plus TITLE_WEIGHT times title BM25 of exactly ``ids`` (FTS5's weighted columns)."""
        out: dict[int, float] = {}
        for i in range(0, len(ids), BATCH):
            part = ids[i : i + BATCH]
            out.update(self._bm25(text, len(part), both(where, ids_expr(part))))
        return out

    def lexical(self, lemmas: Sequence[str], limit: int, filters: RetrievalFilter | None) -> LexicalHits:
        """The best chunks by body and title BM25 combined.

        The candidates are the best ``limit`` by each field; each is then scored by both, and
        the best ``limit`` by the sum are the top (a chunk in neither field's top is missed,
        where FTS5 ranks every match).
        """
        text = bm25_text(lemmas)
        if not text:
            return LexicalHits([], lambda ids: {})
        where = both(self.visible, filter_expr(filters))
        scores = self._combined(text, sorted(self._bm25(text, limit, where)), where)
        top = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return LexicalHits(top, lambda ids: self._combined(text, list(ids), where))

    def dense(self, query: np.ndarray, limit: int, filters: RetrievalFilter | None) -> Ranking:
        params = {"metric_type": "IP", "params": {"ef": max(HNSW_EF_SEARCH, limit)}}
        vector = query.astype(np.float32).ravel().tolist()
        return self.milvus.search("vector", [vector], limit, both(self.visible, filter_expr(filters)), params)

    def dense_scores(self, query: np.ndarray, ids: Sequence[int]) -> Ranking:
        """Exact cosine with the stored vectors (fetched, not searched: an ANN search may miss some)."""
        q = query.astype(np.float32).ravel()
        out = []
        for i in range(0, len(ids), BATCH):
            rows = self.milvus.query(self.milvus.names.chunks, ids_expr(ids[i : i + BATCH]), ["id", "vector"])
            stored = {int(r["id"]): np.asarray(r["vector"], dtype=np.float32) for r in rows}
            out += [(int(c), float(np.dot(stored[c], q))) for c in ids[i : i + BATCH] if c in stored]
        return out

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        out: dict[int, StoredChunk] = {}
        for i in range(0, len(ids), BATCH):
            rows = self.milvus.query(self.milvus.names.chunks, ids_expr(ids[i : i + BATCH]), _CHUNK_FIELDS)
            for r in rows:
                out[int(r["id"])] = StoredChunk(
                    int(r["id"]),
                    r["article_id"],
                    int(r["ordinal"]),
                    int(r["span_start"]),
                    int(r["span_end"]),
                    r["text"],
                    r["title"],
                    r["date"] or None,
                    r["url"] or None,
                    r["author"] or None,
                    r["outlet"] or None,
                )
        return out

    def chunk_dates(self, ids: Sequence[int]) -> dict[int, str | None]:
        out: dict[int, str | None] = {}
        for i in range(0, len(ids), BATCH):
            for r in self.milvus.query(self.milvus.names.chunks, ids_expr(ids[i : i + BATCH]), ["id", "date"]):
                out[int(r["id"])] = r["date"] or None
        return out

    def dated_articles(self, filters: RetrievalFilter | None) -> DatedArticles:
        """Read from the chunk rows, which carry the fields every filter reads (the article rows lack scopes)."""
        if filters is None or not filters.active:
            if self._all_dated is None:
                self._all_dated = self._dated(None)
            return self._all_dated
        return self._dated(filter_expr(filters))

    def _dated(self, expr: str | None) -> DatedArticles:
        dates: dict[str, str] = {}
        for r in self.milvus.scan(self.milvus.names.chunks, both(self.visible, expr), ["article_id", "date"]):
            dates[r["article_id"]] = r["date"]
        known = [d for d in dates.values() if d]
        return DatedArticles(len(dates), len(known), min(known, default=None), max(known, default=None))


def visible_expr(published: Published, pending: Sequence[str]) -> str:
    """The rows of exactly the published generation."""
    expr = f"gen >= {published.floor} and gen <= {published.generation}"
    if pending:
        expr += f" and not (article_id in {literals(pending)} and gen < {published.generation})"
    return expr


class MilvusIndex:
    """The published index on a Milvus server, open for reading (litopys.index.backend.SearchIndex)."""

    def __init__(
        self, settings: IndexSettings, embedder_spec: str | None, dim: int | None, *, browse: bool = False
    ) -> None:
        self.milvus = Milvus(settings)
        self.where = f"{settings.uri} (collections {settings.collection}_*)"
        self.embedder_spec, self.dim = embedder_spec, dim
        self._cached: tuple[Published, MilvusSnapshot] | None = None
        if not browse:
            try:
                self.snapshot()  # fail at start, not at the first question
            except BaseException:
                self.milvus.close()
                raise

    @classmethod
    @contextmanager
    def for_browsing(cls, settings: IndexSettings) -> Iterator[MilvusIndex]:
        """The index for listing and viewing articles (no embedder to match; there may be no index yet)."""
        index = cls(settings, None, None, browse=True)
        try:
            yield index
        finally:
            index.close()

    def close(self) -> None:
        self.milvus.close()

    def _read_published(self) -> Published | None:
        """The published record, or None when there is no index.

        The collections are looked up (3 calls) only until a record was read: after that
        one query answers, and a failed one checks whether they were dropped meanwhile.
        """
        if self._cached is None and not self.milvus.exists():
            return None
        try:
            return self.milvus.published()
        except IndexUnavailableError:
            if self._cached is not None and not self.milvus.exists():
                self._cached = None
                return None
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexStateError(
                f"the published record on the Milvus server at {self.where} is damaged: {exc}"
            ) from exc

    def _published(self) -> Published:
        published = self._read_published()
        if published is None:
            raise IndexStateError(f"no index on the Milvus server at {self.where}; run `litopys index`")
        facts = published.facts
        if self.embedder_spec is not None and (
            facts.get("embedder") != self.embedder_spec or facts.get("dim") != str(self.dim)
        ):
            raise IndexStateError(
                f"the index was built with embedder {facts.get('embedder')} ({facts.get('dim')}-d) "
                f"but the settings ask for {self.embedder_spec} ({self.dim}-d); "
                "run `litopys index` to rebuild it"
            )
        return published

    def check(self) -> None:
        """Fail unless the server answers and holds a published index."""
        self._published()

    def snapshot(self) -> MilvusSnapshot:
        """The published generation now; re-reads the pending list only when the record changed."""
        published = self._published()
        if self._cached is None or self._cached[0] != published:
            pending = self.milvus.pending_articles(published.generation) if published.pending else []
            self._cached = (published, MilvusSnapshot(self.milvus, published, visible_expr(published, pending)))
        return self._cached[1]

    # --- browsing (the viewer, the filters, the library tab) ---------------------------------
    def article(self, article_id: str) -> Article | None:
        if self._read_published() is None:
            return None
        snap = self.snapshot()
        rows = self.milvus.query(
            self.milvus.names.articles, both(snap.visible, f"article_id == {literal(article_id)}"), _ARTICLE_FIELDS
        )
        if not rows:
            return None
        rows.sort(key=lambda r: int(r["part"]))
        first = rows[0]
        return Article(
            article_id,
            first["title"],
            first["date"] or None,
            "".join(r["body"] for r in rows),
            first["content_hash"],
            first["url"] or None,
            first["author"] or None,
            first["outlet"] or None,
            first["section"] or None,
            tuple(json.loads(first["tags"] or "[]")),
        )

    def _firsts(self, fields: list[str]) -> Iterator[dict[str, Any]]:
        """The first part of every published article (none when nothing is published yet)."""
        if self._read_published() is None:
            return
        yield from self.milvus.scan(self.milvus.names.articles, both(self.snapshot().visible, "part == 0"), fields)

    def article_list(self) -> list[tuple[str, str, str | None]]:
        rows = self._firsts(["article_id", "title", "date"])
        return sorted((r["article_id"], r["title"], r["date"] or None) for r in rows)

    def sections_and_tags(self) -> tuple[list[str], list[str]]:
        sections: set[str] = set()
        tags: set[str] = set()
        for r in self._firsts(["section", "tags"]):
            if r["section"]:
                sections.add(r["section"])
            tags.update(json.loads(r["tags"] or "[]"))
        return sorted(sections), sorted(tags)

    def status(self) -> dict[str, object]:
        published = self._read_published()
        if published is None:
            return {}
        f = published.facts
        return {
            "articles": f.get("articles"),
            "chunks": f.get("chunks"),
            "embedder": f.get("embedder"),
            "dim": f.get("dim"),
            "built_at": f.get("built_at"),
            "generation": published.generation,
            "corpus_dir": f.get("corpus_dir"),
            "backend": f"milvus {self.where}",
        }
