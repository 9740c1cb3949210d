"""Property-based tests: web pages and export lines from hostile input give articles or reasons, never crashes.

Random JSON-ish lines, CSV cells with quotes and delimiters, and HTML fragments with
unclosed tags must give either articles that keep the invariants (a body, an id under
the file, an ISO date or none) or typed errors, never another exception.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from litopys.core.config import ExportSettings
from litopys.index.corpus import ArticleFormatError, iso_date
from litopys.index.exports import read_export
from litopys.index.webpage import parse_page

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FIELDS = ExportSettings()

_PIECES = st.sampled_from(
    [
        '"',
        ",",
        ";",
        "\t",
        "\n",
        "\r\n",
        "{",
        "}",
        "[",
        "]",
        ":",
        "\\",
        "\x00",
        "\ufeff",
        "<p>",
        "</p>",
        "<br>",
        "<script>",
        "&amp;",
        "2024-02-30",
        "15.03.2024",
        "вчора",
        "text",
        "title",
        "date",
        " ",
        "Текст статті.",
    ]
)
_TEXT = st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=30).map("".join)
_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _TEXT, st.lists(_TEXT, max_size=3)
)
_ROW = st.dictionaries(st.sampled_from(["id", "title", "date", "text", "body", "url", "tags", "author", "x"]), _VALUE)


def _check(rel: str, articles, issues) -> None:
    ids = [a.id for a in articles]
    assert len(ids) == len(set(ids))
    for a in articles:
        assert a.id.startswith(f"{rel}#") and a.body.strip() and a.title
        assert a.date is None or iso_date(a.date) == a.date
    assert all(i.path.startswith(f"{rel}:") and i.reason for i in issues)


@FAST
@given(st.lists(st.one_of(_ROW.map(lambda r: json.dumps(r, ensure_ascii=False)), _TEXT), max_size=8))
def test_jsonl_lines_give_articles_or_reasons(lines):
    try:
        articles, issues = read_export("f.jsonl", "\n".join(lines).encode("utf-8", "surrogatepass"), 10_000, FIELDS)
    except ArticleFormatError:
        return
    _check("f.jsonl", articles, issues)


@FAST
@given(st.lists(st.lists(_TEXT, min_size=1, max_size=4), max_size=6))
def test_csv_rows_give_articles_or_reasons(rows):
    data = "title,date,text\n" + "\n".join(",".join(row) for row in rows)
    try:
        articles, issues = read_export("f.csv", data.encode("utf-8", "surrogatepass"), 10_000, FIELDS)
    except ArticleFormatError:
        return
    _check("f.csv", articles, issues)


@FAST
@given(
    _TEXT,
    st.lists(
        st.sampled_from(
            [
                "<div>",
                "</div>",
                "<p>",
                "<article>",
                "<h1>",
                "<nav>",
                "<table><tr><td>",
                "</html>",
                "<!--",
                "<meta charset='koi8-r'>",
            ]
        ),
        max_size=6,
    ),
)
def test_any_page_gives_an_article_or_a_reason(text, tags):
    page = "<html><body>" + "".join(tags) + text + " " + text + "</body></html>"
    try:
        article, _ = parse_page("p.html", page.encode("utf-8", "surrogatepass"))
    except ArticleFormatError:
        return
    assert article.body.strip() and article.title and (article.date is None or iso_date(article.date) == article.date)
