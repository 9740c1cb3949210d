"""'Which articles mention X?' is answered with a list of articles from retrieval, without the LLM."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from litopys.core.config import LLMSettings
from litopys.rag.answer import Answerer, final_answer
from litopys.rag.kinds import FACTOID, LIST
from litopys.rag.listing import ListedArticle, find_articles, list_text, search_text
from litopys.rag.retrieval import Passage

NEWS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "news" / "articles"
# Umerov is named in 0033 (2024-11-14) and 0320, 0346, 0356 (2024-11-13); Budanov in 0095, 0125
# (2024-11-14) and 0448 (2024-11-13); 0001, 0002, 0009 name neither.
UMEROV = {"0033.txt", "0320.txt", "0346.txt", "0356.txt"}
BUDANOV = {"0095.txt", "0125.txt", "0448.txt"}
FILES = sorted(UMEROV | BUDANOV | {"0001.txt", "0002.txt", "0009.txt"})


def _passage(n: int, article: str, score: float, lexical: float | None) -> Passage:
    return Passage(n, article, f"Заголовок {article}", "2024-11-14", f"Текст {n}.", 0, 9, score, lexical, 0.5)


def test_passages_are_grouped_by_article_best_first_and_must_share_a_word(fixed_ranking):
    ranking = [
        _passage(1, "a.txt", 4.0, 9.0),
        _passage(2, "b.txt", 3.0, 0.0),  # found by meaning only: mentions nothing
        _passage(3, "c.txt", 2.5, 1.0),
        _passage(4, "a.txt", 2.0, 3.0),
        _passage(5, "c.txt", 1.0, None),
    ]
    listed = find_articles(fixed_ranking(ranking), "X")
    assert [a.article_id for a in listed] == ["a.txt", "c.txt"]
    assert [p.chunk_id for p in listed[0].passages] == [1, 4] and listed[1].best.chunk_id == 3
    assert listed[0].score == 4.0 and listed[0].as_dict()["passages"] == 2
    assert [a.article_id for a in find_articles(fixed_ranking(ranking), "X", limit=1)] == ["a.txt"]


def test_without_a_shared_word_only_a_standing_out_match_is_listed(fixed_ranking):
    by_meaning = [_passage(1, "a.txt", 1.2, 0.0), _passage(2, "b.txt", 1.0, 0.0)]
    assert find_articles(fixed_ranking(by_meaning), "X") == []  # nothing stands out: no list
    strong = [_passage(1, "a.txt", 3.0, 0.0), _passage(2, "b.txt", 1.0, 0.0)]
    assert [a.article_id for a in find_articles(fixed_ranking(strong), "X")] == ["a.txt", "b.txt"]


def test_the_list_text_speaks_the_questions_language():
    article = ListedArticle("a.txt", "Заголовок", "2024-11-14", None, (_passage(1, "a.txt", 1.0, 1.0),))
    undated = ListedArticle("b.txt", "Інший", None, None, (_passage(2, "b.txt", 1.0, 1.0),))
    uk = list_text("Які статті пишуть про Умєрова?", "Умєрова", [article, undated])
    assert uk == "Статті про «Умєрова», найдоречніші спершу:\n1. Заголовок (2024-11-14)\n2. Інший"
    assert list_text("Which articles mention Umerov?", "Umerov", [article]).startswith("Articles on “Umerov”")
    assert list_text("Де згадується Умєров?", "Умєров", []) == "Не знайшов статей про «Умєров»."
    assert list_text("Where is Umerov mentioned?", "Umerov", []) == "No article found on “Umerov”."


# --- the real pipeline: news articles, the tiny embedder, no LLM -----------------------------------


@pytest.fixture(scope="module")
def retriever(make_retriever, tiny_embedder):
    if not NEWS.is_dir():
        pytest.skip(f"needs the shared news corpus at {NEWS} (present in CI)")
    news = {name: (NEWS / name).read_text(encoding="utf-8") for name in FILES}
    with make_retriever(news, tiny_embedder, with_seed=False) as retriever:
        yield retriever


@pytest.fixture(scope="module")
def answerer(retriever) -> Answerer:
    return Answerer(retriever, None, LLMSettings())  # type: ignore[arg-type]  # any call to the model would fail


def test_which_articles_lists_every_article_that_names_him(answerer):
    answer = final_answer(answerer.stream("Які статті згадують Умєрова?"))
    assert answer.kind == LIST and not answer.refused and not answer.citations
    assert {a.article_id for a in answer.articles} == UMEROV
    assert answer.articles[0].article_id == "0320.txt"  # names him in its title
    assert [p.article_id for p in answer.passages] == [a.article_id for a in answer.articles]
    assert answer.text.splitlines()[0] == "Статті про «Умєрова», найдоречніші спершу:"
    assert len(answer.text.splitlines()) == 1 + len(UMEROV)
    shown = answer.as_dict()
    assert shown["kind"] == "list" and [a["n"] for a in shown["articles"]] == [1, 2, 3, 4]
    assert {a["article_id"] for a in shown["articles"]} == UMEROV and shown["articles"][0]["date"] == "2024-11-13"


def test_where_is_x_mentioned_in_english_and_with_a_date(answerer):
    english = final_answer(answerer.stream("Which articles mention Буданов?"))
    assert english.kind == LIST and {a.article_id for a in english.articles} == BUDANOV
    assert english.text.startswith("Articles on “Буданов”, best first:")
    dated = final_answer(answerer.stream("Де згадується Умєров 13 листопада 2024 року?"))
    assert dated.dates is not None and dated.dates.applied
    assert {a.article_id for a in dated.articles} == UMEROV - {"0033.txt"}
    assert dated.text.startswith("Статті про «Умєров»,")  # the date is the filter, not a word to find
    nothing = final_answer(answerer.stream("Які статті пишуть про Умєрова 10 листопада 2024 року?"))
    assert nothing.refused and nothing.no_articles_dated and not nothing.articles
    unknown = final_answer(answerer.stream("Які статті пишуть про Віткоффа?"))
    assert unknown.refused and unknown.articles == [] and unknown.text == "Не знайшов статей про «Віткоффа»."


def test_a_factoid_question_is_not_listed(answerer):
    class Refuses:  # the factoid path asks the model; it must not be reached by a list question
        def stream(self, *args, **kwargs):
            yield "У статтях немає відповіді на це запитання."

        def prime(self, *args) -> None: ...

        def count_tokens(self, text: str) -> int:
            return len(text.split())

    factoid = Answerer(answerer.retriever, Refuses(), LLMSettings())  # type: ignore[arg-type]
    answer = final_answer(factoid.stream("Що сказав Умєров про бронювання?"))
    assert answer.kind == FACTOID and answer.articles == [] and answer.as_dict()["kind"] == "factoid"


def test_ask_json_carries_the_kind_and_the_articles(answerer, monkeypatch):
    from litopys import runtime
    from litopys.cli import app

    monkeypatch.setattr(runtime, "open_assistant", lambda settings: SimpleNamespace(answerer=answerer))
    result = CliRunner().invoke(app, ["ask", "Where is Буданов mentioned?", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["kind"] == "list" and {a["article_id"] for a in out["articles"]} == BUDANOV
    text = CliRunner().invoke(app, ["ask", "Де згадується Буданов?"])
    assert text.exit_code == 0 and "Статті про «Буданов»" in text.stdout and "[1] 0" in text.stdout


def test_names_are_also_searched_without_their_case_ending():
    assert search_text("Умєрова") == "Умєрова Умєров"
    # An indeclinable name loses a letter too: the bare form then matches nothing, and costs nothing.
    assert search_text("переговори з Віткоффом у Маямі") == "переговори з Віткоффом у Маямі Віткофф Маям"
    assert search_text("Буданов і ЗСУ") == "Буданов і ЗСУ"
    assert search_text("the talks") == "the talks"
