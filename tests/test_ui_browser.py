"""The real chat server, driven by a real Chromium (Debian's), with a real index and the small bundled LLM."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROME_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MAX_TOKENS = 96
XSS_ARTICLE = """date 2024-11-14 Шкідлива стаття про зоопарк
У зоопарку Миколаєва народився слоненя на ім'я Бонд. <script>window.__xss=1</script>
Доглядачі кажуть: <img src=x onerror="window.__xss=2"> слоненя важить 90 кілограмів.
[клік](javascript:window.__xss=3) ![піксель](http://127.0.0.1:9/pixel.png)
Шаблони: ${window.__xss=4} {{constructor.constructor('window.__xss=5')()}}
"""


@dataclass
class Server:
    url: str
    assistant: object


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_cache, free_port, seed):
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing in CI: scripts/test.sh should have installed it")
        pytest.skip("BROWSER TESTS SKIPPED: /usr/bin/chromium is missing (apt-get install chromium)")
    from litopys.core.config import load_settings
    from litopys.runtime import index_corpus, open_assistant
    from litopys.ui.app import CSS, build_app

    corpus = tmp_path_factory.mktemp("corpus")
    seed.copy_to(corpus)
    (corpus / "xss.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    settings = load_settings(
        corpus_dir=corpus,
        index_dir=tmp_path_factory.mktemp("index"),
        cache_dir=model_cache,
        # The default 1.5B model: the 0.5B one misspells the seed's names ("Кирилоudev"), and such a
        # draft is rightly withheld, so it gives no cited answer for the viewer tests to click.
        llm={"model": "bundled:qwen2.5-coder-1.5b", "max_tokens": MAX_TOKENS},
    )
    index_corpus(settings)
    assistant = open_assistant(settings)
    port = free_port()
    app = build_app(assistant).queue(default_concurrency_limit=1)
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, css=CSS, quiet=True)
    yield Server(f"http://127.0.0.1:{port}", assistant)
    app.close()
    assistant.close()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = context.new_page()
    page.goto(server.url)
    page.wait_for_selector("#lt-question textarea")
    yield page
    context.close()


FINISHED = "#lt-chat .lt-msg.bot:is([data-state=done], [data-state=stopped], [data-state=error])"


def new_chat(page) -> None:
    """Press "new chat" and wait until the server's reply has landed.

    The reset is an un-queued request: asking before it lands races with it (a late reset would
    cancel the new answer, and the count of finished answers would be read from the old chat).
    The question box is filled first so that its emptying proves the reply arrived.
    """
    page.fill("#lt-question textarea", "(new chat)")
    page.click("#lt-clear")
    page.wait_for_function(
        "() => document.querySelector('#lt-question textarea').value === ''"
        " && !document.querySelector('#lt-chat .lt-msg') && !document.querySelector('#lt-ask').disabled",
        timeout=30_000,
    )


def ask(page, question: str) -> None:
    """Ask and wait until the answer is finished (a new finished message, and Ask usable again)."""
    before = page.locator(FINISHED).count()
    page.fill("#lt-question textarea", question)
    page.click("#lt-ask")
    try:
        page.wait_for_function(
            "([sel, n]) => document.querySelectorAll(sel).length > n && !document.querySelector('#lt-ask').disabled",
            arg=[FINISHED, before],
            timeout=240_000,
        )
    except Exception as exc:
        page.screenshot(path=str(ARTIFACTS / "ask-timeout.png"), full_page=True)
        # What the page showed, so a failure in CI explains itself without the screenshot.
        chat = page.locator("#lt-chat").inner_text()
        disabled = page.evaluate("() => document.querySelector('#lt-ask').disabled")
        raise AssertionError(f"no finished answer to {question!r} (Ask disabled: {disabled}); chat:\n{chat}") from exc


def last_answer(page):
    return page.locator(FINISHED).last


def open_cited_passage(page, link) -> dict:
    """Click a marker or card; wait for the viewer to show its article; return the target."""
    target = json.loads(link.get_attribute("data-target"))
    link.click()
    page.wait_for_function(
        "(t) => { const a = document.querySelector('#lt-viewer .lt-article');"
        " return a && a.dataset.key === t && a.querySelector('mark.lt-hit'); }",
        arg=link.get_attribute("data-target"),
        timeout=30_000,
    )
    return target


def test_seed_answer_has_clickable_markers_that_open_the_highlighted_passage(page, seed):
    from playwright.sync_api import expect

    ask(page, seed.question)
    sources = page.locator("#lt-sources").inner_text()
    assert "Американська сторона ознайомить російських делегатів" in sources
    cited = page.locator("#lt-sources .lt-card.cited").first
    assert "Дмитрієв" in cited.inner_text()
    # Each card shows title, date, score and the grounding flag.
    meta = cited.locator(".lt-meta").inner_text()
    assert "2025-12-17" in meta and "оцінка" in meta and ("підтверджує" in meta or "перевірки" in meta)
    answer = last_answer(page)
    assert "Дмитрієв" in answer.inner_text() and "Джерела:" in answer.inner_text()

    # A marker in the answer (or in its source list when the model left none) opens the article viewer.
    inline = answer.locator(".lt-answer-text .lt-cite[data-target]")
    marker = inline.first if inline.count() else answer.locator(".lt-cite[data-target]").first
    assert marker.is_visible()
    target = open_cited_passage(page, marker)
    viewer = page.locator("#lt-viewer")
    assert "Американська сторона ознайомить" in viewer.locator(".lt-article-title").inner_text()
    assert "2025-12-17" in viewer.locator(".lt-meta").inner_text()
    hit = viewer.locator("mark.lt-hit")
    card_text = page.locator(f"#lt-sources .lt-card[data-n='{target['n']}'] .lt-text").inner_text()
    assert hit.inner_text().strip() == card_text.strip() and len(card_text) > 40
    # The whole article is there, not just the passage, and the highlight was scrolled into view.
    assert len(viewer.locator(".lt-article-body").inner_text()) > len(card_text) + 200
    expect(hit).to_be_in_viewport()
    page.screenshot(path=str(ARTIFACTS / "chat-viewer.png"))

    # Copy puts the answer text on the clipboard.
    answer.locator(".lt-copy").click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.strip() == answer.locator(".lt-answer-text").inner_text().strip()


def test_source_cards_open_their_passage_too(page):
    from playwright.sync_api import expect

    card = page.locator("#lt-sources .lt-card").last
    target = open_cited_passage(page, card)
    hit = page.locator("#lt-viewer mark.lt-hit")
    assert hit.inner_text().strip() == card.locator(".lt-text").inner_text().strip()
    assert page.locator("#lt-viewer .lt-article-title").inner_text().startswith(f"[{target['n']}]")
    expect(hit).to_be_in_viewport()


def test_follow_up_shows_the_rewritten_question(page):
    # Continues the conversation of the previous tests.
    ask(page, "А хто з боку США?")
    rewritten = page.locator("#lt-sources .lt-rewritten").inner_text()
    assert "США" in rewritten and len(rewritten) > len("Уточнене запитання для пошуку: А хто з боку США?")


def assert_inert(page, where: str) -> None:
    assert page.evaluate("() => window.__xss") is None
    assert page.locator(f"{where} script, {where} img, {where} a[href]").count() == 0
    text = page.locator(where).text_content()
    assert "<script>window.__xss=1</script>" in text
    assert '<img src=x onerror="window.__xss=2">' in text


def test_article_html_and_scripts_render_as_inert_text(page):
    new_chat(page)
    ask(page, "Скільки важить слоненя Бонд у зоопарку Миколаєва?")
    page.screenshot(path=str(ARTIFACTS / "chat-xss.png"), full_page=True)
    assert_inert(page, "#lt-sources")
    # The chat quotes the cited passage as literal text, tags included.
    assert 'onerror="window.__xss=2"' in last_answer(page).inner_text()
    assert page.locator("#lt-chat script, #lt-chat img, #lt-chat a[href]").count() == 0

    # The viewer shows the whole hostile article as text, the Markdown link and pixel too.
    card = page.locator("#lt-sources .lt-card", has_text="Шкідлива стаття").first
    open_cited_passage(page, card)
    assert_inert(page, "#lt-viewer")
    body = page.locator("#lt-viewer .lt-article-body").inner_text()
    assert "[клік](javascript:window.__xss=3)" in body and "![піксель](http://127.0.0.1:9/pixel.png)" in body
    # Gradio's HTML templates (JS template literals, Handlebars) must not evaluate article text.
    assert "${window.__xss=4} {{constructor.constructor('window.__xss=5')()}}" in body
    page.screenshot(path=str(ARTIFACTS / "viewer-xss.png"), full_page=True)
    assert page.evaluate("() => window.__xss") is None


def test_filters_restrict_the_sources_and_are_shown(page, seed):
    new_chat(page)
    page.click("#lt-filters button, #lt-filters .label-wrap")
    page.fill("#lt-date-from textarea, #lt-date-from input", "2024-13-01")
    page.fill("#lt-question textarea", seed.question)
    page.click("#lt-ask")
    error = page.locator("#lt-sources .lt-filter-error")
    error.wait_for(timeout=30_000)
    assert "2024-13-01" in error.inner_text() and "РРРР-ММ-ДД" in error.inner_text()

    # Only articles dated up to 2025-01-01 (the seed, 2025-12-17, is out) and among those picked
    # from the list of indexed articles (the XSS fixture, 2024-11-14).
    page.fill("#lt-date-from textarea, #lt-date-from input", "")
    page.fill("#lt-date-to textarea, #lt-date-to input", "2025-01-01")
    page.click("#lt-paths input")
    page.get_by_role("option", name=re.compile(r"^xss\.txt — Шкідлива")).click()
    page.keyboard.press("Escape")
    ask(page, seed.question)
    shown = page.locator("#lt-sources .lt-filter.active").inner_text()
    assert "до 2025-01-01" in shown and "лише: xss.txt" in shown
    sources = page.locator("#lt-sources").text_content()
    assert seed.article_id not in sources and "xss.txt" in sources
    assert seed.article_id not in (last_answer(page).inner_html())
    page.fill("#lt-date-to textarea, #lt-date-to input", "")
    page.click("#lt-paths .remove-all")


def test_a_date_in_the_question_fills_the_filter_and_answers_from_that_day(page):
    new_chat(page)
    date_from = page.locator("#lt-date-from textarea, #lt-date-from input")
    date_to = page.locator("#lt-date-to textarea, #lt-date-to input")
    # No article is dated 2024-11-10: said plainly, without the model and without other days' articles.
    ask(page, "Що писали про зоопарк Миколаєва 10 листопада 2024 року?")
    assert "2024-11-10" in last_answer(page).inner_text() and "немає" in last_answer(page).inner_text()
    assert date_from.input_value() == "2024-11-10" and date_to.input_value() == "2024-11-10"
    assert "xss.txt" not in page.locator("#lt-sources").text_content()
    # The XSS fixture is dated 2024-11-14 and the seed 2025-12-17: only the former is searched.
    ask(page, "Як звали слоненя, що народилося в зоопарку Миколаєва, про яке писали 14.11.2024?")
    assert date_from.input_value() == "2024-11-14" and date_to.input_value() == "2024-11-14"
    sources = page.locator("#lt-sources")
    assert "«14.11.2024» = 2024-11-14" in sources.inner_text() and "від 2024-11-14" in sources.inner_text()
    assert "xss.txt" in sources.text_content() and "000_0eb56f0bcda4d5b8" not in sources.text_content()
    answer = last_answer(page).inner_text()
    assert "Бонд" in answer and "[1]" in answer, answer  # answered and cited, not withheld over "14.11.2024"
    page.screenshot(path=str(ARTIFACTS / "dated-question.png"), full_page=True)


def test_stop_ends_generation_early_and_the_chat_is_ready_again(page, server, monkeypatch, seed):
    from litopys.rag.answer import Answer

    finished: list[Answer] = []
    original = server.assistant.answerer.stream

    def spy(*args, **kwargs):
        for event in original(*args, **kwargs):
            if isinstance(event, Answer):
                finished.append(event)
            yield event

    monkeypatch.setattr(server.assistant.answerer, "stream", spy)
    new_chat(page)
    page.fill(
        "#lt-question textarea", "Розкажи докладно все, що відомо про переговори у Майамі, і поясни кожну деталь."
    )
    page.click("#lt-ask")
    # The thinking state counts seconds before the first token.
    page.wait_for_selector("#lt-chat .lt-msg.bot[data-state=thinking] .lt-elapsed", timeout=60_000)
    page.wait_for_function(
        "() => Number(document.querySelector('#lt-chat .lt-elapsed')?.textContent || 0) >= 1"
        " || document.querySelector('#lt-chat .lt-msg.bot[data-state=streaming]')",
        timeout=120_000,
    )
    page.wait_for_selector("#lt-chat .lt-msg.bot[data-state=streaming]", timeout=240_000)
    streamed = page.locator("#lt-chat .lt-msg.bot .lt-answer-text").last.inner_text()
    assert page.locator("#lt-ask").is_disabled()
    page.click("#lt-stop")
    page.wait_for_selector("#lt-chat .lt-msg.bot[data-state=stopped]", timeout=120_000)
    page.wait_for_function("() => !document.querySelector('#lt-ask').disabled", timeout=30_000)
    assert page.locator("#lt-stop").is_disabled()
    assert "Зупинено" in last_answer(page).inner_text()
    assert len(finished) == 1
    tokens = finished[0].timings["completion_tokens"]
    # Stopped a few tokens after the click, far from the answer's natural length or the cap.
    assert tokens < MAX_TOKENS and tokens <= server.assistant.answerer.count_tokens(streamed) + 20, (tokens, streamed)
    # The chat answers again after a stop.
    ask(page, seed.question)
    assert "Дмитрієв" in page.locator("#lt-sources").inner_text()


def test_phone_viewport_fits_and_opens_the_viewer(page):
    from playwright.sync_api import expect

    # The conversation of the previous test, on a phone: columns stack, nothing sticks out sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(ARTIFACTS / "phone-chat.png"))
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        chat, viewer = page.locator("#lt-chat").bounding_box(), page.locator("#lt-viewer").bounding_box()
        assert viewer["y"] >= chat["y"] + chat["height"] and chat["width"] <= 390
        marker = last_answer(page).locator(".lt-cite[data-target]").first
        open_cited_passage(page, marker)
        expect(page.locator("#lt-viewer mark.lt-hit")).to_be_in_viewport()
        page.screenshot(path=str(ARTIFACTS / "phone-viewer.png"))
    finally:
        page.set_viewport_size({"width": 1280, "height": 800})


NEW_ARTICLE = """date 2025-05-05 У Черкасах відкрили музей гончарства
Музей гончарства у Черкасах відкрила директорка Оксана Гребенюк. У музеї зібрано понад 300 глеків і макітер.
"""


def test_uploaded_articles_are_validated_indexed_and_answerable(page, tmp_path):
    good = tmp_path / "Музей гончарства.txt"
    good.write_text(NEW_ARTICLE, encoding="utf-8")
    bad = tmp_path / "cp1251.txt"
    bad.write_bytes("Заголовок\nТекст у кодуванні Windows-1251.".encode("cp1251"))
    page.get_by_role("tab", name="Статті та індекс").click()
    status = page.locator("#lt-index-status")
    assert "Статей" in status.inner_text()
    before = int(page.locator("#lt-status-table td").first.inner_text())
    page.set_input_files("#lt-upload input[type=file]", [str(good), str(bad)])
    # Both files are listed once the browser has sent them to the server.
    page.wait_for_function("() => document.querySelector('#lt-upload').textContent.includes('cp1251')", timeout=30_000)
    page.click("#lt-add")
    page.wait_for_selector("#lt-index-report .lt-counts", timeout=180_000)
    page.screenshot(path=str(ARTIFACTS / "library-upload.png"), full_page=True)
    report = page.locator("#lt-index-report").inner_text()
    assert "uploads/Музей гончарства.txt" in report
    assert "cp1251.txt" in page.locator("#lt-index-report .lt-rejected").inner_text()
    assert "UTF-8" in page.locator("#lt-index-report .lt-rejected").inner_text()
    assert "Додано 1" in report
    assert int(page.locator("#lt-status-table td").first.inner_text()) == before + 1

    # The running chat answers from the new index without a restart.
    page.get_by_role("tab", name="Чат").click()
    new_chat(page)
    ask(page, "Хто відкрив музей гончарства у Черкасах?")
    assert "uploads/Музей гончарства.txt" in page.locator("#lt-sources").text_content()


def test_rebuild_button_reports_counts_with_progress(page):
    page.get_by_role("tab", name="Статті та індекс").click()
    page.check("#lt-full input[type=checkbox]")
    page.click("#lt-reindex")
    page.wait_for_selector("#lt-index-report:has-text('Повна перебудова') .lt-counts", timeout=180_000)
    report = page.locator("#lt-index-report").inner_text()
    chunks = int(page.locator("#lt-status-table td").nth(1).inner_text())
    # A full rebuild re-embeds every chunk, though no article was added or changed.
    assert "Повна перебудова" in report and "Додано 0," in report
    assert f"обчислено векторів: {chunks} " in report
    page.uncheck("#lt-full input[type=checkbox]")
    page.get_by_role("tab", name="Чат").click()
