"""The Milvus write lease (litopys.index.milvus_lock) against a real `milvus-lite server`.

Each "host" is its own pymilvus client (they may share one gRPC channel: the lease logic does not care); the race runs writers in threads that start
together, so both see no lease and both write one: exactly one may win.
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import replace

import pytest

from litopys.core.config import IndexSettings
from litopys.core.errors import IndexBusyError
from litopys.index.builder import build_index
from litopys.index.milvus import Milvus
from litopys.index.milvus_build import _prepare_collections
from litopys.index.milvus_lock import _write, acquire, read_lease, release, write_lock

pytestmark = pytest.mark.slow

SETTLE_S = 1.0  # enough on loopback: a lease write takes milliseconds here


@pytest.fixture
def index_settings(milvus_server, request) -> IndexSettings:
    prefix = request.node.name.replace("[", "_").replace("]", "").replace("-", "_")
    settings = IndexSettings(backend="milvus", uri=milvus_server.uri, collection=prefix, lock_settle_s=SETTLE_S)
    milvus = Milvus(settings)
    try:
        _prepare_collections(milvus, 256, "FLAT")  # the tiny embedder's dimension
    finally:
        milvus.close()
    return settings


@pytest.fixture
def hosts(index_settings):
    """``hosts(n)``: n separate connections to the server, closed after the test."""
    opened: list[Milvus] = []

    def make(n: int) -> list[Milvus]:
        opened.extend(Milvus(index_settings) for _ in range(n))
        return opened[-n:]

    yield make
    for milvus in opened:
        milvus.close()


def test_second_writer_is_refused_while_the_lease_is_held_and_renewed(hosts):
    a, b = hosts(2)
    with write_lock(a, ttl_s=1.5) as lease:
        time.sleep(2.5)  # longer than the TTL: only the renewals keep it live
        with pytest.raises(IndexBusyError, match=rf"pid {lease.pid} on .* \(lease expires") as info:
            acquire(b, ttl_s=1.5, settle_s=SETTLE_S)
        assert info.value.exit_code == 6
        assert read_lease(b) is not None and read_lease(b).owner == lease.owner
    assert read_lease(b) is None  # released on exit
    release(b, acquire(b, ttl_s=5, settle_s=SETTLE_S))


def test_an_expired_lease_is_taken_over(hosts):
    a, b = hosts(2)
    dead = acquire(a, ttl_s=0.5, settle_s=SETTLE_S)  # a writer that died without releasing
    time.sleep(0.6)
    mine = acquire(b, ttl_s=5, settle_s=SETTLE_S)
    assert mine.owner != dead.owner and read_lease(a).owner == mine.owner
    release(a, dead)  # a late release by the dead writer leaves the new lease alone
    assert read_lease(b).owner == mine.owner
    release(b, mine)


def _race(conns: list[Milvus]) -> tuple[list, list]:
    """Every connection tries to take the lease at the same moment; (leases won, connections that lost)."""
    start = threading.Barrier(len(conns))
    won: list = []
    lost: list[Milvus] = []

    def take(milvus: Milvus) -> None:
        start.wait()
        try:
            won.append(acquire(milvus, ttl_s=30, settle_s=SETTLE_S))
        except IndexBusyError:
            lost.append(milvus)

    threads = [threading.Thread(target=take, args=(m,)) for m in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return won, lost


@pytest.mark.parametrize("writers", [2, 3])
def test_racing_writers_exactly_one_wins(hosts, writers):
    for _round in range(3):
        conns = hosts(writers)
        won, lost = _race(conns)
        assert len(won) == 1 and len(lost) == writers - 1, (won, lost)
        assert read_lease(conns[0]).owner == won[0].owner
        release(conns[0], won[0])


def test_a_build_fails_fast_on_a_held_lease(tmp_path, hosts, index_settings, seed, tiny_embedder):
    from litopys.core.config import load_settings

    (a,) = hosts(1)
    settings = load_settings(
        corpus_dir=seed.path.parent, index_dir=tmp_path / "index", index=index_settings.model_dump()
    )
    with write_lock(a), pytest.raises(IndexBusyError, match=f"Milvus server at {index_settings.uri}"):
        build_index(settings, tiny_embedder)
    report = build_index(settings, tiny_embedder)
    assert report.added == 1 and read_lease(a) is None


def test_a_lease_left_by_a_dead_process_on_this_host_is_taken_over_at_once(hosts):
    a, b = hosts(2)
    left = acquire(a, ttl_s=600, settle_s=SETTLE_S)
    gone = subprocess.Popen(["true"])  # a pid that has exited: the lease of a killed build on this host
    gone.wait()
    _write(a, replace(left, pid=gone.pid))
    mine = acquire(b, ttl_s=5, settle_s=SETTLE_S)
    assert read_lease(b).owner == mine.owner != left.owner
    release(b, mine)
    # A live process's unexpired lease is not taken over.
    busy = acquire(a, ttl_s=600, settle_s=SETTLE_S)
    with pytest.raises(IndexBusyError):
        acquire(b, ttl_s=5, settle_s=SETTLE_S)
    release(a, busy)


def test_a_lease_this_process_failed_to_release_does_not_block_its_next_build(hosts, monkeypatch):
    from litopys.index import milvus_lock

    a, b = hosts(2)

    def milvus_away(milvus, lease):
        raise ConnectionError("Milvus went away at the end of the build")

    monkeypatch.setattr(milvus_lock, "release", milvus_away)
    with write_lock(a, ttl_s=600) as left:
        pass
    monkeypatch.undo()
    assert read_lease(b).owner == left.owner  # still there, unexpired
    mine = acquire(b, ttl_s=5, settle_s=SETTLE_S)
    assert read_lease(b).owner == mine.owner
    release(b, mine)
