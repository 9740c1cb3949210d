"""The watched corpus: added, changed and deleted files reach the index after the folder settles."""

from __future__ import annotations

import queue
import threading
import time
from contextlib import closing, contextmanager

import pytest

from litopys.core.config import load_settings
from litopys.index.builder import DB_NAME, build_lock
from litopys.index.store import Store
from litopys.index.watch import SyncRecord, WatchPlan, last_sync, watch_corpus

SETTLE_S = 0.6


def _article(title: str, body: str) -> str:
    return f"date 2024-05-01 {title}\n{body}"


@pytest.fixture
def settings(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "first.txt").write_text(_article("Перша", "У Луцьку відкрили новий парк біля річки Стир."), "utf-8")
    return load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")


@contextmanager
def watching(settings, embedder, **plan):
    """The watcher in a thread; yields a queue of its sync records."""
    records: queue.Queue[SyncRecord] = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(
        target=watch_corpus,
        args=(settings, embedder, stop, WatchPlan(settle_s=SETTLE_S, **plan), records.put),
        daemon=True,
    )
    thread.start()
    try:
        yield records
    finally:
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive()


def _next(records: queue.Queue[SyncRecord], timeout: float = 30) -> SyncRecord:
    return records.get(timeout=timeout)


def _indexed(settings) -> dict[str, str]:
    with closing(Store(settings.index_dir / DB_NAME)) as store:
        return store.article_hashes()


def test_added_changed_and_deleted_files_reach_the_index(settings, tiny_embedder):
    corpus = settings.corpus_dir
    (corpus / "news").mkdir()
    with watching(settings, tiny_embedder) as records:
        start = _next(records)
        assert (start.trigger, start.added) == ("start", 1)
        time.sleep(0.3)  # the watch is set up a moment after the first sync
        (corpus / "news" / "second.txt").write_text(_article("Друга", "У Рівному відремонтували міст."), "utf-8")
        added = _next(records)
        assert (added.trigger, added.added, added.updated, added.removed) == ("files", 1, 0, 0)
        assert added.paths == ["news/second.txt"]
        assert set(_indexed(settings)) == {"first.txt", "news/second.txt"}

        (corpus / "first.txt").write_text(_article("Перша", "У Луцьку відкрили два нові парки."), "utf-8")
        changed = _next(records)
        assert (changed.added, changed.updated, changed.removed, changed.unchanged) == (0, 1, 0, 1)

        (corpus / "news" / "second.txt").unlink()
        removed = _next(records)
        assert (removed.added, removed.updated, removed.removed) == (0, 0, 1)
        assert set(_indexed(settings)) == {"first.txt"}
    assert last_sync(settings.index_dir) == removed


def test_a_burst_of_writes_gives_one_sync_after_the_folder_settles(settings, tiny_embedder):
    corpus = settings.corpus_dir
    with watching(settings, tiny_embedder) as records:
        _next(records)
        time.sleep(0.3)
        for n in range(6):  # each write comes before the folder has been quiet for SETTLE_S
            (corpus / f"burst{n}.md").write_text(f"Новина {n}\nУ місті номер {n} відкрили школу.", "utf-8")
            time.sleep(SETTLE_S / 4)
        burst = _next(records)
        assert (burst.added, burst.updated, burst.removed) == (6, 0, 0)
        assert len(burst.paths) == 6
        with pytest.raises(queue.Empty):
            records.get(timeout=SETTLE_S * 4)  # nothing left to sync


def test_hidden_files_and_other_suffixes_do_not_start_a_sync(settings, tiny_embedder):
    corpus = settings.corpus_dir
    with watching(settings, tiny_embedder) as records:
        _next(records)
        time.sleep(0.3)
        (corpus / ".incoming").mkdir()
        (corpus / ".incoming" / "half.txt").write_text(_article("Пів", "Ще не дописана."), "utf-8")
        (corpus / "photo.jpg").write_bytes(b"\xff\xd8\xff")
        with pytest.raises(queue.Empty):
            records.get(timeout=SETTLE_S * 4)


def test_a_sync_refused_by_the_lock_is_retried(settings, tiny_embedder):
    corpus = settings.corpus_dir
    with watching(settings, tiny_embedder) as records:
        _next(records)
        time.sleep(0.3)
        with build_lock(settings.index_dir):  # another build (say, an upload in the chat) is running
            (corpus / "late.txt").write_text(_article("Пізня", "У Херсоні відкрили пекарню."), "utf-8")
            refused = _next(records)
            assert refused.busy and "another build" in (refused.error or "")
        retried = _next(records)
        assert (retried.trigger, retried.added, retried.busy) == ("retry", 1, False)
        assert "late.txt" in _indexed(settings)


def test_library_panel_shows_the_watch_and_the_last_sync_escaped():
    from litopys.ui.library import status_html
    from litopys.ui.strings import EN, UK

    status = {"articles": 3, "chunks": 9, "embedder": "e", "dim": 4, "built_at": "t", "generation": 2}
    done = SyncRecord("2024-05-01T10:00:00Z", "files", added=2, updated=1, removed=1, skipped=0)
    panel = status_html(status, UK, watching=True, sync=done)
    assert "увімкнено" in panel and "2024-05-01T10:00:00Z (UTC): додано 2, оновлено 1, вилучено 1" in panel
    failed = SyncRecord("2024-05-01T10:01:00Z", "files", error="<b>disk full</b>")
    panel = status_html({}, EN, watching=True, sync=failed)
    assert "failed — &lt;b&gt;disk full&lt;/b&gt;" in panel and "<b>disk" not in panel
    assert "lt-last-sync" not in status_html(status, EN)  # not watching, never synced: no sync row
