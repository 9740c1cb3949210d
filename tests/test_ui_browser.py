"""The real chat server, driven by a real Chromium (Debian's), with a real index and the small bundled LLM."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, SEED_ID, SEED_QUESTION, SEEDS, free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROME_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
XSS_ARTICLE = """date 2024-11-14 Шкідлива стаття про зоопарк
У зоопарку Миколаєва народився слоненя на ім'я Бонд. <script>window.__xss=1</script>
Доглядачі кажуть: <img src=x onerror="window.__xss=2"> слоненя важить 90 кілограмів.
[клік](javascript:window.__xss=3) ![піксель](http://127.0.0.1:9/pixel.png)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_cache):
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing in CI: scripts/test.sh should have installed it")
        pytest.skip("BROWSER TESTS SKIPPED: /usr/bin/chromium is missing (apt-get install chromium)")
    from litopys.config import load_settings
    from litopys.runtime import index_corpus, open_assistant
    from ui.app import CSS, build_app

    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copy(SEEDS / SEED_ID, corpus / SEED_ID)
    (corpus / "xss.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    settings = load_settings(
        corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("index"), cache_dir=model_cache,
        llm={"model": "bundled:qwen2.5-coder-0.5b", "max_tokens": 96},
    )
    index_corpus(settings)
    assistant = open_assistant(settings)
    port = free_port()
    app = build_app(assistant).queue(default_concurrency_limit=1)
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, css=CSS, quiet=True)
    yield f"http://127.0.0.1:{port}"
    app.close()
    assistant.close()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(server)
        page.wait_for_selector("#lt-question textarea")
        yield page
        browser.close()


def ask(page, question: str) -> None:
    page.fill("#lt-question textarea", question)
    page.click("#lt-ask")
    # The sources panel is refilled when the final answer arrives.
    try:
        page.wait_for_function(
            "() => document.querySelectorAll('#lt-sources .lt-card').length > 0",
            timeout=180_000,
        )
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "ask-timeout.png"), full_page=True)
        raise


def ask_again(page, question: str) -> None:
    """Ask in an ongoing conversation: wait until the new answer's sources replace the old ones."""
    old = page.locator("#lt-sources").inner_html()
    page.fill("#lt-question textarea", question)
    page.click("#lt-ask")
    page.wait_for_function(
        "(old) => { const s = document.querySelector('#lt-sources');"
        " return s.innerHTML !== old && s.querySelectorAll('.lt-card').length > 0; }",
        arg=old, timeout=180_000,
    )


def test_seed_question_streams_an_answer_with_the_cited_passage(page):
    ask(page, SEED_QUESTION)
    page.screenshot(path=str(ARTIFACTS / "chat-seed.png"), full_page=True)
    sources = page.locator("#lt-sources").inner_text()
    assert "Американська сторона ознайомить російських делегатів" in sources
    assert "Дмитрієв" in page.locator("#lt-sources .lt-card.cited").first.inner_text()
    chat = page.locator("#lt-chat").inner_text()
    assert "Дмитрієв" in chat and "Джерела:" in chat


def test_follow_up_shows_the_rewritten_question(page):
    # Continues the conversation of the previous test.
    ask_again(page, "А хто з боку США?")
    rewritten = page.locator("#lt-sources .lt-rewritten").inner_text()
    assert "США" in rewritten and len(rewritten) > len("Уточнене запитання для пошуку: А хто з боку США?")


def test_article_html_and_scripts_render_as_inert_text(page):
    page.click("#lt-clear")
    ask(page, "Скільки важить слоненя Бонд у зоопарку Миколаєва?")
    page.screenshot(path=str(ARTIFACTS / "chat-xss.png"), full_page=True)
    assert page.evaluate("() => window.__xss") is None
    # text_content includes the collapsed "other passages" block.
    text = page.locator("#lt-sources").text_content()
    assert "<script>window.__xss=1</script>" in text
    assert '<img src=x onerror="window.__xss=2">' in text
    assert page.locator("#lt-sources script, #lt-sources img, #lt-chat img, #lt-chat script").count() == 0
    # The chat quotes the cited passage as literal text, tags included.
    assert 'onerror="window.__xss=2"' in page.locator("#lt-chat").inner_text()


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
    page.wait_for_function(
        "() => document.querySelector('#lt-upload').textContent.includes('cp1251')", timeout=30_000
    )
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
    page.click("#lt-clear")
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
