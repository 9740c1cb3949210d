"""The chat's HTML: everything from articles and the model is escaped; markers and the viewer point right."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import date

from litopys.index.corpus import Article
from litopys.rag.answer import finish_answer
from litopys.rag.retrieval import EVENT_TIME, Passage, QuestionDates, RetrievalFilter
from litopys.rag.when import read_dates
from litopys.ui import render
from litopys.ui.strings import EN, UK, strings, withheld_note

S = UK
HOSTILE = '<script>window.__xss=1</script> <img src=x onerror="alert(1)"> [a](javascript:alert(2)) ${1+1}'
BODY = "Перший абзац статті.\n\nУ Миколаєві народилося слоненя Бонд. " + HOSTILE + "\n\nОстанній абзац."


def _passage(n: int, text: str, start: int) -> Passage:
    return Passage(n, f"folder/{n}.txt", f"Стаття {n} <b>", "2024-11-14", text, start, start + len(text), 2.5 - n)


def _answer(raw: str):
    hit = BODY.index("У Миколаєві")
    passages = [_passage(1, BODY[hit:], hit), _passage(2, "Перший абзац статті.", 0)]
    return finish_answer("Хто народився?", raw, passages)


def _tags(fragment: str) -> set[str]:
    return set(re.findall(r"<([a-z0-9]+)", fragment))


def test_markers_become_buttons_and_the_rest_stays_text():
    out = render.with_markers("Слоненя Бонд <img src=x> [1] і [1, 2]; [9]", render.answer_targets(_answer("Бонд [1]")))
    assert out.count("class='lt-cite'") == 3 and "&lt;img src=x&gt;" in out
    assert "<span class='lt-cite pending'>[9]</span>" in out  # no such passage: not clickable
    assert _tags(out) == {"button", "span"}


def test_answer_and_sources_escape_model_and_article_text():
    answer = _answer("Народилося слоненя Бонд <script>alert(1)</script> [1].")
    chat = render.answer_message(answer, S)
    sources = render.sources_html(answer, RetrievalFilter.build(paths=["folder/"]), S)
    for fragment in (chat, sources):
        assert "<script" not in fragment and "<img" not in fragment and "<b>" not in fragment
        assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in fragment
    assert _tags(chat) <= {"div", "button", "span", "ul", "li"}
    assert _tags(sources) <= {"div", "p", "h4"}
    # Cited first, then the others; each card names its score and grounding state.
    assert sources.index("data-n='1'") < sources.index("data-n='2'")
    assert "оцінка 1.50" in sources and "не цитовано" in sources and "лише: folder/" in sources


def test_targets_round_trip_through_the_escaped_attribute():
    target = render.Target("тека/стаття 'a'\".txt", 5, 10, 3)
    attr = re.search(r"data-target='([^']*)'", f"<b data-target='{target.attr()}'>").group(1)
    assert render.Target.parse(html.unescape(attr)) == target
    assert render.Target.parse("{not json") is None and render.Target.parse('{"id": 1}') is None


def test_viewer_highlights_exactly_the_span_and_escapes_the_article():
    article = Article("folder/1.txt", "Заголовок <i>", "2024-11-14", BODY, "hash")
    start = BODY.index("У Миколаєві")
    end = start + len("У Миколаєві народилося слоненя Бонд.")
    out = render.viewer_html(article, render.Target(article.id, start, end, 1), S)
    mark = re.search(r"<mark class='lt-hit'>(.*?)</mark>", out, re.S).group(1)
    assert html.unescape(mark) == BODY[start:end]
    assert (
        html.unescape(re.sub(r"</?mark[^>]*>", "", re.search(r"lt-article-body'>(.*)</div>", out, re.S).group(1)))
        == BODY
    )
    assert "<script" not in out and "<img" not in out and "<i>" not in out
    # Offsets outside the body are clamped, a missing article says so.
    assert "<mark class='lt-hit'></mark>" in render.viewer_html(article, render.Target(article.id, 10**6, 10**6), S)
    assert UK["article_gone"] in render.viewer_html(None, render.Target("gone.txt", 0, 1), S)


def test_both_languages_have_every_label():
    assert UK.keys() == EN.keys()
    assert all(v.strip() for v in [*UK.values(), *EN.values()])


def test_the_app_builds_in_english_with_english_labels(tmp_path):
    from types import SimpleNamespace

    from litopys.core.config import load_settings
    from litopys.ui.app import build_app

    settings = load_settings(corpus_dir=tmp_path, index_dir=tmp_path / "index", ui={"language": "en"})
    # Building needs only the settings (no index yet); answering would need the models.
    config = build_app(SimpleNamespace(settings=settings)).get_config_file()
    labels = {str(c["props"].get("value") or c["props"].get("label")) for c in config["components"]}
    assert {"Ask", "Stop", "New chat", "Articles and index", "Update the index"} <= labels
    assert not any("Запитати" in label or "Статті" in label for label in labels)


def test_a_withheld_draft_is_explained_as_text():
    p = _passage(1, "Фінал чемпіонату області з міні-футболу <b>.", 0)
    answer = finish_answer("Хто виграв чемпіонат світу 2018 року?", "Виграла команда <b> [1].", [p])
    chat = render.answer_message(answer, S)
    assert answer.refused and "2018" in chat and "Виграла команда &lt;b&gt;" in chat
    assert "<b>" not in chat


def test_every_withholding_reason_is_explained_in_both_languages():
    draft = "Проєкт презентували на заході [1]."
    for language in ("uk", "en"):
        s = strings(language)
        for reason, missing in [
            ("question_numbers", ("2018",)),
            ("unsupported", ("240", "бойко")),
            ("echo", ()),
            ("wrong_type", ("time",)),
            ("wrong_type", ("amount",)),
            ("wrong_type", ("count",)),
            ("wrong_type", ("name",)),
            ("wrong_type", ("day",)),
            ("wrong_type", ("place",)),
            ("uncited", ()),
        ]:
            note = withheld_note(reason, missing, draft, s)
            assert draft in note and "{" not in note, (language, reason)
            # Missing figures and names are shown as they are; a wanted type in words of the language.
            shown = [s[f"wanted_{m}"] if reason == "wrong_type" else m for m in missing]
            assert all(word in note for word in shown), (language, reason, note)


def test_dates_read_from_the_question_are_shown_with_why_they_did_not_filter():
    said = read_dates("Що сталося 14 листопада 2024 року?", date(2024, 11, 20))
    assert said is not None
    answer = replace(_answer("Бонд [1]"), dates=QuestionDates(said))
    out = render.sources_html(answer, QuestionDates(said).narrow(None), S)
    assert "«14 листопада 2024 року» = 2024-11-14" in html.unescape(out) and "від 2024-11-14" in out
    year = read_dates("Хто виграв чемпіонат 2018 року?", date(2024, 11, 20))
    assert year is not None
    for s in (UK, EN):
        note = render.dates_note(QuestionDates(year, EVENT_TIME), s)
        assert "2018-01-01 – 2018-12-31" in note and s["dates_event_time"] in note


def test_the_date_fields_are_the_users_unless_the_chat_filled_them():
    from litopys.ui.app import user_dates

    assert user_dates("2024-11-01", "", None) == ("2024-11-01", "", True)  # the user's: they win
    assert user_dates(" ", None, None) == ("", "", True)  # empty: read the question's dates
    shown = ["2024-11-14", "2024-11-14"]
    assert user_dates("2024-11-14", "2024-11-14", shown) == ("", "", True)  # the chat's: read anew
    assert user_dates("", "", shown) == ("", "", False)  # the user cleared the chat's: not by date
    assert user_dates("2024-11-10", "2024-11-14", shown) == ("2024-11-10", "2024-11-14", True)  # changed: theirs


def test_a_source_card_says_what_its_score_gained_for_being_recent():
    answer = _answer("Бонд [1]")
    recent = replace(answer, passages=[replace(answer.passages[0], recency=0.87), answer.passages[1]])
    out = render.sources_html(recent, None, S)
    assert out.count("з них 0.87 за свіжість") == 1 and "оцінка" in out


def _list_answer():
    from litopys.rag.answer import Answer
    from litopys.rag.kinds import LIST
    from litopys.rag.listing import ListedArticle, list_text

    hit = BODY.index("У Миколаєві")
    first, second = _passage(1, BODY[hit:], hit), replace(_passage(2, "Перший абзац статті.", 0), date=None)
    articles = [
        ListedArticle(first.article_id, first.title, first.date, None, (first, replace(first, chunk_id=9))),
        ListedArticle(second.article_id, second.title, None, None, (second,)),
    ]
    question = "Які статті пишуть про слоненя <b>?"
    text = list_text(question, "слоненя <b>", articles)
    return Answer(question, text, [], [first, second], False, kind=LIST, articles=articles)


def test_a_list_answer_is_one_button_per_article_that_opens_its_best_passage():
    answer = _list_answer()
    chat = render.answer_message(answer, S)
    assert "<b>" not in chat and "<script" not in chat and _tags(chat) <= {"div", "button", "span", "ul", "li"}
    buttons = re.findall(
        r"<button type='button' class='lt-cite lt-listed' data-target='([^']*)'>([^<]*)</button>", chat
    )
    targets = [render.Target.parse(html.unescape(raw)) for raw, _ in buttons]
    assert [(t.article_id, t.n) for t in targets] == [("folder/1.txt", 1), ("folder/2.txt", 2)]
    assert targets[0].start == BODY.index("У Миколаєві") and [html.unescape(t) for _, t in buttons][1] == "Стаття 2 <b>"
    assert "(2024-11-14)" in chat and S["list_note"] in chat
    # The /respond API reads the list as text, one article a line.
    state, text = render.answer_from_chat(render.chat_html([chat], S))
    assert state == "done" and text.splitlines() == answer.text.splitlines()
    sources = render.sources_html(answer, None, S)
    assert S["listed"] in sources and "не цитовано" not in sources and "фрагментів про це: 2" in sources
    assert sources.index("data-n='1'") < sources.index("data-n='2'")


def test_an_empty_list_answer_is_its_sentence():
    answer = replace(_list_answer(), text="Не знайшов статей про «X».", articles=[], passages=[], refused=True)
    chat = render.answer_message(answer, S)
    assert "Не знайшов статей про «X»." in html.unescape(chat) and "lt-listed" not in chat
