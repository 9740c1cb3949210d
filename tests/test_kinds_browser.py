"""The question kinds in the real chat (Chromium, the real Gradio server, the bundled embedder and LLM)
over real news articles: a dated question fills the date filter, an overview is a cited dated
list, a "which articles?" question is a list of articles (issue 12)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
FINISHED = "#lt-chat .lt-msg.bot:is([data-state=done], [data-state=stopped], [data-state=error])"

NEWS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "news" / "articles"
# Rubio's nomination (2024-11-13), Hegseth's (2024-11-13/14), Odarchenko's sentence (2024-11-14, three
# outlets), and two articles on neither (Kryvyi Rih, Shostka).
FILES = ("0001.txt", "0008.txt", "0010.txt", "0020.txt", "0111.txt", "0185.txt", "0187.txt", "0395.txt", "0518.txt")


@dataclass
class Server:
    url: str
    assistant: object


def new_chat(page) -> None:
    """Press "new chat" and wait until the server's reply has landed (see tests/test_ui_browser.py)."""
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
            # One answer takes well under a minute on 2 idle cores; a machine shared with long
            # evaluations can be ten times slower.
            timeout=600_000,
        )
    except Exception as exc:
        page.screenshot(path=str(ARTIFACTS / "kinds-ask-timeout.png"), full_page=True)
        chat = page.locator("#lt-chat").inner_text()
        raise AssertionError(f"no finished answer to {question!r}; chat:\n{chat}") from exc


def last_answer(page):
    return page.locator(FINISHED).last


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_cache, free_port):
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing in CI: scripts/test.sh should have installed it")
        pytest.skip("BROWSER TESTS SKIPPED: /usr/bin/chromium is missing (apt-get install chromium)")
    if not NEWS.is_dir():
        pytest.skip(f"needs the shared news corpus at {NEWS}")
    from litopys.core.config import load_settings
    from litopys.runtime import index_corpus, open_assistant
    from litopys.ui.app import CSS, build_app

    corpus = tmp_path_factory.mktemp("corpus")
    for name in FILES:
        (corpus / name).write_text((NEWS / name).read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings(
        corpus_dir=corpus,
        index_dir=tmp_path_factory.mktemp("index"),
        cache_dir=model_cache,
        llm={"model": "bundled:qwen2.5-coder-1.5b", "max_tokens": 96},
        # "вчора" in an archive of November 2024 news means the day before its newest article.
        retrieval={"relative_dates_from": "newest_article"},
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
def page(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(server.url)
        page.wait_for_selector("#lt-question textarea")
        yield page
        context.close()
        browser.close()


def test_a_dated_question_fills_the_date_filter_and_gets_a_dated_cited_answer(page):
    new_chat(page)
    ask(page, "Кого Трамп вчора обрав на посаду держсекретаря США?")
    date_from = page.locator("#lt-date-from textarea, #lt-date-from input")
    date_to = page.locator("#lt-date-to textarea, #lt-date-to input")
    # The newest article is of 2024-11-14: "вчора" is 2024-11-13, shown where the user can change or clear it.
    assert date_from.input_value() == "2024-11-13" and date_to.input_value() == "2024-11-13"
    sources = page.locator("#lt-sources").inner_text()
    assert "2024-11-13" in sources and "2024-11-14" not in sources
    answer = last_answer(page).inner_text()
    assert "Рубіо" in answer and re.search(r"\[\d+\]", answer), answer
    page.screenshot(path=str(ARTIFACTS / "kinds-dated.png"), full_page=True)
    date_from.fill("")
    date_to.fill("")


def test_an_overview_question_gets_a_cited_dated_timeline(page):
    new_chat(page)
    ask(page, "Що відомо про справу нардепа Одарченка?")
    text = last_answer(page).locator(".lt-answer-text").inner_text()
    lines = [line for line in text.splitlines() if line.strip()]
    timeline = [line for line in lines if re.match(r"^- 2024-11-1[34]: .+\[\d+\]", line)]
    assert timeline and len(timeline) == len(lines), text  # every line dated and cited
    assert any("Одарченк" in line or "8 років" in line or "вісім" in line for line in timeline), text
    # The markers open the cited articles, as in any answer.
    assert last_answer(page).locator(".lt-answer-text .lt-cite[data-target]").count() >= len(timeline)
    page.screenshot(path=str(ARTIFACTS / "kinds-overview.png"), full_page=True)


def test_a_which_articles_question_lists_the_articles(page):
    new_chat(page)
    ask(page, "Які статті пишуть про Хегсета?")
    items = last_answer(page).locator(".lt-list li")
    titles = " ".join(items.all_inner_texts())
    assert items.count() >= 2, titles
    assert "Хегсет" in titles or "Пентагон" in titles, titles
    assert "Кривий Ріг" not in titles  # an article that does not mention him is not listed
    page.screenshot(path=str(ARTIFACTS / "kinds-list.png"), full_page=True)
