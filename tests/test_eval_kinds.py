"""Kinds in the eval: a question file's `kind`, `dates` and `articles`, and the per-kind report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from litopys.core.config import LLMSettings
from litopys.core.errors import LitopysError
from litopys.rag.answer import Answerer, final_answer
from litopys.rag.evaluation import Question, kind_paths, list_recall, load_questions, score_answer, summarize

NEWS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "news" / "articles"
EVAL = Path(__file__).resolve().parents[1] / "eval" / "news_kinds.jsonl"
# A dated question asking what was written or reported on a day about something, not one fact.
_WRITTEN = re.compile(
    r"^(?:Що\b.*?\b(?:писали|повідомляли|повідомили)\s+(?:\S+\s+){0,8}?про\s|What was reported\b|Які новини про\s)"
)
# Umerov is named in 0033 (2024-11-14) and 0320, 0346, 0356 (2024-11-13); 0001 and 0009 do not name him.
FILES = ("0001.txt", "0009.txt", "0033.txt", "0320.txt", "0346.txt", "0356.txt")


def test_question_lines_carry_kind_dates_and_articles(tmp_path):
    path = tmp_path / "q.jsonl"
    lines = [
        {"question": "Q1", "article": "a.txt", "answer_any": ["x"]},
        {"question": "Q2", "article": None, "answer_any": [], "kind": "list", "articles": ["a.txt", "b.txt"]},
        {"question": "Q3", "article": "a.txt", "answer_any": [], "kind": "dated", "dates": ["2024-11-13"] * 2},
        {"question": "Q4", "article": None, "answer_any": [], "kind": "offtopic"},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    q1, q2, q3, q4 = load_questions(path)
    assert (q1.kind, q1.dates, q1.articles) == ("factoid", None, ())
    assert (q2.kind, q2.articles) == ("list", ("a.txt", "b.txt"))
    assert (q3.kind, q3.dates) == ("dated", ("2024-11-13", "2024-11-13"))
    assert q4.kind == "offtopic"  # the hard sets' own kinds load as they did
    path.write_text(json.dumps({"question": "Q", "article": None, "dates": ["2024-11-13"]}), encoding="utf-8")
    with pytest.raises(LitopysError, match=r"q.jsonl:1: .*dates must be \[from, to\]"):
        load_questions(path)


def test_list_recall_counts_the_first_ten_by_file_name():
    assert list_recall(["news/a.txt", "b.txt"], ["a.txt", "b.txt", "c.txt", "d.txt"]) == 0.5
    assert list_recall([f"{n}.txt" for n in range(20)], ["15.txt"]) == 0.0  # past the tenth
    assert list_recall(["a.txt"], []) == 0.0


def test_the_shipped_set_loads_with_its_kinds():
    questions = load_questions(EVAL)
    kinds = [q.kind for q in questions]
    assert len(questions) >= 80
    assert kinds.count("list") >= 15 and kinds.count("dated") >= 30
    assert kinds.count("latest") >= 15 and kinds.count("overview") >= 20
    assert all(1 <= len(q.articles) <= 10 for q in questions if q.kind == "list")
    # A dated question names its article, or none when no article is dated in its range (then it is refused).
    assert all(q.dates for q in questions if q.kind == "dated")
    assert sum(1 for q in questions if q.kind == "dated" and q.article and q.answer_any) >= 30
    assert all(q.article and q.answer_any and not q.dates for q in questions if q.kind == "latest")
    assert all(2 <= len(q.articles) <= 5 and q.article is None for q in questions if q.kind == "overview")


def test_the_shipped_sets_questions_take_their_kinds_path_and_read_their_dates():
    """Each question's words pick its path (rag.kinds) and only the dated ones read a date:
    "1,35 млрд", "Booker Prize 2024" or "сто днів" in another kind's question are no filter."""
    from datetime import date

    from litopys.rag.kinds import question_kind
    from litopys.rag.when import asks_when, read_dates, wants_latest

    newest = date(2024, 11, 14)  # the news corpus's newest article: relative dates count from it
    for q in load_questions(EVAL):
        assert question_kind(q.question) in kind_paths(q.kind), q.question
        if q.kind == "dated":  # what was written on a day about X is an overview of that day's reports
            assert (question_kind(q.question) == "overview") == bool(_WRITTEN.match(q.question)), q.question
        read = read_dates(q.question, newest)
        if q.kind == "dated":
            assert read is not None and read.iso == q.dates, q.question
            # A question asking when ("Коли…?", not "коли" as a conjunction) keeps its dates out of the filter.
            assert not asks_when(q.question), q.question
        else:
            assert read is None, q.question
        assert wants_latest(q.question) == (q.kind == "latest"), q.question


@pytest.fixture(scope="module")
def answerer(make_retriever, tiny_embedder):
    if not NEWS.is_dir():
        pytest.skip(f"needs the shared news corpus at {NEWS} (present in CI)")
    news = {name: (NEWS / name).read_text(encoding="utf-8") for name in FILES}
    with make_retriever(news, tiny_embedder, with_seed=False) as retriever:
        yield Answerer(retriever, None, LLMSettings())  # type: ignore[arg-type]  # any call to the model would fail


def test_each_kind_is_reported_on_its_own(answerer):
    umerov = ("0033.txt", "0320.txt", "0346.txt", "0356.txt")
    asked = [
        Question("Які статті згадують Умєрова?", None, (), "list", None, umerov),
        Question("Де згадується Умєров?", None, (), "list", None, (*umerov, "0001.txt", "0009.txt")),
        # No article is dated 2024-11-10: refused before the LLM, with the range read.
        Question("Що писали про Умєрова 10 листопада 2024 року?", None, (), "dated", ("2024-11-10", "2024-11-10")),
        Question("Що писали про Умєрова 10.11.2024?", None, (), "dated", ("2024-11-11", "2024-11-11")),
    ]
    rows = [score_answer(q, final_answer(answerer.stream(q.question)), 0.1) for q in asked]
    # What was written on a day about X: an overview of that day's reports (none here).
    assert [r["answer_kind"] for r in rows] == ["list", "list", "overview", "overview"]
    assert rows[0]["list_recall"] == 1.0 and rows[1]["list_recall"] == pytest.approx(4 / 6)
    assert rows[2]["dates_read"] == ["2024-11-10", "2024-11-10"] and rows[2]["dates_exact"] is True
    assert rows[3]["dates_exact"] is False
    summary = summarize(rows)
    kinds = summary["kinds"]
    assert kinds["list"]["recall_at_10"] == pytest.approx((1 + 4 / 6) / 2)
    assert kinds["list"]["took_its_path_rate"] == 1.0 and kinds["list"]["dates_exact_rate"] is None
    assert kinds["dated"]["dates_exact_rate"] == 0.5 and kinds["dated"]["questions"] == 2.0
    assert kinds["dated"]["took_its_path_rate"] == 1.0
    # The list questions are left out of the answer metrics (no LLM answered them).
    assert summary["refusals"]["unanswerable"] == 2.0


def test_a_dated_answer_citing_another_article_of_the_day_that_holds_the_fact_is_correct_from_any_source():
    from litopys.rag.answer import Answer
    from litopys.rag.citations import Citation
    from litopys.rag.retrieval import Passage

    q = Question("Кого Трамп 13 листопада 2024 року назвав держсекретарем?", "0185.txt", ("Рубіо",), "dated",
                 ("2024-11-13", "2024-11-13"))  # fmt: skip

    def scored(article: str, day: str, text: str) -> dict:
        passage = Passage(1, article, "Рубіо", day, text, 0, len(text), 1.0)
        answer = Answer(q.question, "Трамп назвав Марка Рубіо [1].", [Citation(1, passage)], [passage], False)
        return score_answer(q, answer, 1.0)

    same_day = scored("0177.txt", "2024-11-13", "Трамп обрав Марка Рубіо держсекретарем.")
    assert not same_day["correct"] and same_day["correct_any_source"]
    assert not scored("0999.txt", "2024-11-14", "Трамп обрав Марка Рубіо держсекретарем.")["correct_any_source"]
    assert not scored("0177.txt", "2024-11-13", "Трамп обрав держсекретаря.")["correct_any_source"]
    gold = scored("0185.txt", "2024-11-13", "Трамп обрав Марка Рубіо держсекретарем.")
    assert gold["correct"] and gold["correct_any_source"]
    assert summarize([same_day, gold])["kinds"]["dated"]["correct_any_source_rate"] == 1.0
