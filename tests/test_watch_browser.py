"""A running `litopys serve --watch`, driven by a real Chromium: a file dropped into the corpus
folder is indexed and answered from without a restart, and a deleted one is gone again.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
FINISHED = "#lt-chat .lt-msg.bot:is([data-state=done], [data-state=stopped], [data-state=error])"
DROPPED = "dropped/glyniany.txt"
ARTICLE = """date 2025-05-05 У Глинянах відкрили музей килимарства
Музей килимарства у Глинянах відкрила директорка Ярина Костюк. У музеї зібрано понад двісті глинянських килимів.
"""
QUESTION = "Хто відкрив музей килимарства у Глинянах?"


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_cache, make_workspace, start_server):
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing in CI: scripts/test.sh should have installed it")
        pytest.skip("BROWSER TESTS SKIPPED: /usr/bin/chromium is missing (apt-get install chromium)")
    root = tmp_path_factory.mktemp("watched")
    env = make_workspace(root, model_cache, LITOPYS_WATCH__SETTLE_S="1")
    (root / "corpus" / "dropped").mkdir()
    server = start_server(root, env, "--watch")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(server.url)
        page.wait_for_selector("#lt-question textarea")
        yield page
        browser.close()


def _library(page):
    page.get_by_role("tab", name="Статті та індекс").click()
    return page.locator("#lt-index-status")


def _articles(page) -> int:
    return int(page.locator("#lt-status-table td").first.inner_text())


def _wait_for_sync(page, text: str, server) -> None:
    """Wait, without reloading, until the library panel shows a sync that did ``text``."""
    try:
        page.wait_for_function(
            "(t) => (document.querySelector('#lt-last-sync') || {}).textContent?.includes(t)", arg=text, timeout=120_000
        )
    except Exception as exc:
        raise AssertionError(
            f"no sync with {text!r}; panel: {_library(page).inner_text()}\n{server.log.read_text()[-3000:]}"
        ) from exc


def _ask(page, question: str) -> str:
    page.get_by_role("tab", name="Чат").click()
    before = page.locator(FINISHED).count()
    page.fill("#lt-question textarea", question)
    page.click("#lt-ask")
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length > n && !document.querySelector('#lt-ask').disabled",
        arg=[FINISHED, before],
        timeout=240_000,
    )
    return page.locator("#lt-sources").text_content() or ""


def test_a_dropped_file_is_answered_and_a_deleted_one_is_gone_without_a_restart(page, server):
    status = _library(page)
    assert "увімкнено" in page.locator("#lt-watch").inner_text()
    _wait_for_sync(page, "пропущено 0", server)  # the watcher's first sync (serve ran with --no-index)
    before = _articles(page)
    assert "Глинян" not in _ask(page, QUESTION)

    (server.corpus / DROPPED).write_text(ARTICLE, encoding="utf-8")
    _library(page)
    _wait_for_sync(page, "додано 1", server)
    assert _articles(page) == before + 1
    assert DROPPED in _ask(page, QUESTION)

    (server.corpus / DROPPED).unlink()
    _library(page)
    _wait_for_sync(page, "вилучено 1", server)
    assert _articles(page) == before
    assert "glyniany" not in _ask(page, QUESTION)
    assert server.proc.poll() is None  # the same server process throughout
    assert "Статей" in status.inner_text()
