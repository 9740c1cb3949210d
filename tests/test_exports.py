"""CMS exports: one article per JSONL line or CSV row, field names mapped by settings, bad lines skipped."""

from __future__ import annotations

import json
from contextlib import closing

import pytest

from litopys.core.config import ExportSettings, load_settings
from litopys.index.builder import DB_NAME, build_index
from litopys.index.corpus import ArticleFormatError, load_corpus
from litopys.index.exports import export_date, html_to_text, read_export
from litopys.index.store import Store

FIELDS = ExportSettings()
TEXT = "Міська рада Полтави виділила кошти на ремонт мосту через Ворсклу. Роботи триватимуть до осені."


def _jsonl(*rows: object) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows).encode()


def test_jsonl_lines_become_articles_with_their_metadata():
    data = _jsonl(
        {
            "id": "up-7446001",
            "headline": "Міст через Ворсклу",
            "published": "2024-03-15T00:30:00+02:00",
            "body": TEXT,
            "link": "https://example.com/news/7446001",
            "author": [{"@type": "Person", "name": "Олена Коваль"}, "Іван Сірко"],
            "category": "Суспільство",
            "tags": ["Полтава", "мости", "Полтава"],
            "source": "Полтавський вісник",
        },
        {
            "Title": "Без id",
            "pubDate": "Fri, 15 Mar 2024 10:20:00 +0200",
            "Content": "Текст другої статті.",
            "Tags": "a; b, c",
        },
    )
    articles, issues = read_export("exports/news.jsonl", data, 10_000, FIELDS)
    assert issues == []
    first, second = articles
    assert first.id == "exports/news.jsonl#up-7446001"
    assert (first.title, first.date, first.body) == ("Міст через Ворсклу", "2024-03-15", TEXT)
    assert first.url == "https://example.com/news/7446001"
    assert first.author == "Олена Коваль, Іван Сірко" and first.outlet == "Полтавський вісник"
    assert first.section == "Суспільство" and first.tags == ("Полтава", "мости")
    # No id field: the line number is the id; key names match whatever their case.
    assert second.id == "exports/news.jsonl#2"
    assert (second.title, second.date, second.tags) == ("Без id", "2024-03-15", ("a", "b", "c"))


def test_bad_lines_are_skipped_with_file_line_and_reason_and_the_rest_is_read():
    data = _jsonl(
        {"title": "Добра 1", "text": "Перша добра стаття."},
        '{"title": "Обрізаний рядок", "text": "Тексту кін',
        {"title": "Без тексту"},
        {"title": "Погана дата", "text": "Текст.", "date": "вчора"},
        "",
        "[1, 2, 3]",
        {"title": "Добра 2", "text": "Друга добра стаття.", "date": "15.03.2024"},
        {"id": "s7", "title": "Сьома", "text": "Стаття з id s7."},
        {"id": "s7", "title": "Та сама сьома", "text": "Інший текст з тим самим id."},
        {"title": "Неможлива дата", "text": "Текст.", "date": "2024-02-30"},
        {"title": "Текст не рядок", "text": {"html": "<p>x</p>"}},
    )
    articles, issues = read_export("a.jsonl", data, 10_000, FIELDS)
    assert [(a.id, a.title) for a in articles] == [
        ("a.jsonl#1", "Добра 1"),
        ("a.jsonl#7", "Добра 2"),
        ("a.jsonl#s7", "Сьома"),
    ]
    assert articles[1].date == "2024-03-15"
    reasons = {i.path: i.reason for i in issues}
    assert all(i.skipped for i in issues)
    assert reasons.keys() == {
        "a.jsonl:2",
        "a.jsonl:3",
        "a.jsonl:4",
        "a.jsonl:6",
        "a.jsonl:9",
        "a.jsonl:10",
        "a.jsonl:11",
    }
    assert reasons["a.jsonl:2"].startswith("invalid JSON")
    assert reasons["a.jsonl:3"].startswith("no text")
    assert reasons["a.jsonl:4"] == "cannot read the date 'вчора'"
    assert reasons["a.jsonl:6"] == "a JSON array, not an object"
    assert reasons["a.jsonl:9"] == "duplicate id 's7' (first on line 8)"
    assert "2024-02-30" in reasons["a.jsonl:10"]
    assert reasons["a.jsonl:11"] == "the text is a JSON object, not a string"


@pytest.mark.parametrize(
    ("raw", "date"),
    [
        ("2024-03-15", "2024-03-15"),
        ("2024-03-15T23:30:00Z", "2024-03-15"),
        ("2024-03-15T00:30:00+02:00", "2024-03-15"),  # the day as written, not moved to UTC
        ("2024-03-15 10:20:00", "2024-03-15"),
        ("20240315", "2024-03-15"),
        ("Fri, 15 Mar 2024 10:20:00 +0200", "2024-03-15"),  # RSS pubDate (RFC 2822)
        ("Fri, 15 Mar 2024 10:20:00 GMT", "2024-03-15"),
        (1710498000, "2024-03-15"),  # Unix seconds
        ("1710498000", "2024-03-15"),
        (1710498000000, "2024-03-15"),  # milliseconds
        ("15.03.2024", "2024-03-15"),
        ("15.03.2024 10:20", "2024-03-15"),
        ("15/03/2024", "2024-03-15"),
        ("15 березня 2024", "2024-03-15"),
        ("15 березня 2024 р.", "2024-03-15"),
        ("15 марта 2024 г.", "2024-03-15"),
        ("March 15, 2024", "2024-03-15"),
        ("15 Mar 2024", "2024-03-15"),
        ("", None),
        (None, None),
    ],
)
def test_dates_are_read_in_their_common_forms(raw, date):
    assert export_date(raw) == date


@pytest.mark.parametrize(
    "raw", ["вчора", "2 days ago", "not a date", "2024-02-30", "березень 2024", "2024", True, 2024]
)
def test_relative_partial_and_impossible_dates_are_refused(raw):
    with pytest.raises(ValueError):
        export_date(raw)


CSV = (
    "id;headline;pubDate;body;link;category;tags\n"
    "1;Перша;2024-03-15;Текст першої статті.;https://example.com/1;Економіка;гривня, банки\n"
    '2;Друга;15.03.2024;"Текст другої статті,\nу два рядки; з крапкою з комою.";;;\n'
    "\n"
    "3;Третя;вчора;Текст третьої.;;;\n"
    "4;Четверта;2024-03-16;Текст;зайве;поле;тут;ще одне\n"
    "5;П'ята;;Текст п'ятої.;;;\n"
)


def test_csv_rows_become_articles_and_bad_rows_name_the_line_they_start_on():
    articles, issues = read_export("cms.csv", CSV.encode(), 10_000, FIELDS)
    assert [(a.id, a.title, a.date) for a in articles] == [
        ("cms.csv#1", "Перша", "2024-03-15"),
        ("cms.csv#2", "Друга", "2024-03-15"),
        ("cms.csv#5", "П'ята", None),
    ]
    assert articles[0].section == "Економіка" and articles[0].tags == ("гривня", "банки")
    assert articles[0].url == "https://example.com/1" and articles[1].url is None
    assert articles[1].body == "Текст другої статті,\nу два рядки; з крапкою з комою."
    reasons = {i.path: i.reason for i in issues}
    # Row 2 spans lines 3-4 and line 5 is blank, so the bad rows start on lines 6 and 7.
    assert reasons == {
        "cms.csv:6": "cannot read the date 'вчора'",
        "cms.csv:7": "8 fields where the header has 7 (an unquoted ';' in a field?)",
    }


def test_csv_with_a_byte_order_mark_and_commas_uses_line_numbers_without_an_id():
    data = "\ufefftitle,date,text\nПерша,2024-01-02,Текст один.\nДруга,2024-01-03,Текст два.\n".encode()
    articles, issues = read_export("x.csv", data, 10_000, FIELDS)
    assert [a.id for a in articles] == ["x.csv#2", "x.csv#3"] and issues == []


def test_a_file_without_any_text_field_is_not_an_article_file():
    with pytest.raises(ArticleFormatError, match="not an article file: the CSV header \\(a, b\\) has no text column"):
        read_export("notes.csv", b"a,b\n1,2\n", 10_000, FIELDS)
    with pytest.raises(ArticleFormatError, match="not an article file: no line has a text field"):
        read_export("log.jsonl", _jsonl({"level": "info"}, {"level": "warn"}), 10_000, FIELDS)
    with pytest.raises(ArticleFormatError, match="empty file"):
        read_export("empty.jsonl", b"\n\n", 10_000, FIELDS)
    with pytest.raises(ArticleFormatError, match="binary"):
        read_export("x.jsonl", b"\x1f\x8b\x08\x00", 10_000, FIELDS)


def test_field_names_come_from_the_settings_table(tmp_path):
    config = tmp_path / "litopys.toml"
    config.write_text('[exports]\ntext = ["article_body"]\ntitle = ["name"]\nid = ["nid"]\n', encoding="utf-8")
    fields = load_settings(config).exports
    assert fields.text == ["article_body"] and fields.date == ExportSettings().date  # the rest keep their defaults
    row = {"nid": 42, "name": "Назва", "article_body": "Тіло статті.", "text": "не це"}
    (article,), _ = read_export("f.jsonl", _jsonl(row), 10_000, fields)
    assert (article.id, article.title, article.body) == ("f.jsonl#42", "Назва", "Тіло статті.")


def test_html_bodies_become_paragraphs_and_a_missing_title_is_the_first_line():
    row = {"content": "<p>Перший <b>абзац</b>.</p><p>Другий<br>рядок.</p><script>alert(1)</script>"}
    (article,), _ = read_export("h.jsonl", _jsonl(row), 10_000, FIELDS)
    assert article.body == "Перший абзац.\n\nДругий\n\nрядок."
    assert article.title == "Перший абзац."
    assert html_to_text("<div><h2>Заголовок</h2><ul><li>один</li><li>два</li></ul></div>") == "Заголовок\n\nодин\n\nдва"


def test_an_article_over_the_size_limit_is_one_bad_line():
    rows = _jsonl({"title": "Велика", "text": "слово " * 100}, {"title": "Мала", "text": "Коротко."})
    articles, issues = read_export("big.jsonl", rows, 200, FIELDS)
    assert [a.title for a in articles] == ["Мала"]
    assert issues[0].path == "big.jsonl:1" and "over the 200-byte limit" in issues[0].reason


def test_a_mixed_folder_indexes_every_format_in_one_run(tmp_path, seed, tiny_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seed.copy_to(corpus)
    (corpus / "note.md").write_text("date 2024-01-05 Нотатка\nТекст нотатки про Полтаву.", encoding="utf-8")
    (corpus / "page.html").write_text(
        "<html><head><title>Сторінка</title><link rel='canonical' href='https://example.com/p'></head><body>"
        "<nav><a href='/'>Головна</a></nav><article><h1>Сторінка</h1>"
        + "<p>Абзац веб-сторінки про вулицю Соборну в Полтаві, де відкрили новий сквер.</p>" * 3
        + "</article></body></html>",
        encoding="utf-8",
    )
    (corpus / "feed.jsonl").write_bytes(_jsonl({"id": "a", "title": "Рядок", "text": TEXT}, "{broken"))
    (corpus / "table.csv").write_text("title,text\nРядок CSV,Текст з таблиці.\n", encoding="utf-8")
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")
    report = build_index(settings, tiny_embedder)
    assert report.added == 5 and report.skipped == 1  # the CLI exits with 5 for this
    assert [(i.path, i.skipped) for i in report.issues] == [("feed.jsonl:2", True)]
    with closing(Store(settings.index_dir / DB_NAME, readonly=True)) as store:
        ids = [row[0] for row in store.article_list()]
        assert ids == sorted([seed.article_id, "feed.jsonl#a", "note.md", "page.html", "table.csv#2"])
        page = store.get_article("page.html")
        assert page is not None and page.url == "https://example.com/p"


def test_editing_one_line_embeds_only_that_article_and_deleting_a_line_removes_it(tmp_path, tiny_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = [{"id": f"n{k}", "title": f"Новина {k}", "text": f"Текст новини номер {k}. " * 5} for k in range(5)]
    export = corpus / "news.jsonl"
    export.write_bytes(_jsonl(*rows))
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")
    first = build_index(settings, tiny_embedder)
    assert (first.added, first.articles_total) == (5, 5)

    again = build_index(settings, tiny_embedder)  # the same file: the same ids, nothing to embed
    assert (again.unchanged, again.chunks_embedded) == (5, 0)

    rows[2]["text"] = "Виправлений текст другої новини."
    export.write_bytes(_jsonl(*rows))
    edited = build_index(settings, tiny_embedder)
    assert (edited.updated, edited.unchanged, edited.added, edited.removed) == (1, 4, 0, 0)
    assert edited.chunks_embedded == 1

    del rows[3]
    export.write_bytes(_jsonl(*rows))
    deleted = build_index(settings, tiny_embedder)
    assert (deleted.removed, deleted.unchanged, deleted.chunks_embedded) == (1, 4, 0)
    with closing(Store(settings.index_dir / DB_NAME, readonly=True)) as store:
        assert store.get_article("news.jsonl#n3") is None
        kept = store.get_article("news.jsonl#n2")
        assert kept is not None and kept.body == "Виправлений текст другої новини."


def test_load_corpus_reports_bad_lines_in_line_order(tmp_path):
    lines = [{"title": f"Т{k}", "text": f"Текст {k}."} for k in range(12)]
    lines[1] = lines[9] = lines[10] = "{bad"
    (tmp_path / "a.jsonl").write_bytes(_jsonl(*lines))
    articles, issues = load_corpus(tmp_path, max_bytes=1000)
    assert len(articles) == 9
    assert [i.path for i in issues] == ["a.jsonl:2", "a.jsonl:10", "a.jsonl:11"]


def test_control_characters_in_an_html_body_are_dropped_not_a_crash():
    rows = _jsonl({"text": "<p>Текст\u001f статті.</p>"}, {"title": "Лише теги", "text": "<p>\u001f</p>"})
    articles, issues = read_export("c.jsonl", rows, 10_000, FIELDS)
    assert [a.body for a in articles] == ["Текст статті."]
    assert [(i.path, i.reason) for i in issues] == [("c.jsonl:2", "no text (the text field is blank)")]
