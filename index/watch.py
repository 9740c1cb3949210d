"""A watched corpus folder: file changes (and due feeds) -> incremental index builds.

Sits beside ``index.builder``: every sync is one ordinary ``build_index`` run, with its
one-writer lock and crash-safe publishing, started once the folder has been quiet for
``watch.settle_s``. What the last sync did is written to ``last_sync.json`` in the index
folder, where the chat's library tab (any process) reads it. Readers follow the new
generation on their next question (``index.reader``).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import watchfiles

from litopys.core.config import Settings
from litopys.core.errors import IndexBusyError, LitopysError
from litopys.index.builder import build_index
from litopys.index.corpus import ARTICLE_SUFFIXES, is_ignored_name
from litopys.index.embedder import Embedder

log = logging.getLogger(__name__)

SYNC_FILE = "last_sync.json"
MAX_PATHS_KEPT = 20  # files named in the record; a big copy is summed up, not listed
TICK_MS = 1000  # how often the loop wakes without changes: retries and due feeds


@dataclass
class SyncRecord:
    """What one sync did, and when (UTC, ISO 8601)."""

    finished_at: str
    trigger: str  # "start", "files" or "feeds"
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: int = 0
    seconds: float = 0.0
    paths: list[str] = field(default_factory=list)  # the changed files that started it (first few)
    error: str | None = None
    busy: bool = False  # another build held the lock: the sync is retried

    def save(self, index_dir: Path) -> None:
        """Write the record atomically: a reader sees the old one or the new one, never half."""
        index_dir.mkdir(parents=True, exist_ok=True)
        tmp = index_dir / f".{SYNC_FILE}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(asdict(self), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, index_dir / SYNC_FILE)


def last_sync(index_dir: Path) -> SyncRecord | None:
    """The last sync's record, or None when there was none (or it cannot be read)."""
    try:
        return SyncRecord(**json.loads((Path(index_dir) / SYNC_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def sync(settings: Settings, embedder: Embedder, trigger: str, paths: list[str] | None = None) -> SyncRecord:
    """One incremental build of the corpus; returns (and saves) its record. Never raises a LitopysError."""
    started = time.perf_counter()
    shown = (paths or [])[:MAX_PATHS_KEPT]
    try:
        report = build_index(settings, embedder)
    except LitopysError as exc:
        busy = isinstance(exc, IndexBusyError)
        record = SyncRecord(_now(), trigger, paths=shown, error=str(exc), busy=busy)
        record.seconds = round(time.perf_counter() - started, 3)
        log.warning("sync (%s) did not run: %s", trigger, exc)
    else:
        record = SyncRecord(
            _now(),
            trigger,
            report.added,
            report.updated,
            report.removed,
            report.unchanged,
            report.skipped,
            round(report.seconds, 3),
            shown,
        )
        log.info(
            "sync (%s): added %d, updated %d, removed %d, skipped %d in %.1f s",
            trigger,
            record.added,
            record.updated,
            record.removed,
            record.skipped,
            record.seconds,
        )
    record.save(Path(settings.index_dir))
    return record


class ArticleFilter(watchfiles.DefaultFilter):
    """Article files and folders of the corpus; those the scan ignores (hidden, editor backups) are not."""

    def __init__(self, corpus_dir: Path) -> None:
        super().__init__()
        self.root = Path(corpus_dir).resolve()

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        try:
            rel = Path(path).resolve().relative_to(self.root)
        except ValueError:
            return False
        if any(is_ignored_name(part) for part in rel.parts):
            return False
        # A deleted folder has no suffix and takes its articles with it.
        suffix = rel.suffix.lower()
        return (suffix in ARTICLE_SUFFIXES or not suffix) and super().__call__(change, path)


@dataclass
class WatchPlan:
    """How the watcher runs: quiet time before a sync, and an optional feed poll."""

    settle_s: float = 2.0
    max_wait_s: float = 60.0  # a folder that never goes quiet is still synced this often
    initial_sync: bool = True
    # Called every tick; fetches the feeds that are due and returns how many new items it saved.
    poll_feeds: Callable[[], int] | None = None


def watch_corpus(
    settings: Settings,
    embedder: Embedder,
    stop: threading.Event,
    plan: WatchPlan | None = None,
    on_sync: Callable[[SyncRecord], None] | None = None,
) -> None:
    """Keep the index in line with the corpus folder until ``stop`` is set.

    A burst of writes gives one sync once the folder has been quiet for ``settle_s``. A sync
    the lock refused (another build was running) is retried on the next tick.
    """
    plan = plan or WatchPlan()
    corpus = Path(settings.corpus_dir)

    def run(trigger: str, paths: list[str]) -> bool:
        record = sync(settings, embedder, trigger, paths)
        if on_sync:
            on_sync(record)
        return record.busy

    retry = run("start", []) if plan.initial_sync else False
    log.info("watching %s for article changes (settle %.1f s)", corpus, plan.settle_s)
    for changes in watchfiles.watch(
        corpus,
        watch_filter=ArticleFilter(corpus),
        step=int(plan.settle_s * 1000),
        debounce=int(max(plan.max_wait_s, plan.settle_s) * 1000),
        stop_event=stop,
        yield_on_timeout=True,
        rust_timeout=TICK_MS,
        raise_interrupt=False,
    ):
        if stop.is_set():
            break
        if changes or retry:
            paths = sorted({_relative(p, corpus) for _, p in changes})
            retry = run("files" if changes else "retry", paths)
        if plan.poll_feeds and plan.poll_feeds():
            # Saved items are files in the corpus: the next batch of changes syncs them.
            log.info("feeds saved new items; they are indexed once the folder settles")


def _relative(path: str, corpus: Path) -> str:
    try:
        return Path(path).resolve().relative_to(corpus.resolve()).as_posix()
    except ValueError:
        return path


def start_watching(
    settings: Settings, embedder: Embedder, plan: WatchPlan | None = None
) -> tuple[threading.Thread, threading.Event]:
    """Run ``watch_corpus`` in a daemon thread (the chat server's); returns it and its stop event."""
    stop = threading.Event()

    def work() -> None:
        try:
            watch_corpus(settings, embedder, stop, plan)
        except Exception:  # a dead watcher must say so; the chat goes on answering
            log.exception("the corpus watcher stopped")

    thread = threading.Thread(target=work, name="litopys-watch", daemon=True)
    thread.start()
    return thread, stop
