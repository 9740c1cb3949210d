"""RSS/Atom feeds -> article rows in the corpus folder, which the builder then indexes.

Each feed's items are kept in one export file, ``<corpus>/feeds/<name>.jsonl``, one item per
line with the guid (or link) as its id, so the builder reads them as it reads any export
(``index.exports``) and an item is embedded once. Fetching is conditional (ETag /
Last-Modified), held to the feed's timeout and size limit, and each feed fails on its own:
its error is reported and the other feeds go on. With ``fetch_pages`` the item's page is
fetched too and its article text (``index.webpage``) replaces a shorter summary.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import httpx

from litopys.core.config import ExportSettings, FeedSettings, Settings
from litopys.core.integrity import fsync_dir
from litopys.index.corpus import ArticleFormatError
from litopys.index.exports import export_date
from litopys.index.webpage import parse_page

log = logging.getLogger(__name__)

FEEDS_FOLDER = "feeds"
STATE_FILE = ".state.json"  # hidden: the corpus scan and the watcher ignore it
USER_AGENT = "Litopys feed reader (+https://github.com/litopys)"
_UNSAFE = re.compile(r"[^a-z0-9]+")


class FeedError(Exception):
    """One feed could not be fetched or read; the message says why."""


@dataclass
class FeedResult:
    """What one poll of one feed did."""

    url: str
    file: str = ""  # the export file its items are kept in, relative to the corpus
    new: int = 0
    seen: int = 0  # items already saved (same guid or link)
    not_modified: bool = False  # the server answered 304
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return dict(vars(self))


@dataclass
class Fetched:
    """A response body, or none when the server said it has not changed."""

    body: bytes | None
    etag: str | None
    last_modified: str | None


def feed_file(url: str) -> str:
    """The export file of a feed, relative to the corpus: readable, and distinct per URL."""
    parts = urlsplit(url)
    readable = _UNSAFE.sub("-", f"{parts.hostname or ''}{parts.path}".lower()).strip("-")[:60]
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
    return f"{FEEDS_FOLDER}/{readable or 'feed'}-{digest}.jsonl"


def fetch(client: httpx.Client, url: str, timeout_s: float, max_bytes: int, headers: dict[str, str]) -> Fetched:
    """GET ``url`` within ``timeout_s`` in all and ``max_bytes``; raises FeedError with the reason."""
    deadline = time.monotonic() + timeout_s
    try:
        with client.stream("GET", url, headers=headers, timeout=timeout_s) as response:
            if response.status_code == 304:
                return Fetched(None, headers.get("If-None-Match"), headers.get("If-Modified-Since"))
            if response.status_code >= 400:
                raise FeedError(f"HTTP {response.status_code} {response.reason_phrase}")
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                raise FeedError(f"it is {declared} bytes, over the {max_bytes}-byte limit")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FeedError(f"it is over the {max_bytes}-byte limit")
                if time.monotonic() > deadline:  # a server trickling bytes never trips the read timeout
                    raise FeedError(f"it took longer than {timeout_s:g} s")
                chunks.append(chunk)
            return Fetched(b"".join(chunks), response.headers.get("ETag"), response.headers.get("Last-Modified"))
    except httpx.TimeoutException:
        raise FeedError(f"no answer within {timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        raise FeedError(f"cannot fetch it: {exc}") from None


def parse_feed(body: bytes) -> tuple[Any, list[str]]:
    """feedparser's result for ``body`` and warnings; raises FeedError when it is no feed at all."""
    parsed = feedparser.parse(body)
    problem = parsed.get("bozo_exception")
    if not parsed.entries:
        if problem is not None or not parsed.get("version"):
            raise FeedError(f"not an RSS or Atom feed ({problem or 'no feed elements'})")
        return parsed, []
    return parsed, [f"the feed is malformed ({problem}); its readable items were kept"] if problem else []


def item_row(entry: Any, outlet: str | None, fields: ExportSettings) -> tuple[str, dict[str, object]]:
    """One feed item as an export row (keys: the first name of each mapped field); raises FeedError."""
    key = entry.get("id") or entry.get("guid") or entry.get("link")
    if not key:
        raise FeedError("an item has neither a guid nor a link")
    contents = [c.get("value", "") for c in entry.get("content", [])]
    text = max([*contents, entry.get("summary", "")], key=len)
    if not text.strip():
        raise FeedError(f"item {key}: no summary or content")
    raw_date = entry.get("published") or entry.get("updated")
    try:
        date = export_date(raw_date)
    except ValueError:
        date = None
    tags = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
    row: dict[str, object] = {
        fields.id[0]: key,
        fields.title[0]: entry.get("title") or "",
        fields.date[0]: date,
        fields.text[0]: text,
        fields.url[0]: entry.get("link"),
        fields.author[0]: entry.get("author"),
        fields.outlet[0]: outlet,
        fields.tags[0]: tags,
    }
    return str(key), {k: v for k, v in row.items() if v not in (None, "", [])}


def _page_text(client: httpx.Client, feed: FeedSettings, url: str) -> str:
    """The article text of an item's page (raises FeedError or ArticleFormatError)."""
    fetched = fetch(client, url, feed.timeout_s, feed.max_bytes, {})
    article, _ = parse_page(url, fetched.body or b"")
    return article.body


class FeedStore:
    """The saved items and the conditional-GET state of the feeds, in ``<corpus>/feeds``."""

    def __init__(self, corpus_dir: Path) -> None:
        self.root = Path(corpus_dir)
        self.folder = self.root / FEEDS_FOLDER
        self.state_path = self.folder / STATE_FILE

    def state(self) -> dict[str, dict[str, Any]]:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def save_state(self, state: dict[str, dict[str, Any]]) -> None:
        self._write(self.state_path, json.dumps(state, ensure_ascii=False, indent=1) + "\n")

    def saved_ids(self, rel: str, fields: ExportSettings) -> set[str]:
        """The ids of the items already kept in ``rel``."""
        path = self.root / rel
        if not path.exists():
            return set()
        ids = set()
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                ids.add(str(json.loads(line)[fields.id[0]]))
            except (ValueError, KeyError, TypeError):
                continue
        return ids

    def append(self, rel: str, rows: list[dict[str, object]]) -> None:
        """Add rows to ``rel``, replacing the file atomically: the builder never reads half a line."""
        path = self.root / rel
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if old and not old.endswith("\n"):
            old += "\n"
        self._write(path, old + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))

    def _write(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")  # hidden: ignored by the scan and the watcher
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)


def poll_feed(client: httpx.Client, feed: FeedSettings, store: FeedStore, fields: ExportSettings) -> FeedResult:
    """Fetch one feed and save its new items; errors are in the result, never raised."""
    result = FeedResult(feed.url, feed_file(feed.url))
    state = store.state()
    known = state.get(feed.url, {})
    headers = {"User-Agent": USER_AGENT}
    if known.get("etag"):
        headers["If-None-Match"] = known["etag"]
    if known.get("last_modified"):
        headers["If-Modified-Since"] = known["last_modified"]
    try:
        fetched = fetch(client, feed.url, feed.timeout_s, feed.max_bytes, headers)
        if fetched.body is None:
            result.not_modified = True
        else:
            parsed, result.warnings = parse_feed(fetched.body)
            _save_items(client, feed, parsed, store, fields, result)
            known = {"etag": fetched.etag, "last_modified": fetched.last_modified}
    except FeedError as exc:
        result.error = str(exc)
    state = store.state()
    state[feed.url] = {**known, "polled_at": time.time(), "error": result.error}
    store.save_state(state)
    return result


def _save_items(
    client: httpx.Client, feed: FeedSettings, parsed: Any, store: FeedStore, fields: ExportSettings, result: FeedResult
) -> None:
    outlet = parsed.feed.get("title") or None
    saved = store.saved_ids(result.file, fields)
    rows = []
    for entry in parsed.entries:
        try:
            key, row = item_row(entry, outlet, fields)
        except FeedError as exc:
            result.warnings.append(f"item skipped: {exc}")
            continue
        if key in saved:
            result.seen += 1
            continue
        saved.add(key)
        link = row.get(fields.url[0])
        if feed.fetch_pages and isinstance(link, str) and link.startswith(("http://", "https://")):
            try:
                page = _page_text(client, feed, link)
                if len(page) > len(str(row[fields.text[0]])):
                    row[fields.text[0]] = page
            except (FeedError, ArticleFormatError) as exc:
                result.warnings.append(f"page {link}: {exc}; the feed's summary is kept")
        rows.append(row)
    if rows:
        store.append(result.file, rows)
    result.new = len(rows)


def poll_feeds(settings: Settings, due: Callable[[FeedSettings], bool] | None = None) -> list[FeedResult]:
    """Poll every configured feed (or those ``due`` says); one feed's failure never stops the others."""
    store = FeedStore(Path(settings.corpus_dir))
    results = []
    with httpx.Client(follow_redirects=True) as client:
        for feed in settings.feeds:
            if due is not None and not due(feed):
                continue
            result = poll_feed(client, feed, store, settings.exports)
            if result.error:
                log.warning("feed %s: %s", feed.url, result.error)
            else:
                log.info("feed %s: %s", feed.url, "not modified" if result.not_modified else f"{result.new} new items")
            for warning in result.warnings:
                log.warning("feed %s: %s", feed.url, warning)
            results.append(result)
    return results


class FeedPoller:
    """Polls each feed once its ``interval_s`` has passed since its last poll (the watcher's tick)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = FeedStore(Path(settings.corpus_dir))

    def _due(self, feed: FeedSettings) -> bool:
        polled = self.store.state().get(feed.url, {}).get("polled_at") or 0.0
        return time.time() - float(polled) >= feed.interval_s

    def __call__(self) -> int:
        """Poll the due feeds; returns how many new items were saved."""
        return sum(r.new for r in poll_feeds(self.settings, self._due))
