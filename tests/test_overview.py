"""Overview answers ("Що відомо про X?"): passages from several articles, oldest first, one LLM call,
a dated list whose every line is cited and checked (rag/overview.py, Answerer._overview)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from litopys.core.config import LLMSettings, PromptSettings
from litopys.rag import overview
from litopys.rag.answer import Answerer, finish_overview
from litopys.rag.budget import estimate_tokens
from litopys.rag.evaluation import Question, kind_metrics, score_answer
from litopys.rag.kinds import OVERVIEW
from litopys.rag.overview import focused, in_date_order, line_dates, oldest_first, spread, strip_lead, timeline
from litopys.rag.prompt import answer_prefix, build_overview_prompt, overview_prefix
from litopys.rag.retrieval import Evidence, Passage
from litopys.rag.withhold import UNSUPPORTED

NEWS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "news" / "articles"


def passage(n: int, article: str, date: str | None, text: str, start: int = 0, title: str = "Новина") -> Passage:
    return Passage(n, article, title, date, text, start, start + len(text), 1.0 / n, lexical_score=1.0)


def test_spread_takes_each_articles_best_passage_before_any_second_one():
    ranked = [
        passage(1, "a", None, "a1"),
        passage(2, "a", None, "a2"),
        passage(3, "b", None, "b1"),
        passage(4, "a", None, "a3"),
        passage(5, "c", None, "c1"),
        passage(6, "b", None, "b2"),
    ]
    assert [p.text for p in spread(ranked, 4)] == ["a1", "b1", "c1", "a2"]
    assert [p.text for p in spread(ranked, 10)] == ["a1", "b1", "c1", "a2", "b2", "a3"]


def scored(n: int, article: str, score: float) -> Passage:
    return replace(passage(n, article, "2024-11-14", f"{article}{n}"), score=score)


# A dated question's pool ("Що 14 листопада писали про обвалення мосту?"): the report asked
# about, whose passages all score about 0.9 of the best or more, and articles that only share a
# word with it ("Крим"), each under half of the best.
FOCUS_POOL = [
    scored(1, "bridge", 3.3),
    scored(2, "other", 1.1),
    scored(3, "bridge", 3.0),
    scored(4, "third", 0.8),
    scored(5, "bridge", 2.9),
    scored(6, "fourth", 0.6),
]


def test_focused_reads_the_strong_articles_in_depth_before_the_weak_ones():
    assert [p.text for p in focused(FOCUS_POOL, 4, 0.5)] == ["bridge1", "bridge3", "bridge5", "other2"]
    # Several strong articles are still spread: each one's best passage before any second one.
    two = [scored(1, "a", 3.0), scored(2, "a", 2.8), scored(3, "b", 2.0), scored(4, "c", 0.5)]
    assert [p.text for p in focused(two, 3, 0.5)] == ["a1", "b3", "a2"]


def test_focused_without_a_share_or_a_positive_best_score_is_the_plain_spread():
    assert focused(FOCUS_POOL, 4, 0.0) == spread(FOCUS_POOL, 4)
    negative = [replace(p, score=p.score - 10) for p in FOCUS_POOL]
    assert focused(negative, 4, 0.5) == spread(negative, 4)
    assert focused([], 4, 0.5) == []


@pytest.mark.parametrize(("dated", "articles"), [(True, ["bridge"]), (False, ["bridge", "other", "third"])])
def test_only_a_dated_overview_reads_the_strong_report_in_depth(monkeypatch, dated, articles):
    monkeypatch.setattr(overview, "gather", lambda *args, **kwargs: Evidence(list(FOCUS_POOL), True))
    settings = PromptSettings(overview_passages=3, overview_passage_tokens=0)
    _, chosen = overview.overview_passages(None, "обвалення мосту", None, settings, estimate_tokens, dated=dated)  # type: ignore[arg-type]
    assert sorted({p.article_id for p in chosen}) == articles


def test_the_answerer_marks_an_overview_dated_only_when_the_question_names_dates(news_retriever, monkeypatch):
    seen: list[bool] = []
    real = overview.overview_passages

    def spy(*args, **kwargs):
        seen.append(kwargs["dated"])
        return real(*args, **kwargs)

    monkeypatch.setattr("litopys.rag.answer.overview_passages", spy)
    answerer = Answerer(news_retriever, TimelineWriter(), LLMSettings())
    answerer.ask("Що відомо про Хегсета 14 листопада 2024 року?")
    answerer.ask("Що відомо про Хегсета?")
    assert seen == [True, False]


def test_oldest_first_orders_by_date_keeps_an_articles_passages_in_text_order_and_undated_last():
    given = [
        passage(1, "new", "2024-11-14", "new", 0),
        passage(2, "old", "2024-11-13", "old later", 500),
        passage(3, "undated", None, "undated", 0),
        passage(4, "old", "2024-11-13", "old earlier", 10),
        passage(5, "old2", "2024-11-13", "old2", 0),
    ]
    assert [p.text for p in oldest_first(given)] == ["old earlier", "old later", "old2", "new", "undated"]


@pytest.mark.parametrize(
    ("line", "body"),
    [
        ("- 2024-11-13: Трамп обрав Марка Рубіо [1].", "Трамп обрав Марка Рубіо [1]."),
        ("1. 13 листопада 2024 року — Трамп обрав Рубіо [2]", "Трамп обрав Рубіо [2]"),
        ("* (2024-11-14) – Пентагон стривожений [3].", "Пентагон стривожений [3]."),
        ("- November 13, 2024: Trump picked Rubio [1].", "Trump picked Rubio [1]."),
        # A date inside the sentence is part of the claim, not a label of the line.
        ("- 13 листопада Трамп обрав Рубіо [1].", "13 листопада Трамп обрав Рубіо [1]."),
        ("Трамп обрав Рубіо [1].", "Трамп обрав Рубіо [1]."),
    ],
)
def test_strip_lead_removes_the_bullet_and_the_date_label(line, body):
    assert strip_lead(line) == body


PASSAGES = [
    passage(1, "0187.txt", "2024-11-13", "Трамп обрав сенатора Марка Рубіо на посаду держсекретаря США."),
    passage(
        2, "0111.txt", "2024-11-14", "Посадовці Пентагону стурбовані кандидатурою Піта Хегсета на посаду міністра."
    ),
    passage(3, "0999.txt", None, "Рубіо раніше був сенатором від штату Флорида."),
]


def test_a_timeline_is_dated_by_its_cited_passages_sorted_and_checked_line_by_line():
    raw = (
        "- 2024-11-14: Посадовці Пентагону стурбовані кандидатурою Хегсета [2].\n"
        "- 2024-11-12: Трамп обрав Марка Рубіо на посаду держсекретаря [1].\n"  # the model's date is not trusted
        "- 2024-11-13: Рубіо отримав 45 голосів [1].\n"  # a number no passage holds: dropped
        "- Рубіо був сенатором від штату Флорида.\n"  # no marker: attributed to the passage that holds it
        "- 2024-11-14: Трамп обрав Марка Рубіо на посаду держсекретаря [1]."  # the same event again
    )
    found = timeline("Що відомо про Рубіо?", raw, PASSAGES)
    text = found.text("Що відомо про Рубіо?")
    assert text.splitlines() == [
        "- 2024-11-13: Трамп обрав Марка Рубіо на посаду держсекретаря [1].",
        "- 2024-11-14: Посадовці Пентагону стурбовані кандидатурою Хегсета [2].",
        "- без дати: Рубіо був сенатором від штату Флорида [3].",
    ]
    assert found.dropped == ["Рубіо отримав 45 голосів [1]."]
    assert found.missing == ("45",)
    assert [line.attributed for line in found.lines] == [False, False, True]
    assert line_dates(text, PASSAGES) == ["2024-11-13", "2024-11-14", None]
    assert in_date_order(line_dates(text, PASSAGES))
    citations = found.citations(PASSAGES)
    assert [c.n for c in citations] == [1, 2, 3] and citations[2].attributed


def test_a_line_citing_the_wrong_passage_is_recited_to_the_one_that_holds_its_facts():
    found = timeline("Що відомо про Хегсета?", "- Пентагон стурбований кандидатурою Піта Хегсета [1].", PASSAGES)
    assert [line.cited for line in found.lines] == [(2,)]
    assert found.lines[0].date == "2024-11-14"


CORROBORATED = [
    *PASSAGES,
    passage(4, "0185.txt", "2024-11-12", "Сенатора Марка Рубіо Трамп обрав на посаду держсекретаря, пишуть ЗМІ."),
    passage(
        5, "0187.txt", "2024-11-13", "Рубіо обрав Трамп на посаду держсекретаря, повторює стаття."
    ),  # cited already
    passage(6, "0186.txt", "2024-11-14", "Трамп обрав Рубіо, а не Ґренелла."),  # most of the line's words missing
    passage(7, "0188.txt", "2024-11-14", "Трамп обрав сенатора Рубіо на посаду держсекретаря за 45 днів."),
]


def test_a_line_also_cites_the_other_articles_that_back_it_and_is_dated_by_the_oldest():
    raw = "- Трамп обрав сенатора Рубіо на посаду держсекретаря [1].\n- Рубіо був сенатором від Флориди [3]."
    found = timeline("Що відомо про Рубіо?", raw, CORROBORATED, corroboration=0.8)
    assert [line.cited for line in found.lines] == [(1, 4, 7), (3,)]
    assert found.lines[0].text == "Трамп обрав сенатора Рубіо на посаду держсекретаря [1, 4, 7]."
    assert found.lines[0].date == "2024-11-12"  # first reported in 0185
    assert [c.n for c in found.citations(CORROBORATED)] == [1, 4, 7, 3]
    # Off (0), or a line with a number another report lacks, cites what the model cited.
    off = timeline("Що відомо про Рубіо?", raw, CORROBORATED)
    assert [line.cited for line in off.lines] == [(1,), (3,)]
    counted = timeline("Що відомо про Рубіо?", "- Трамп обрав Рубіо за 45 днів [7].", CORROBORATED, corroboration=0.8)
    assert [line.cited for line in counted.lines] == [(7,)]


def test_a_line_of_the_questions_own_words_is_not_corroborated():
    # Every report on the subject repeats the question's words: that backs nothing new.
    found = timeline("Чи обрав Трамп Рубіо?", "- Трамп обрав Рубіо [1].", CORROBORATED, corroboration=0.8)
    assert [line.cited for line in found.lines] == [(1,)]


def test_a_reply_in_one_paragraph_is_split_into_events():
    raw = "Трамп обрав Марка Рубіо на посаду держсекретаря [1]. Пентагон стурбований кандидатурою Хегсета [2]."
    found = timeline("What happened with Trump's team?", raw, PASSAGES)
    assert len(found.lines) == 2
    assert found.text("What happened with Trump's team?").splitlines()[0].startswith("- 2024-11-13: ")


def test_a_last_line_cut_off_by_the_token_limit_is_dropped():
    raw = (
        "- 2024-11-13: Трамп обрав Марка Рубіо на посаду держсекретаря [1].\n"
        "- 2024-11-14: Посадовці Пентагону стурбовані кандидатурою Піта"
    )
    found = timeline("Що відомо про Рубіо?", raw, PASSAGES)
    assert [line.cited for line in found.lines] == [(1,)]
    # A last line that ends as a sentence does, without a marker, is attributed as any other.
    found = timeline("Що відомо про Рубіо?", raw + " Хегсета.", PASSAGES)
    assert [line.cited for line in found.lines] == [(1,), (2,)]


def test_when_every_line_is_unsupported_the_overview_is_withheld():
    answer = finish_overview("Що відомо про Рубіо?", "- Рубіо отримав 45 голосів [1].", PASSAGES)
    assert answer.refused and answer.kind == OVERVIEW
    assert answer.withheld is not None and answer.withheld.reason == UNSUPPORTED
    assert answer.withheld.missing == ("45",)
    assert answer.dropped_lines == ["Рубіо отримав 45 голосів [1]."]


def test_a_refusal_stays_a_refusal():
    answer = finish_overview("Що відомо про Рубіо?", "У статтях немає відповіді на це запитання.", PASSAGES)
    assert answer.refused and answer.withheld is None and not answer.citations


def _sha(messages: list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(messages, ensure_ascii=False).encode("utf-8")).hexdigest()


def test_the_factoid_prefix_is_unchanged_and_the_overview_has_its_own():
    # The factoid prefix's KV cache is saved on disk by its text: it must stay byte-identical.
    assert _sha(answer_prefix()) == "0c1e1e223e38276cf5a5445438cf6298c4dd4193722b4348258bf30bbdf7053c"
    assert overview_prefix() != answer_prefix()
    prompt = build_overview_prompt("Що відомо про Рубіо?", PASSAGES)
    assert prompt.messages[: len(overview_prefix()) - 1] == overview_prefix()[:-1]
    assert "[1] «Новина» (2024-11-13)" in prompt.messages[-1]["content"]


class TimelineWriter:
    """A ChatModel that answers an overview prompt as a good model would: one line per passage,
    dated as the prompt dates it, newest first (so the order is the code's doing)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str | None, int, str]] = []

    def stream(self, messages, sampling, slot=None):
        user = messages[-1]["content"]
        self.calls.append((slot, sampling.max_tokens, user))
        blocks = re.findall(r"^\[(\d+)\] «([^»]*)»(?: \(([\d-]+)\))?\n(.+)$", user, re.MULTILINE)
        lines = [f"- {date or 'без дати'}: {text.split('.')[0].strip()} [{n}]." for n, _, date, text in blocks]
        yield "\n".join(reversed(lines))

    def yes_probability(self, messages, slot=None):
        return None  # like a server backend: no token probabilities, so the model-read check is skipped

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def prime(self, slot, prefix) -> None:
        pass


# Rubio's nomination (2024-11-13: 0177, 0185, 0187) and the Pentagon's worry about Hegseth (0111,
# 2024-11-14); 0001 (Kryvyi Rih) is about neither.
FILES = ("0001.txt", "0111.txt", "0177.txt", "0185.txt", "0187.txt")


@pytest.fixture(scope="module")
def news_retriever(make_retriever, tiny_embedder):
    if not NEWS.is_dir():
        pytest.skip(f"needs the shared news corpus at {NEWS} (present in CI)")
    news = {name: (NEWS / name).read_text(encoding="utf-8") for name in FILES}
    with make_retriever(news, tiny_embedder, with_seed=False) as retriever:
        yield retriever


def test_an_overview_question_gets_one_call_over_several_articles_and_a_dated_cited_list(news_retriever):
    llm = TimelineWriter()
    settings = PromptSettings(overview_passages=4, overview_per_article_cap=3, overview_max_tokens=150)
    answer = Answerer(news_retriever, llm, LLMSettings(), settings).ask("Що відомо про призначення Рубіо?")
    assert answer.kind == OVERVIEW and not answer.refused, answer.as_dict()
    assert len(llm.calls) == 1
    slot, max_tokens, user = llm.calls[0]
    assert (slot, max_tokens) == ("overview", 150)
    assert "(2024-11-13)" in user  # the passages go to the model with their dates
    assert len({p.article_id for p in answer.passages}) >= 2  # several articles, not one article's chunks
    dates = [p.date for p in answer.passages]
    assert dates == sorted(dates)  # the prompt runs oldest first
    lines = answer.text.splitlines()
    # (a line cites the other reports that back it too: "[3, 4]")
    assert lines and all(re.match(r"^- \d{4}-\d{2}-\d{2}: .+\[\d+(?:, \d+)*\]\.?$", line) for line in lines)
    assert in_date_order(line_dates(answer.text, answer.passages))
    assert {"0185.txt", "0187.txt"} & {c.passage.article_id for c in answer.citations}
    public = answer.as_dict()
    assert public["kind"] == OVERVIEW and public["answer"] == answer.text and "dropped_lines" in public


def test_the_latest_on_a_subject_is_a_timeline_of_recent_reports_newest_first(news_retriever):
    llm = TimelineWriter()
    answer = Answerer(news_retriever, llm, LLMSettings()).ask("Що нового про Пентагон?")
    assert answer.kind == OVERVIEW and not answer.refused, answer.as_dict()
    assert len(llm.calls) == 1 and llm.calls[0][0] == "overview"
    # Retrieval ranked the recent articles higher, searching for the subject, not "останні новини".
    assert answer.passages and all(p.recency is not None for p in answer.passages if p.date)
    dates = line_dates(answer.text, answer.passages)
    assert len(set(dates)) >= 2 and in_date_order(dates, newest_first=True) and not in_date_order(dates)
    assert answer.text.startswith("- 2024-11-14: ")


def test_a_timeline_for_the_latest_news_runs_newest_first_with_undated_lines_last():
    raw = "- Трамп обрав Марка Рубіо [1].\n- Рубіо був сенатором від штату Флорида [3].\n- Пентагон стурбований [2]."
    found = timeline("Які останні новини про Рубіо?", raw, PASSAGES, newest_first=True)
    assert [line.date for line in found.lines] == ["2024-11-14", "2024-11-13", None]


def test_an_overview_with_a_date_searches_only_that_day(news_retriever):
    llm = TimelineWriter()
    answer = Answerer(news_retriever, llm, LLMSettings()).ask("Що відомо про Хегсета 14 листопада 2024 року?")
    assert answer.kind == OVERVIEW and answer.dates is not None and answer.dates.applied
    assert {p.date for p in answer.passages} == {"2024-11-14"}


def test_an_overview_over_an_empty_date_range_says_so_without_the_llm(news_retriever):
    llm = TimelineWriter()
    answer = Answerer(news_retriever, llm, LLMSettings()).ask("Що відомо про Рубіо 10 листопада 2024 року?")
    assert answer.kind == OVERVIEW and answer.refused and answer.no_articles_dated
    assert not llm.calls


def test_the_eval_scores_an_overview_by_article_recall_and_date_order(news_retriever):
    llm = TimelineWriter()
    answerer = Answerer(news_retriever, llm, LLMSettings())
    q = Question(
        "Що відомо про призначення Рубіо держсекретарем?",
        None,
        (),
        "overview",
        None,
        ("0177.txt", "0185.txt", "0187.txt"),
    )
    row = score_answer(q, answerer.ask(q.question), 12.5)
    assert row["answer_kind"] == OVERVIEW
    assert row["overview_recall"] == pytest.approx(
        len({"0177.txt", "0185.txt", "0187.txt"} & set(row["citations"])) / 3
    )
    assert row["overview_recall"] >= 2 / 3
    assert row["in_date_order"] is True and row["timeline_lines"] >= 2
    metrics = kind_metrics([row])["overview"]
    assert metrics["took_its_path_rate"] == 1.0
    assert metrics["overview_recall"] == row["overview_recall"]
    assert metrics["in_date_order_rate"] == 1.0 and metrics["median_s"] == 12.5
