"""The metadata database: articles, chunks, a lemmatized FTS5 table for BM25, and build facts.

SQLite (stdlib). One writer at a time (see ``builder.build_lock``); readers open the
file read-only and see only committed generations.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from litopys.core.errors import IndexStateError
from litopys.index.chunking import Chunk
from litopys.index.corpus import Article

SCHEMA_VERSION = "1"

# An SQL condition over the article row aliased ``a`` and its parameters.
SqlFilter = tuple[str, Sequence[object]]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    date TEXT,
    body TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    indexed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    url TEXT,
    author TEXT,
    outlet TEXT,
    section TEXT,
    tags TEXT  -- a JSON list of strings; NULL when there are none
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(lemmas, title_lemmas, tokenize='unicode61');
"""
# Article metadata columns, added to an index built before they existed (ALTER TABLE, no rebuild):
# its articles all came from .txt/.md files, which have no metadata.
_META_COLUMNS = ("url", "author", "outlet", "section", "tags")


def fts_match(terms: Sequence[str]) -> str:
    """An FTS5 MATCH query for any of ``terms``, each quoted so FTS5 syntax in it is plain text."""
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)


@dataclass(frozen=True)
class StoredChunk:
    """A chunk row joined with its article's title, date and origin."""

    id: int
    article_id: str
    ordinal: int
    start: int
    end: int
    text: str
    title: str
    date: str | None
    url: str | None = None
    author: str | None = None
    outlet: str | None = None


class Store:
    """Access to the SQLite metadata database."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        if readonly and not self.path.exists():
            raise IndexStateError(f"no index at {self.path.parent}; run `litopys index` first")
        if not readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if readonly:
                self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            else:
                self.conn = sqlite3.connect(self.path, check_same_thread=False)
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.executescript(_SCHEMA)
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("SELECT 1 FROM meta LIMIT 1").fetchall()
            self._readonly = readonly
            self._columns = self._meta_columns(readonly)
        except sqlite3.DatabaseError as exc:
            if hasattr(self, "conn"):
                self.conn.close()
            raise IndexStateError(
                f"index database {self.path} is damaged ({exc}); run `litopys index --rebuild`"
            ) from exc

    def _meta_columns(self, readonly: bool) -> dict[str, str]:
        """How to SELECT each metadata column of the article row ``a``: NULL in an older read-only index."""
        have = {row[1] for row in self.conn.execute("PRAGMA table_info(articles)")}
        missing = [c for c in _META_COLUMNS if c not in have]
        if missing and not readonly:
            with self.conn:
                for column in missing:
                    self.conn.execute(f"ALTER TABLE articles ADD COLUMN {column} TEXT")
            missing = []
        return {c: "NULL" if c in missing else f"a.{c}" for c in _META_COLUMNS}

    def _select(self, *columns: str) -> str:
        if "NULL" in self._columns.values():
            # A reader on an older index: the next build adds the columns while it stays open.
            self._columns = self._meta_columns(self._readonly)
        return ", ".join(self._columns[c] for c in columns)

    def quick_check(self) -> list[str]:
        """SQLite's own consistency check of every page (empty when the file is sound)."""
        try:
            rows = [r[0] for r in self.conn.execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as exc:
            return [str(exc)]
        return [] if rows == ["ok"] else rows

    def close(self) -> None:
        self.conn.close()

    # --- build facts -------------------------------------------------------
    def get_meta(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def set_meta(self, values: dict[str, str]) -> None:
        self.conn.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            list(values.items()),
        )

    # --- articles ----------------------------------------------------------
    def article_hashes(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT id, content_hash FROM articles").fetchall())

    def get_article(self, article_id: str) -> Article | None:
        row = self.conn.execute(
            f"SELECT a.id, a.title, a.date, a.body, a.content_hash, {self._select(*_META_COLUMNS)} "
            "FROM articles a WHERE a.id = ?",
            (article_id,),
        ).fetchone()
        if row is None:
            return None
        aid, title, date, body, content_hash, url, author, outlet, section, tags = row
        return Article(
            aid, title, date, body, content_hash, url, author, outlet, section, tuple(json.loads(tags)) if tags else ()
        )

    def chunk_ids_of(self, article_ids: Iterable[str]) -> list[int]:
        ids = list(article_ids)
        out: list[int] = []
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            out += [r[0] for r in self.conn.execute(f"SELECT id FROM chunks WHERE article_id IN ({marks})", part)]
        return out

    def delete_articles(self, article_ids: Iterable[str]) -> None:
        ids = list(article_ids)
        chunk_ids = self.chunk_ids_of(ids)
        self.conn.executemany("DELETE FROM chunks_fts WHERE rowid = ?", [(c,) for c in chunk_ids])
        self.conn.executemany("DELETE FROM chunks WHERE article_id = ?", [(a,) for a in ids])
        self.conn.executemany("DELETE FROM articles WHERE id = ?", [(a,) for a in ids])

    def next_chunk_id(self) -> int:
        return (self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM chunks").fetchone()[0]) + 1

    def insert_article(
        self,
        article: Article,
        chunks: Sequence[Chunk],
        chunk_ids: Sequence[int],
        lemma_texts: Sequence[str],
        title_lemmas: str,
    ) -> None:
        a = article
        self.conn.execute(
            "INSERT INTO articles(id, title, date, body, content_hash, url, author, outlet, section, tags) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *(a.id, a.title, a.date, a.body, a.content_hash),
                *(
                    a.url,
                    a.author,
                    a.outlet,
                    a.section,
                    json.dumps(list(a.tags), ensure_ascii=False) if a.tags else None,
                ),
            ),
        )
        self.conn.executemany(
            "INSERT INTO chunks(id, article_id, ordinal, start, end, text) VALUES (?, ?, ?, ?, ?, ?)",
            [(cid, c.article_id, c.ordinal, c.start, c.end, c.text) for cid, c in zip(chunk_ids, chunks, strict=False)],
        )
        self.conn.executemany(
            "INSERT INTO chunks_fts(rowid, lemmas, title_lemmas) VALUES (?, ?, ?)",
            [(cid, lem, title_lemmas) for cid, lem in zip(chunk_ids, lemma_texts, strict=False)],
        )

    def add_copies(self, copies: int) -> int:
        """Repeat every article with its chunks and BM25 rows until there are ``copies`` of each.

        Copy k (1 .. copies-1) has article ids ending in ``#copy{k}`` and chunk ids moved up by
        k times the returned step (the next free chunk id before copying), so vectors can be
        tiled to match. For benchmarks at index sizes no corpus at hand has. The caller commits.
        """
        step = self.next_chunk_id()
        # rowid, not the id text, tells the originals apart from the copies made here.
        last_original = self.conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM articles").fetchone()[0]
        for k in range(1, copies):
            suffix = f"#copy{k}"
            self.conn.execute(
                "INSERT INTO articles(id, title, date, body, content_hash, indexed_at, url, author, outlet, section, tags) "
                "SELECT id || ?, title, date, body, content_hash, indexed_at, url, author, outlet, section, tags "
                "FROM articles WHERE rowid <= ?",
                (suffix, last_original),
            )
            self.conn.execute(
                "INSERT INTO chunks(id, article_id, ordinal, start, end, text) "
                "SELECT id + ?, article_id || ?, ordinal, start, end, text FROM chunks WHERE id < ?",
                (k * step, suffix, step),
            )
            self.conn.execute(
                "INSERT INTO chunks_fts(rowid, lemmas, title_lemmas) "
                "SELECT rowid + ?, lemmas, title_lemmas FROM chunks_fts WHERE rowid < ?",
                (k * step, step),
            )
        self.set_meta({"next_chunk_id": str(copies * step)})
        return step

    # --- reading -----------------------------------------------------------
    def counts(self) -> dict[str, int]:
        articles = self.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        chunks = self.conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return {"articles": articles, "chunks": chunks}

    def all_chunk_ids(self) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT id FROM chunks ORDER BY id")]

    def get_chunks(self, chunk_ids: Sequence[int]) -> dict[int, StoredChunk]:
        out: dict[int, StoredChunk] = {}
        ids = list(chunk_ids)
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            rows = self.conn.execute(
                "SELECT c.id, c.article_id, c.ordinal, c.start, c.end, c.text, a.title, a.date, "
                f"{self._select('url', 'author', 'outlet')} "
                f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})",
                part,
            )
            for row in rows:
                out[row[0]] = StoredChunk(*row)
        return out

    def bm25_scores(self, lemmas: Sequence[str], where: SqlFilter | None = None) -> dict[int, float]:
        """BM25 score of every chunk matching any of ``lemmas`` (and ``where``), by chunk id.

        ``where`` (a condition over the article row ``a`` and its parameters) keeps only the
        chunks of matching articles; BM25 statistics still cover the whole index. One pass
        serves both the top of the ranking and the exact scores of chunks found by another
        signal: FTS5 computes its term statistics per statement, so a second query restricted
        to a few rows costs as much as the first (measured at 100k chunks). FTS5's bm25() is
        negated, so higher is better here.
        """
        if not lemmas:
            return {}
        sql = "SELECT chunks_fts.rowid, bm25(chunks_fts, 1.0, 0.3) FROM chunks_fts"
        params: list[object] = [fts_match(lemmas)]
        cond = "chunks_fts MATCH ?"
        if where is not None:
            sql += " JOIN chunks c ON c.id = chunks_fts.rowid JOIN articles a ON a.id = c.article_id"
            cond += f" AND ({where[0]})"
            params += list(where[1])
        return {rowid: -score for rowid, score in self.conn.execute(f"{sql} WHERE {cond}", params)}

    def chunk_ids_where(self, where: SqlFilter) -> list[int]:
        """Ids of the chunks whose article matches ``where`` (a condition over the article row ``a``)."""
        rows = self.conn.execute(
            f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {where[0]}", list(where[1])
        )
        return [r[0] for r in rows]

    def chunk_dates(self, chunk_ids: Sequence[int]) -> dict[int, str | None]:
        """The date of each chunk's article, by chunk id."""
        out: dict[int, str | None] = {}
        ids = list(chunk_ids)
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            rows = self.conn.execute(
                f"SELECT c.id, a.date FROM chunks c JOIN articles a ON a.id = c.article_id "
                f"WHERE c.id IN ({','.join('?' * len(part))})",
                part,
            )
            out.update(dict(rows.fetchall()))
        return out

    def dated_articles(self, where: SqlFilter | None = None) -> tuple[int, int, str | None, str | None]:
        """How many articles match ``where``, how many of them have a date, the oldest and newest date."""
        cond, params = where or ("1", ())
        row = self.conn.execute(
            f"SELECT COUNT(*), COUNT(a.date), MIN(a.date), MAX(a.date) FROM articles a WHERE {cond}", list(params)
        ).fetchone()
        return row[0], row[1], row[2], row[3]

    def sections_and_tags(self) -> tuple[list[str], list[str]]:
        """Every section and every tag of the indexed articles, sorted (none in an older index)."""
        if self._select("section") == "NULL":
            return [], []
        sections = self.conn.execute("SELECT DISTINCT section FROM articles WHERE section IS NOT NULL ORDER BY 1")
        tags = self.conn.execute(
            "SELECT DISTINCT t.value FROM articles a, json_each(a.tags) t WHERE a.tags IS NOT NULL ORDER BY 1"
        )
        return [r[0] for r in sections], [r[0] for r in tags]

    def article_list(self) -> list[tuple[str, str, str | None]]:
        """(id, title, date) of every article, by id."""
        return self.conn.execute("SELECT id, title, date FROM articles ORDER BY id").fetchall()
