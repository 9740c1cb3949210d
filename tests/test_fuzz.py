"""Property-based tests: the article parser, the chunker and the citation parser on hostile input.

Random Unicode (control characters, astral planes, RTL marks, NULs), malformed
headers and large inputs must give either a result that keeps the invariants or
one of our typed errors, never another exception. Sizes and example counts are
bounded so the whole file runs in well under a minute.
"""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from litopys.index.chunking import chunk_article
from litopys.index.corpus import (
    MAX_TITLE_CHARS,
    Article,
    ArticleFormatError,
    decode_text,
    parse_article,
)
from litopys.rag.answer import finish_answer
from litopys.rag.citations import marker_numbers, resolve_citations, strip_invalid_markers
from litopys.rag.prompt import build_prompt
from litopys.rag.retrieval import Passage

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters that break naive parsers: line and paragraph separators, BOM, NUL, RTL marks, brackets.
_TRICKY = st.sampled_from(
    [
        "\n",
        "\r\n",
        "\r",
        "\u2028",
        "\u2029",
        "\ufeff",
        "\x00",
        "\u200f",
        "\u202e",
        "[",
        "]",
        "<<<",
        ">>>",
        " ",
        "\t",
        ".",
        "!",
        "?",
        "…",
        "date ",
        "2024-02-30",
        "2024-01-01",
        "«",
        "»",
        "[1]",
        "[99]",
        "[0]",
    ]
)
TEXT = st.lists(st.one_of(st.text(max_size=40), _TRICKY), max_size=30).map("".join)
HEADER = st.one_of(
    st.just("date"),
    st.builds(lambda d, t: f"date {d} {t}", st.text(max_size=12), st.text(max_size=20)),
    st.builds(lambda d, t: f"DATE\t{d}\t{t}", st.dates().map(str), st.text(max_size=400)),
    st.text(max_size=350),
)
ARTICLE_TEXT = st.one_of(TEXT, st.builds(lambda h, b: f"{h}\n{b}", HEADER, TEXT))


def _count_tokens(text: str) -> int:
    """A stand-in for the embedder's tokenizer: words and punctuation marks."""
    return len(re.findall(r"\w+|[^\w\s]", text))


def _check_article(article: Article) -> None:
    assert article.title and article.body
    assert "\x00" not in article.title + article.body
    assert len(article.title) <= MAX_TITLE_CHARS
    if article.date is not None:
        assert dt.date.fromisoformat(article.date).isoformat() == article.date


@FAST
@given(ARTICLE_TEXT)
def test_article_parser_returns_an_article_or_a_typed_error(text):
    try:
        article, warnings = parse_article("a.txt", text)
    except ArticleFormatError:
        return
    _check_article(article)
    assert all(isinstance(w, str) and w for w in warnings)


@FAST
@given(st.binary(max_size=300) | TEXT.map(lambda t: t.encode("utf-16")) | TEXT.map(lambda t: t.encode()))
def test_decoding_any_bytes_gives_text_or_a_typed_error(data):
    try:
        text, _ = decode_text(data)
    except ArticleFormatError:
        return
    assert isinstance(text, str)


def _check_chunks(article: Article, chunks, target: int) -> None:
    body = article.body
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert 0 <= c.start < c.end <= len(body)
        assert body[c.start : c.end] == c.text
        assert c.text.strip()
    # Chunks move forward and together cover every non-blank character of the body.
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    covered = bytearray(len(body))
    for c in chunks:
        covered[c.start : c.end] = b"\x01" * (c.end - c.start)
    assert all(covered[i] or body[i].isspace() for i in range(len(body)))


@FAST
@given(TEXT, st.integers(16, 80), st.integers(0, 40))
def test_chunk_spans_stay_inside_the_body_and_match_the_text(text, target, overlap):
    try:
        article, _ = parse_article("a.txt", "Заголовок\n" + text)
    except ArticleFormatError:
        return
    _check_chunks(article, chunk_article(article, _count_tokens, target, overlap), target)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=20, max_size=120), st.integers(200, 600), st.booleans())
def test_huge_bodies_chunk_correctly(piece, repeat, with_stops):
    # Up to ~50k characters: a run-on live blog with or without sentence ends.
    body = ((piece + (". " if with_stops else " ")) * repeat)[:50_000]
    assert len(body) >= 4000
    try:
        article, _ = parse_article("big.txt", "Великий текст\n" + body)
    except ArticleFormatError:
        return
    _check_chunks(article, chunk_article(article, _count_tokens, 120, 30), 120)


def _passages(n: int) -> list[Passage]:
    return [
        Passage(i, f"a{i}.txt", f"Заголовок {i}", None, f"Текст фрагмента {i} про 2024 рік.", 0, 30, 1.0)
        for i in range(1, n + 1)
    ]


ANSWER = st.lists(
    st.one_of(
        st.text(max_size=30),
        st.builds(lambda n: f"[{n}]", st.integers(-5, 1200)),
        st.builds(lambda a, b: f"[{a}-{b}]", st.integers(0, 999), st.integers(0, 999)),
        st.builds(
            lambda a, b, sep: f"[{a}{sep}{b}]",
            st.integers(0, 999),
            st.integers(0, 999),
            st.sampled_from([",", ";", " ,", "–"]),
        ),
        st.sampled_from(["[фрагмент 2]", "[Passage 1]", "[ 3 ]", "[", "]", "[]", "[1,]", "[,1]", "Відповідь: "]),
    ),
    max_size=20,
).map("".join)


@FAST
@given(ANSWER, st.integers(0, 6))
def test_citations_always_point_inside_the_passages(answer, n_passages):
    passages = _passages(n_passages)
    assert all(isinstance(n, int) and n >= 0 for n in marker_numbers(answer))
    valid, invalid = resolve_citations(answer, passages)
    assert all(1 <= c.n <= n_passages and c.passage == passages[c.n - 1] for c in valid)
    assert all(not 1 <= n <= n_passages for n in invalid)
    # Once invalid markers are stripped, every marker left resolves.
    cleaned = strip_invalid_markers(answer, invalid)
    assert resolve_citations(cleaned, passages)[1] == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANSWER, st.integers(0, 4))
def test_finished_answers_cite_only_existing_passages(answer, n_passages):
    passages = _passages(n_passages)
    result = finish_answer("Що сталося у 2024 році?", answer, passages)
    assert all(1 <= c.n <= n_passages for c in result.citations)
    assert resolve_citations(result.text, passages)[1] == []


@FAST
@given(TEXT, TEXT)
def test_passage_text_cannot_close_the_data_block(title, text):
    passage = Passage(1, "a.txt", title, None, text, 0, len(text), 1.0)
    user = build_prompt("Питання?", [passage]).messages[-1]["content"]
    # Exactly one opening and one closing delimiter: the ones the prompt itself writes.
    assert user.count("<<<") == 1 and user.count(">>>") == 1
    assert user.index("<<<") < user.index(">>>") < user.index("Запитання: Питання?")
