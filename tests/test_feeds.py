"""RSS 2.0 and Atom feeds from a real HTTP server on 127.0.0.1: items saved as articles and indexed.

The server also serves a broken feed, a slow one, a huge one and a missing one: each fails
with its own reason and never stops the others. A second poll gets 304 Not Modified.
"""

from __future__ import annotations

import threading
import time
from contextlib import closing
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from litopys.core.config import load_settings
from litopys.index.builder import DB_NAME, build_index
from litopys.index.corpus import load_corpus
from litopys.index.feeds import FeedStore, feed_file, poll_feeds
from litopys.index.store import Store

DATA = Path(__file__).parent / "data" / "feeds"
SLOW_S = 3.0
EXTRA_ITEM = """<item><title>Вінниця висадила тисячу дерев</title><link>BASE/news/trees</link>
<guid>vn-1004</guid><pubDate>Wed, 15 May 2024 10:00:00 +0300</pubDate>
<description>Комунальники Вінниці висадили тисячу молодих лип уздовж проспекту Коцюбинського.</description></item>
</channel>"""
ATOM_MODIFIED = formatdate(1715760000, usegmt=True)


class FeedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.rss_version = 1
        self.conditional: list[tuple[str, str]] = []  # (path, the validator the client sent)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (the slow and huge feeds) leaves a broken pipe: expected


class Handler(BaseHTTPRequestHandler):
    server: FeedServer

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass

    def _send(self, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _feed(self, name: str) -> bytes:
        text = (DATA / name).read_text(encoding="utf-8")
        if name == "rss2.xml" and self.server.rss_version == 2:
            text = text.replace("</channel>", EXTRA_ITEM)
        return text.replace("BASE", self.server.base).encode("utf-8")

    def do_GET(self) -> None:
        path = self.path
        if path == "/rss.xml":
            etag = f'"rss-v{self.server.rss_version}"'
            if self.headers.get("If-None-Match"):
                self.server.conditional.append((path, self.headers["If-None-Match"]))
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self._send(self._feed("rss2.xml"), "application/rss+xml", ETag=etag)
        elif path == "/atom.xml":
            if self.headers.get("If-Modified-Since"):
                self.server.conditional.append((path, self.headers["If-Modified-Since"]))
            if self.headers.get("If-Modified-Since") == ATOM_MODIFIED:
                self.send_response(304)
                self.end_headers()
                return
            self._send(self._feed("atom.xml"), "application/atom+xml", Last_Modified=ATOM_MODIFIED)
        elif path == "/broken.xml":
            self._send(self._feed("broken.xml"), "application/rss+xml")
        elif path == "/slow.xml":
            time.sleep(SLOW_S)
            self._send(self._feed("rss2.xml"), "application/rss+xml")
        elif path == "/huge.xml":
            self._huge()
        elif path == "/page/buses.html":
            self._send((DATA / "bus_page.html").read_bytes(), "text/html; charset=utf-8")
        else:
            self.send_error(404)

    def _huge(self) -> None:
        """A feed without Content-Length that never ends: only the size limit stops it."""
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.end_headers()
        item = b"<item><title>x</title><description>" + b"y" * 4000 + b"</description></item>\n"
        self.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>huge</title>\n')
        for _ in range(5000):
            self.wfile.write(item)


@pytest.fixture
def server():
    httpd = FeedServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def settings(tmp_path, server):
    base = server.base
    feeds = [
        {"url": f"{base}/rss.xml"},
        {"url": f"{base}/atom.xml", "fetch_pages": True},
        {"url": f"{base}/broken.xml"},
        {"url": f"{base}/slow.xml", "timeout_s": 0.5},
        {"url": f"{base}/huge.xml", "max_bytes": 100_000},
        {"url": f"{base}/gone.xml"},
    ]
    (tmp_path / "corpus").mkdir()
    return load_settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", feeds=feeds)


def _by_path(results):
    return {r.url.rsplit("/", 1)[1]: r for r in results}


def test_each_feed_succeeds_or_fails_on_its_own_with_a_reason(settings):
    started = time.monotonic()
    results = _by_path(poll_feeds(settings))
    assert list(results) == ["rss.xml", "atom.xml", "broken.xml", "slow.xml", "huge.xml", "gone.xml"]
    assert (results["rss.xml"].new, results["rss.xml"].error) == (3, None)
    assert (results["atom.xml"].new, results["atom.xml"].error) == (2, None)
    assert "not an RSS or Atom feed" in results["broken.xml"].error
    assert "within 0.5 s" in results["slow.xml"].error
    assert "100000-byte limit" in results["huge.xml"].error
    assert "HTTP 404" in results["gone.xml"].error
    assert time.monotonic() - started < SLOW_S + 5  # the slow feed was given up on, not waited for


def test_items_become_indexed_articles_with_their_metadata(settings, tiny_embedder):
    results = _by_path(poll_feeds(settings))
    articles, issues = load_corpus(settings.corpus_dir, settings.max_file_bytes, settings.exports)
    assert issues == []
    by_id = {a.id: a for a in articles}
    rss = feed_file(results["rss.xml"].url)
    bridge = by_id[f"{rss}#vn-1001"]
    assert bridge.title == "У Вінниці відкрили новий міст через Південний Буг"
    assert bridge.date == "2024-05-14"
    assert bridge.url == f"{settings.feeds[0].url.rsplit('/', 1)[0]}/news/bridge"
    assert (bridge.author, bridge.outlet, bridge.tags) == ("Ірина Бондар", "Вінницькі новини", ("Місто",))
    assert "31 мільйон гривень" in bridge.body and "<p>" not in bridge.body  # content:encoded over the summary
    # No guid: the link is the id.
    assert any(a.id.endswith("/news/food") for a in articles)
    report = build_index(settings, tiny_embedder)
    assert report.added == 5 and report.skipped == 0


def test_fetch_pages_keeps_the_page_text_and_falls_back_to_the_summary(settings):
    results = _by_path(poll_feeds(settings))
    articles, _ = load_corpus(settings.corpus_dir, settings.max_file_bytes, settings.exports)
    atom = feed_file(results["atom.xml"].url)
    buses = next(a for a in articles if a.id.startswith(atom) and a.title.startswith("Полтава отримала"))
    assert "дванадцять нових автобусів" in buses.body  # the page's text, not the one-line summary
    assert "Головна" not in buses.body
    assert buses.outlet == "Полтавський вісник" and buses.author == "Олег Кравець"
    garden = next(a for a in articles if a.id.startswith(atom) and "Корпусний" in a.title)
    assert "затвердила проєкт ремонту" in garden.body and garden.date == "2024-05-14"
    assert any("missing.html" in w and "HTTP 404" in w for w in results["atom.xml"].warnings)


def test_second_poll_is_conditional_and_new_items_are_added_once(settings, server, tiny_embedder):
    poll_feeds(settings)
    build_index(settings, tiny_embedder)
    again = _by_path(poll_feeds(settings))
    assert again["rss.xml"].not_modified and again["atom.xml"].not_modified
    assert (again["rss.xml"].new, again["atom.xml"].new) == (0, 0)
    assert ("/rss.xml", '"rss-v1"') in server.conditional
    assert ("/atom.xml", ATOM_MODIFIED) in server.conditional
    assert "within 0.5 s" in again["slow.xml"].error  # errors are reported on every poll

    server.rss_version = 2  # one new item; the three old ones come again
    third = _by_path(poll_feeds(settings))
    assert (third["rss.xml"].new, third["rss.xml"].seen, third["rss.xml"].not_modified) == (1, 3, False)
    report = build_index(settings, tiny_embedder)
    assert (report.added, report.updated, report.removed) == (1, 0, 0)
    with closing(Store(settings.index_dir / DB_NAME)) as store:
        ids = set(store.article_hashes())
    assert f"{feed_file(third['rss.xml'].url)}#vn-1004" in ids
    state = FeedStore(settings.corpus_dir).state()
    assert state[settings.feeds[0].url]["etag"] == '"rss-v2"'
    assert "byte limit" in state[settings.feeds[4].url]["error"]


def test_a_feed_setting_needs_an_http_address(tmp_path):
    from litopys.core.config import ConfigError

    with pytest.raises(ConfigError, match="url"):
        load_settings(corpus_dir=tmp_path, feeds=[{"url": "file:///etc/passwd"}])
