"""Article metadata (url, author, outlet, section, tags): stored, read back, carried to passages and answers."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from litopys.index.chunking import Chunk
from litopys.index.corpus import Article
from litopys.index.store import Store

# The articles table as indexes built before the metadata columns have it.
OLD_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles (id TEXT PRIMARY KEY, title TEXT NOT NULL, date TEXT, body TEXT NOT NULL,
    content_hash TEXT NOT NULL, indexed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));
CREATE TABLE chunks (id INTEGER PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, text TEXT NOT NULL);
CREATE VIRTUAL TABLE chunks_fts USING fts5(lemmas, title_lemmas, tokenize='unicode61');
INSERT INTO articles(id, title, date, body, content_hash) VALUES ('old.txt', 'Стара', '2020-01-01', 'Тіло.', 'h');
INSERT INTO chunks VALUES (1, 'old.txt', 0, 0, 5, 'Тіло.');
"""

ARTICLE = Article(
    "news.jsonl#7",
    "Міст",
    "2024-03-15",
    "Тіло статті.",
    "h7",
    url="https://example.com/7",
    author="Олена Коваль",
    outlet="Українська правда",
    section="Суспільство",
    tags=("Львів", "мости"),
)


def _insert(store: Store, article: Article, chunk_id: int) -> None:
    chunk = Chunk(article.id, 0, 0, len(article.body), article.body)
    with store.conn:
        store.insert_article(article, [chunk], [chunk_id], [article.body], article.title)


def test_metadata_round_trips_through_the_store(tmp_path):
    with closing(Store(tmp_path / "db.sqlite3")) as store:
        _insert(store, ARTICLE, 1)
        _insert(store, Article("a.txt", "Текст", None, "Без метаданих.", "h1"), 2)
        assert store.get_article(ARTICLE.id) == ARTICLE
        plain = store.get_article("a.txt")
        assert plain is not None and (plain.url, plain.author, plain.tags) == (None, None, ())
        chunk = store.get_chunks([1])[1]
        assert (chunk.url, chunk.author, chunk.outlet) == (ARTICLE.url, ARTICLE.author, ARTICLE.outlet)


def test_an_index_built_before_the_metadata_columns_is_read_and_then_upgraded_in_place(tmp_path):
    path = tmp_path / "db.sqlite3"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(OLD_SCHEMA)
    # A reader (read-only) sees the old articles without metadata and changes nothing.
    with closing(Store(path, readonly=True)) as store:
        old = store.get_article("old.txt")
        assert old is not None and (old.title, old.url, old.tags) == ("Стара", None, ())
        assert store.get_chunks([1])[1].url is None
    with closing(sqlite3.connect(path)) as conn:
        assert "url" not in {row[1] for row in conn.execute("PRAGMA table_info(articles)")}
    # The next build adds the columns (no rebuild: the old articles came from .txt/.md files).
    with closing(Store(path)) as store:
        _insert(store, ARTICLE, 2)
        assert store.get_article(ARTICLE.id) == ARTICLE
        assert store.get_article("old.txt") == old
