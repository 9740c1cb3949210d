"""One writer at a time across machines: a lease in the Milvus meta collection.

litopys.index.milvus_build holds it for a whole build, on top of the local ``index_dir``
lock (which only keeps out builds on the same host). Milvus has no compare-and-set, so the
lease is taken with Fischer's timed mutual exclusion:

1. read the ``lock`` row: a live lease of another writer means busy (IndexBusyError, exit 6);
2. write our own lease (owner, host, pid, expiry);
3. wait ``[index] lock_settle_s``, longer than any writer's step 1 to step 2 can take (its
   write call is bounded by a shorter timeout);
4. read again: still ours means held; another owner means that writer won the race.

Two writers that both saw no lease both write; each re-reads after the wait, and only the
last writer sees itself. A background thread renews the lease every ``ttl_s / 3``; a writer
killed without releasing it blocks other hosts until the lease expires (its own host checks
the pid and takes over at once). Expiry compares wall
clocks of different hosts, so they must agree to well within ``ttl_s`` (NTP).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from litopys.core.errors import IndexBusyError
from litopys.index.milvus import Milvus

log = logging.getLogger(__name__)

_unreleased: set[str] = set()  # leases of this process whose release failed: stale, not held
LOCK_KEY = "lock"
LOCK_GEN = -1  # outside every generation, so a build's clean-up never deletes the row
TTL_S = 60.0
WRITE_TIMEOUT_S = 5.0  # the lease write's own bound: settle_s must exceed it


@dataclass(frozen=True)
class Lease:
    """Who holds the write lock, and until when (seconds since the epoch)."""

    owner: str
    host: str
    pid: int
    expires: float

    def live(self, now: float) -> bool:
        """Unexpired, and not left behind: by a dead process on this host (a killed build), or by
        this process when its release failed (Milvus away at the end of a build)."""
        if self.owner in _unreleased or (self.host == socket.gethostname() and not _pid_alive(self.pid)):
            return False
        return self.expires > now

    def describe(self) -> str:
        left = max(0.0, self.expires - time.time())
        return f"pid {self.pid} on {self.host} (lease expires in {left:.0f} s unless renewed)"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def read_lease(milvus: Milvus) -> Lease | None:
    rows = milvus.query(milvus.names.meta, f'key == "{LOCK_KEY}"', ["value"])
    return Lease(**json.loads(rows[0]["value"])) if rows else None


def _write(milvus: Milvus, lease: Lease) -> None:
    row = {"key": LOCK_KEY, "gen": LOCK_GEN, "value": json.dumps(asdict(lease)), "unused": [0.0, 0.0]}
    milvus.client.upsert(milvus.names.meta, [row], timeout=min(milvus.timeout, WRITE_TIMEOUT_S))


def _busy(milvus: Milvus, holder: Lease) -> IndexBusyError:
    return IndexBusyError(
        f"another `litopys index` is writing the index on the Milvus server at {milvus.settings.uri} "
        f"(collections {milvus.names.prefix}_*): {holder.describe()}; try again when it is done"
    )


def acquire(milvus: Milvus, ttl_s: float, settle_s: float) -> Lease:
    """Take the write lease or raise IndexBusyError naming its holder."""
    held = read_lease(milvus)
    if held is not None and held.live(time.time()):
        raise _busy(milvus, held)
    if held is not None:
        log.warning("taking over a stale Milvus write lease of pid %d on %s", held.pid, held.host)
    mine = Lease(uuid.uuid4().hex, socket.gethostname(), os.getpid(), time.time() + ttl_s)
    _write(milvus, mine)
    time.sleep(settle_s)
    now = read_lease(milvus)
    if now is None or now.owner != mine.owner:
        raise _busy(milvus, now or mine)
    return mine


def release(milvus: Milvus, lease: Lease) -> None:
    """Drop the lease if it is still ours (a lease that expired and was taken over is left alone)."""
    held = read_lease(milvus)
    if held is not None and held.owner == lease.owner:
        milvus.client.delete(milvus.names.meta, filter=f'key == "{LOCK_KEY}"', timeout=milvus.timeout)


def _renew(milvus: Milvus, lease: Lease, ttl_s: float, stop: threading.Event) -> None:
    while not stop.wait(ttl_s / 3):
        try:
            held = read_lease(milvus)
            if held is None or held.owner != lease.owner:
                log.error("the Milvus write lease was taken over by %s", held.describe() if held else "nobody")
                return
            _write(milvus, Lease(lease.owner, lease.host, lease.pid, time.time() + ttl_s))
        except Exception:  # the build's own calls will fail and report the server; keep trying meanwhile
            log.warning("could not renew the Milvus write lease", exc_info=True)


@contextmanager
def write_lock(milvus: Milvus, ttl_s: float = TTL_S) -> Iterator[Lease]:
    """Hold the write lease for the block, renewing it meanwhile."""
    lease = acquire(milvus, ttl_s, milvus.settings.lock_settle_s)
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew, args=(milvus, lease, ttl_s, stop), name="litopys-milvus-lease", daemon=True
    )
    renewer.start()
    try:
        yield lease
    finally:
        stop.set()
        renewer.join(timeout=milvus.timeout)
        try:
            release(milvus, lease)
        except Exception:  # it expires by itself, and this process's next build takes it over
            _unreleased.add(lease.owner)
            log.warning("could not release the Milvus write lease; it expires in %.0f s", ttl_s, exc_info=True)
