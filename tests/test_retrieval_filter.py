"""Retrieval filters (date range, articles, folders) on a small real index: exact, never short."""

from __future__ import annotations

import pytest

from litopys.core.errors import FilterError
from litopys.rag.retrieval import RetrievalFilter

TOPIC = (
    "Переговори у Майамі між делегаціями США та Росії обговорюють у {city}. "
    "Аналітики з {city} кажуть, що делегацію можуть очолити нові люди, а зустріч відбудеться скоро. "
)
ARTICLES = {
    "news/a.txt": ("2024-01-10", "Київ"),
    "news/b.txt": ("2024-06-01", "Львів"),
    "news/deep/c.txt": ("2024-12-31", "Одеса"),
    "newsletter/d.txt": ("2024-06-02", "Харків"),
    "undated.txt": (None, "Дніпро"),
}


def _text(date: str | None, city: str) -> str:
    head = f"date {date} Новини з міста {city}" if date else f"Новини з міста {city}"
    # Several paragraphs, so every article has more than one chunk.
    return head + "\n" + "\n\n".join(TOPIC.format(city=city) * 3 for _ in range(4)) + "\n"


@pytest.fixture(scope="module")
def retriever(make_retriever, tiny_embedder):
    texts = {article_id: _text(date, city) for article_id, (date, city) in ARTICLES.items()}
    with make_retriever(texts, tiny_embedder) as retriever:
        yield retriever


def _articles(passages) -> set[str]:
    return {p.article_id for p in passages}


def test_folder_filter_keeps_only_ids_under_the_folder_and_still_fills_top_k(retriever, seed):
    f = RetrievalFilter.build(paths=["news/"])
    passages = retriever.search(seed.question, top_k=5, filters=f)
    # news/ holds 3 articles x 2 (the per-article cap): 5 fit, so the filter costs no result.
    assert len(passages) == 5
    assert _articles(passages) == {"news/a.txt", "news/b.txt", "news/deep/c.txt"}
    # Unfiltered, the seed article wins; "news/" must not match "newsletter/".
    assert retriever.search(seed.question, top_k=1)[0].article_id == seed.article_id


def test_articles_and_folders_combine_with_or(retriever, seed):
    f = RetrievalFilter.build(paths=["undated.txt", "newsletter/", ""])
    assert f.articles == ("undated.txt",) and f.folders == ("newsletter/",)
    passages = retriever.search(seed.question, top_k=5, filters=f)
    assert _articles(passages) == {"undated.txt", "newsletter/d.txt"} and len(passages) == 4


def test_date_range_is_inclusive_and_drops_undated_articles(retriever, seed):
    f = RetrievalFilter.build("2024-06-01", "2024-12-31")
    assert _articles(retriever.search(seed.question, top_k=10, filters=f)) == {
        "news/b.txt",
        "newsletter/d.txt",
        "news/deep/c.txt",
    }
    only_from = RetrievalFilter.build(date_from="2025-01-01")
    assert _articles(retriever.search(seed.question, top_k=10, filters=only_from)) == {seed.article_id}
    with_folder = RetrievalFilter.build("2024-06-01", None, ["news/"])
    assert _articles(retriever.search(seed.question, top_k=10, filters=with_folder)) == {
        "news/b.txt",
        "news/deep/c.txt",
    }


def test_filtered_signals_equal_the_unfiltered_ranking_restricted_to_the_filter(retriever, seed):
    f = RetrievalFilter.build(paths=["news/"])
    store = retriever.reader.store
    allowed = set(store.chunk_ids_where(f.sql()))
    assert allowed
    everything = len(store.all_chunk_ids())
    for signal in (retriever.lexical, retriever.dense):
        expected = [round(score, 5) for cid, score in signal(seed.question, everything) if cid in allowed][:3]
        got = signal(seed.question, 3, f)
        # Scores, not ids: the near-identical test articles tie, and ties may come in any order.
        assert [round(score, 5) for _, score in got] == expected
        assert {cid for cid, _ in got} <= allowed


def test_a_filter_matching_nothing_finds_nothing(retriever, seed):
    f = RetrievalFilter.build(paths=["no-such-folder/"])
    assert retriever.search(seed.question, filters=f) == []
    assert retriever.search(seed.question, filters=RetrievalFilter()) != []  # inactive = no filter


@pytest.mark.parametrize(
    "start, end, field",
    [
        ("2024-13-01", None, "date_from"),
        ("14.11.2024", None, "date_from"),
        (None, "2024-2-1", "date_to"),
        ("2024-06-02", "2024-06-01", "range"),
    ],
)
def test_bad_dates_are_clear_errors(start, end, field):
    with pytest.raises(FilterError, match="YYYY-MM-DD|empty") as err:
        RetrievalFilter.build(start, end)
    assert err.value.field == field
