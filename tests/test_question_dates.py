"""Dates in a question narrow retrieval, on real news articles (../shared/corpus/news) and the tiny embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from litopys.core.config import load_settings
from litopys.rag.answer import Answerer, final_answer
from litopys.rag.fusion import recency_boost
from litopys.rag.retrieval import (
    ASKS_WHEN,
    EVENT_TIME,
    UNDATED_INDEX,
    USER_DATES,
    Evidence,
    RetrievalFilter,
    Retriever,
)
from litopys.rag.when import wants_latest, without_latest

NEWS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "news" / "articles"
# About the Khmelnytskyi region: 0009, 0014 dated 2024-11-14; 0174, 0190, 0229 dated 2024-11-13;
# 0530, 0600 are press texts of 2011-2020 without a date line.
FILES = ("0009.txt", "0014.txt", "0174.txt", "0190.txt", "0229.txt", "0530.txt", "0600.txt")
TOPIC = "Що відбувається на Хмельниччині та в Хмельницькій області"


@pytest.fixture(scope="module")
def news() -> dict[str, str]:
    if not NEWS.is_dir():
        pytest.skip(f"needs the shared news corpus at {NEWS} (present in CI)")
    return {name: (NEWS / name).read_text(encoding="utf-8") for name in FILES}


@pytest.fixture(scope="module")
def retriever(make_retriever, tiny_embedder, news):
    with make_retriever(news, tiny_embedder, with_seed=False) as retriever:
        yield retriever


def _from_newest(retriever: Retriever) -> Retriever:
    """The same index, with relative dates counted from the newest article (2024-11-14)."""
    settings = retriever.settings.model_copy(update={"relative_dates_from": "newest_article"})
    return Retriever(retriever.reader, retriever.embedder, settings)


def test_a_day_in_the_question_keeps_only_that_days_articles(retriever):
    question = f"{TOPIC} 13 листопада 2024 року?"
    dates = retriever.question_dates(question)
    assert dates is not None and dates.applied and dates.range.iso == ("2024-11-13", "2024-11-13")
    passages = retriever.search(question, filters=dates.narrow(None))
    assert passages and {p.date for p in passages} == {"2024-11-13"}
    # Unfiltered, the same question also finds the other day's and undated articles.
    assert {p.date for p in retriever.search(question, top_k=10)} - {"2024-11-13"}


def test_relative_dates_count_from_the_newest_article_when_set(retriever):
    archive = _from_newest(retriever)
    dates = archive.question_dates(f"{TOPIC} вчора?")
    assert dates is not None and dates.range.iso == ("2024-11-13", "2024-11-13")
    no_year = archive.question_dates(f"{TOPIC} 14 листопада?")
    assert no_year is not None and no_year.range.iso == ("2024-11-14", "2024-11-14")
    # From today (the default), yesterday is no day of this archive.
    today = retriever.question_dates(f"{TOPIC} вчора?")
    assert today is not None and today.range.iso != ("2024-11-13", "2024-11-13")


def test_a_day_named_without_a_year_is_the_latest_such_day_the_archive_has(retriever):
    # Counted from today, "13 листопада" is this year's (or last year's); the archive's news of it is older.
    dates = retriever.question_dates(f"{TOPIC} 13 листопада?")
    assert dates is not None and dates.applied and dates.range.iso == ("2024-11-13", "2024-11-13")
    assert {p.date for p in retriever.search(TOPIC, filters=dates.narrow(None))} == {"2024-11-13"}
    # Days no year of the archive has news of date an event: no filter, and no "no article is dated" refusal.
    for question in (f"{TOPIC} 12 листопада?", f"{TOPIC} у грудні?"):
        event = retriever.question_dates(question)
        assert event is not None and event.not_applied == EVENT_TIME, question


def test_the_users_own_dates_win_and_other_filters_combine(retriever):
    mine = RetrievalFilter.build("2024-11-14", "2024-11-14")
    dates = retriever.question_dates(f"{TOPIC} 13 листопада 2024?", mine)
    assert dates is not None and dates.not_applied == USER_DATES and dates.narrow(mine) == mine
    only = RetrievalFilter.build(paths=["0009.txt", "0174.txt"])
    dates = retriever.question_dates(f"{TOPIC} 13 листопада 2024?", only)
    assert dates is not None and dates.applied
    narrowed = dates.narrow(only)
    assert narrowed is not None and narrowed.articles == ("0009.txt", "0174.txt")
    assert {p.article_id for p in retriever.search(TOPIC, filters=narrowed)} == {"0174.txt"}


def test_a_year_or_today_with_no_articles_is_taken_as_the_time_of_an_event(retriever):
    event = retriever.question_dates("Хто виграв чемпіонат світу з футболу 2018 року?")
    assert event is not None and event.not_applied == EVENT_TIME
    nowadays = retriever.question_dates("Скільки протестантів сьогодні проживає у Франції?")
    assert nowadays is not None and nowadays.not_applied == EVENT_TIME
    news_year = retriever.question_dates(f"{TOPIC} у 2024 році?")
    assert news_year is not None and news_year.applied


def test_the_dates_of_a_question_asking_when_are_the_events(retriever):
    when = retriever.question_dates("Якого числа в грудні зустрінуться міністри аграрної політики?")
    assert when is not None and when.not_applied == ASKS_WHEN
    relative = retriever.question_dates("Коли вчора оголосили тривогу на Хмельниччині?")
    assert relative is not None and relative.applied  # "вчора" dates the news, whatever is asked


def test_an_index_with_few_dated_articles_is_not_filtered_by_date(make_retriever, tiny_embedder, news):
    undated = {name: text for name, text in news.items() if not text.startswith("date ")}
    with make_retriever(undated, tiny_embedder, with_seed=False) as plain:
        dates = plain.question_dates(f"{TOPIC} 14 листопада 2024?")
    assert dates is not None and dates.not_applied == UNDATED_INDEX
    # One dated article among many undated ones (like the seed among the ner-uk texts) is too few.
    many = {f"{n}/{name}": f"{text}\n\nПримірник {n}.\n" for n in range(6) for name, text in undated.items()}
    with make_retriever(many, tiny_embedder) as mostly_undated:
        dates = mostly_undated.question_dates(f"{TOPIC} у липні 2009 року?")
    assert dates is not None and dates.not_applied == UNDATED_INDEX


def test_a_range_without_articles_is_said_plainly_without_asking_the_model(retriever):
    settings = load_settings().llm
    answerer = Answerer(retriever, None, settings)  # type: ignore[arg-type]  # any call to the model would fail
    answer = final_answer(answerer.stream(f"{TOPIC} 10 листопада 2024 року?"))
    assert answer.refused and answer.no_articles_dated and not answer.low_evidence
    assert answer.passages == [] and "2024-11-10" in answer.text and "10 листопада 2024 року" in answer.text
    shown = answer.as_dict()["date_filter"]
    assert shown == {
        "from": "2024-11-10",
        "to": "2024-11-10",
        "text": "10 листопада 2024 року",
        "applied": True,
        "not_applied": None,
    }
    english = final_answer(answerer.stream("What happened in the Khmelnytskyi region on November 10, 2024?"))
    assert english.no_articles_dated and english.text.startswith("No article is dated 2024-11-10")


def test_a_factoid_question_searches_without_the_dates_its_filter_holds(retriever, monkeypatch):
    """Searched as words, "13 листопада 2024 року" pulls in any report that writes the date (a
    calendar note of the day) above the one about the question's subject, which the filter already dates."""
    searched: list[tuple[str, RetrievalFilter | None]] = []

    def spy(question, filters=None, **kwargs):
        searched.append((question, filters))
        return Evidence([], False)  # nothing stands out: the model is not asked

    monkeypatch.setattr(retriever, "evidence", spy)
    answerer = Answerer(retriever, None, load_settings().llm)  # type: ignore[arg-type]  # any call to the model would fail
    final_answer(answerer.stream("Скільки людей евакуювали на Хмельниччині 13 листопада 2024 року?"))
    final_answer(answerer.stream("Скільки людей евакуювали на Хмельниччині?"))
    own = RetrievalFilter(date_from="2024-11-14", date_to="2024-11-14")  # the user's dates win: nothing is read
    final_answer(answerer.stream("Скільки людей евакуювали на Хмельниччині 13 листопада 2024 року?", filters=own))
    dated, plain, users = searched
    assert dated[0].rstrip(" ?") == "Скільки людей евакуювали на Хмельниччині"
    assert dated[1] is not None and (dated[1].date_from, dated[1].date_to) == ("2024-11-13", "2024-11-13")
    assert plain == ("Скільки людей евакуювали на Хмельниччині?", None)
    assert users == ("Скільки людей евакуювали на Хмельниччині 13 листопада 2024 року?", own)


def test_latest_questions_rank_recent_articles_higher(retriever):
    question = "Останні новини про Хмельницьку область"
    plain = Retriever(retriever.reader, retriever.embedder, retriever.settings.model_copy(update={"recency_boost": 0}))
    before, after = plain.search(question, top_k=10), retriever.search(question, top_k=10)

    def first_undated(passages) -> int:
        return next(n for n, p in enumerate(passages) if p.date is None)

    assert first_undated(after) > first_undated(before)  # the 2011-2020 press text falls behind the news
    assert all((p.recency is None) == (p.date is None) for p in after)
    assert all(p.recency is None for p in retriever.search("Новини про Хмельницьку область", top_k=10))


def test_a_latest_question_searches_for_its_subject_not_for_the_words_latest_news(retriever, monkeypatch):
    """ "Які останні новини про Курахове?" was refused before the LLM for 6 of the 15 latest questions
    of eval/news_kinds.jsonl: "останні новини" matched any article, so none stood out."""
    searched: list[list[str]] = []
    lexical = type(retriever.reader.snapshot()).lexical

    def spy(self, lemmas, *args, **kwargs):
        searched.append(list(lemmas))
        return lexical(self, lemmas, *args, **kwargs)

    monkeypatch.setattr(type(retriever.reader.snapshot()), "lexical", spy)
    retriever.search("Які останні новини про Хмельницьку область?")
    assert searched and not {"останній", "новина"} & set(searched[0]) and "хмельницький" in searched[0]
    assert without_latest("What is the latest on Marine Le Pen?") == "What is the on Marine Le Pen?"


def test_the_recency_boost_halves_every_half_life_and_skips_undated_articles():
    fused = [(1, 2.0), (2, 0.0), (3, -2.0)]  # standard deviation 1.633
    dates = {1: "2024-11-14", 2: "2024-10-15", 3: None}
    gains = recency_boost(fused, dates, "2024-11-14", 1.0, 30.0)
    assert set(gains) == {1, 2}
    assert gains[1] == pytest.approx(1.633, abs=1e-3) and gains[2] == pytest.approx(gains[1] / 2)


def test_latest_questions_are_recognised():
    for question in ("Які останні новини про переговори в Майамі?", "Що нового у справі Агротехбуду?",
                     "What is the latest on the talks?", "Найсвіжіші повідомлення про обстріли"):  # fmt: skip
        assert wants_latest(question), question
    for question in ("Хто очолив останній етап переговорів?", "Скільки нових випадків?", "Коли останній день подачі?"):
        assert not wants_latest(question), question
