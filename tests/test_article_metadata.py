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
    # The next build adds the columns (no rebuild: the old articles came from .txt/.md files),
    # and a reader that stayed open meanwhile sees the new articles' metadata.
    with closing(Store(path, readonly=True)) as reader:
        assert reader.get_article("old.txt") == old
        with closing(Store(path)) as store:
            _insert(store, ARTICLE, 2)
            assert store.get_article(ARTICLE.id) == ARTICLE
            assert store.get_article("old.txt") == old
        assert reader.get_article(ARTICLE.id) == ARTICLE
        assert reader.get_chunks([2])[2].url == ARTICLE.url


PAGE = (
    "<html><head><title>Слоненя Бонд</title><link rel='canonical' href='https://zoo.example/news/bond'>"
    "<meta property='og:site_name' content='Миколаївський зоопарк'><meta name='author' content='Ірина Лис'>"
    "<meta property='article:published_time' content='2024-11-14'></head><body><nav><a href='/'>Головна</a></nav>"
    "<article><h1>Слоненя Бонд</h1><p>У Миколаївському зоопарку народилося слоненя, якому дали ім'я Бонд.</p>"
    "<p>Малюк важить сто двадцять кілограмів і вже ходить за мамою по вольєру.</p></article></body></html>"
)
EXPORT = (
    '{"id": "k1", "title": "Новий трамвай", "date": "2024-10-01", "url": "https://city.example/tram", '
    '"author": "Петро Мирний", "text": "Харківське депо отримало новий низькопідлоговий трамвай на сорок місць."}\n'
)


def test_passages_and_json_citations_carry_the_url_of_pages_and_export_rows(make_retriever, tiny_embedder):
    from litopys.rag.answer import finish_answer

    corpus = {"zoo/bond.html": PAGE, "exports/city.jsonl": EXPORT}
    with make_retriever(corpus, tiny_embedder) as retriever:
        zoo = retriever.search("Як звуть слоненя, що народилося в зоопарку?", top_k=1)[0]
        tram = retriever.search("Скільки місць у новому трамваї депо?", top_k=1)[0]
        seed = retriever.search("переговори у Маямі делегація", top_k=1)[0]
    assert (zoo.article_id, zoo.url, zoo.author, zoo.outlet) == (
        "zoo/bond.html",
        "https://zoo.example/news/bond",
        "Ірина Лис",
        "Миколаївський зоопарк",
    )
    assert (tram.article_id, tram.url, tram.author) == (
        "exports/city.jsonl#k1",
        "https://city.example/tram",
        "Петро Мирний",
    )
    assert seed.url is None  # a .txt article has no metadata
    out = finish_answer(
        "Як звуть слоненя?", "Слоненя звуть Бонд [1]. Трамвай має сорок місць [2].", [zoo, tram]
    ).as_dict()
    assert [c["url"] for c in out["citations"]] == ["https://zoo.example/news/bond", "https://city.example/tram"]
    assert out["passages"][0]["author"] == "Ірина Лис" and out["passages"][0]["outlet"] == "Миколаївський зоопарк"


def test_the_source_card_and_viewer_link_only_http_urls_and_keep_everything_else_text():
    import re

    from litopys.rag.retrieval import Passage
    from litopys.ui import render
    from litopys.ui.strings import UK

    def passage(url: str | None, author: str | None = None, outlet: str | None = None) -> Passage:
        return Passage(
            1, "a.jsonl#1", "Заголовок", "2024-11-14", "Текст.", 0, 6, 2.0, url=url, author=author, outlet=outlet
        )

    def sources(p: Passage) -> str:
        from litopys.rag.answer import finish_answer

        return render.sources_html(finish_answer("Питання?", "Відповідь [1].", [p]), None, UK)

    card = sources(passage("https://example.com/a?x=1&y='2'", "Олена <b>Коваль</b>", "Правда"))
    link = re.search(r"<a [^>]*>", card).group(0)
    assert "href='https://example.com/a?x=1&amp;y=&#x27;2&#x27;'" in link
    assert "target='_blank'" in link and "rel='noopener noreferrer'" in link
    assert "Правда ↗</a>" in card and "Олена &lt;b&gt;Коваль&lt;/b&gt;" in card
    # Without an outlet the link names the host.
    assert "example.com ↗</a>" in sources(passage("http://example.com/b"))
    for bad in (
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/news/relative",
        "ftp://x.example/f",
        "https://exa mple.com/",
        "vbscript:x",
        "https:///nohost",
    ):
        out = sources(passage(bad))
        assert "<a " not in out and "<script" not in out, bad
        assert "lt-origin-url" in out  # shown, as text
    assert "lt-origin" not in sources(passage(None))  # a .txt article: no origin line

    article = Article(
        "p.html",
        "Заголовок",
        "2024-11-14",
        "Тіло статті.",
        "h",
        url="https://example.com/p",
        author="Автор",
        section="Культура",
        tags=("Львів", "музеї"),
    )
    viewer = render.viewer_html(article, render.Target("p.html", 0, 4, 1), UK)
    assert "<a class='lt-origin-link' href='https://example.com/p'" in viewer and "Автор" in viewer
    assert "2024-11-14 · p.html · Культура · #Львів, #музеї</div>" in viewer
    hostile = Article(
        "p.html", "З", None, "Тіло.", "h", url="javascript:alert(1)", outlet="<img src=x onerror=alert(1)>"
    )
    viewer = render.viewer_html(hostile, render.Target("p.html", 0, 4, 1), UK)
    assert "<a " not in viewer and "<img" not in viewer and "javascript:alert(1)" in viewer


def _row(key: str, city: str, section: str, tags: list[str]) -> str:
    import json

    text = f"Переговори делегацій у Майамі обговорюють у місті {city}. Аналітики з міста {city} чекають на зустріч."
    return json.dumps({"id": key, "title": f"Новини {city}", "text": text, "section": section, "tags": tags})


def test_filters_by_section_tag_and_export_file(make_retriever, tiny_embedder, seed):
    from litopys.core.config import load_settings
    from litopys.rag.retrieval import RetrievalFilter
    from litopys.ui import render
    from litopys.ui.app import path_choices
    from litopys.ui.strings import EN

    rows = [
        _row("k", "Київ", "Політика", ["США", "переговори"]),
        _row("l", "Львів", "Економіка", ["переговори"]),
        _row("o", "Одеса", "Політика", []),
    ]
    corpus = {
        "feeds/news.jsonl": "\n".join(rows) + "\n",
        "feeds/news.jsonl.txt": "Новини з Миколаєва\nПереговори делегацій у Майамі обговорюють і в Миколаєві.",
    }
    question = "переговори делегацій у Майамі"

    def found(*paths: str) -> set[str]:
        f = RetrievalFilter.build(paths=paths)
        return {p.article_id for p in retriever.search(question, top_k=10, filters=f)}

    with make_retriever(corpus, tiny_embedder) as retriever:
        assert found("section:Політика") == {"feeds/news.jsonl#k", "feeds/news.jsonl#o"}
        assert found("tag:переговори") == {"feeds/news.jsonl#k", "feeds/news.jsonl#l"}
        assert found("tag:США", "section:Економіка") == {"feeds/news.jsonl#k", "feeds/news.jsonl#l"}  # OR
        # An export file means all its lines' articles (not a file whose name merely starts the same).
        assert found("feeds/news.jsonl") == {"feeds/news.jsonl#k", "feeds/news.jsonl#l", "feeds/news.jsonl#o"}
        assert found("feeds/news.jsonl", "section:Економіка") == {"feeds/news.jsonl#l"}  # AND with a path
        assert found(seed.article_id, "tag:США") == set()
        assert found("section:Спорт") == set()
        choices = dict(
            (value, label) for label, value in path_choices(load_settings(index_dir=retriever.reader.index_dir))
        )
    assert choices["feeds/"] == "feeds/ 📁" and choices["feeds/news.jsonl"] == "feeds/news.jsonl 📄"
    assert choices["section:Політика"] == "🗂 Політика" and choices["tag:США"] == "🏷 США"
    assert {v for v in choices if v.startswith(("section:", "tag:"))} == {
        "section:Економіка",
        "section:Політика",
        "tag:США",
        "tag:переговори",
    }
    line = render.filter_html(RetrievalFilter.build("2024-01-01", None, ["feeds/", "section:Політика", "tag:США"]), EN)
    assert "only: feeds/; only: section:Політика, tag:США" in line
