"""Load test: N simulated users ask questions through the chat server's public API for D seconds.

    litopys --index-dir IDX bench-load --questions dev.jsonl [--users 16] [--duration 300] \\
        [--llm bundled:qwen2.5-coder-1.5b]
    litopys bench-load --url http://127.0.0.1:7860 --server-pid PID --questions Q.jsonl

Without --url it starts `litopys serve --no-index` on a free loopback port over
the configured index (the global --index-dir or the settings) and stops it at
the end; with --url it drives a running server (loopback only) and reads its
memory from /proc/--server-pid. Each user is a gradio_client session calling
the chat's /respond endpoint (the one the browser uses), one question at a
time, each in a new conversation. New questions stop after --duration seconds;
answers in flight may finish within --drain seconds, after which they count as
failures.

Reports requests, failures, complete answers, queue wait (submit -> the
server starts the job) and latency (submit -> final answer) p50/p95
(litopys.core.measure.percentile), the largest queue position a user saw, and
the server's RSS at start, end and maximum with a trend (least-squares slope
over the run). Exit code 1 if any request failed or an answer was incomplete.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from litopys.core.errors import LitopysError
from litopys.core.measure import percentile
from litopys.core.net import free_port

API_NAME = "/respond"
POLL_S = 0.1


@dataclass(frozen=True)
class LoadPlan:
    """What the simulated users do: which questions, how many users, for how long."""

    questions: list[str]
    users: int = 16
    duration_s: float = 300  # users ask new questions until then
    drain_s: float = 1200  # answers in flight may take this long after ``duration_s``
    max_requests: int | None = None  # stop asking after this many questions in all


@dataclass(frozen=True)
class ServerToStart:
    """`litopys serve --no-index` to start over ``index_dir`` (when no running server is given)."""

    index_dir: Path
    llm: str | None = None  # default: the settings' model
    max_tokens: int | None = None


@dataclass
class Request:
    """One question asked by one simulated user."""

    user: int
    question: str
    submitted: float
    started: float | None = None  # the server picked the job from the queue
    finished: float | None = None
    max_rank: int | None = None  # largest queue position shown to the user (0 = next)
    complete: bool = False
    error: str | None = None
    answer_chars: int = 0


@dataclass
class RssSampler:
    """Samples a process's resident memory from /proc every ``every_s`` seconds."""

    pid: int | None
    every_s: float = 2.0
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, MiB)
    _stop: threading.Event = field(default_factory=threading.Event)

    def rss_mib(self) -> float | None:
        if self.pid is None:
            return None
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def run(self, t0: float) -> None:
        while not self._stop.is_set():
            value = self.rss_mib()
            if value is not None:
                self.samples.append((time.monotonic() - t0, value))
            self._stop.wait(self.every_s)

    def stop(self) -> None:
        self._stop.set()


def slope_per_min(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MiB) samples, in MiB per minute."""
    if len(samples) < 3:
        return None
    n = len(samples)
    mx = sum(t for t, _ in samples) / n
    my = sum(v for _, v in samples) / n
    var = sum((t - mx) ** 2 for t, _ in samples)
    return 60 * sum((t - mx) * (v - my) for t, v in samples) / var if var else None


def final_text(result) -> tuple[str, str]:
    """(state, text) of the assistant's last message in /respond's outputs (question box, chat, sources)."""
    from litopys.ui.render import answer_from_chat

    chat = result[1] if isinstance(result, (list, tuple)) and len(result) > 1 else ""
    return answer_from_chat(chat or "")


def is_complete(state: str, text: str) -> bool:
    """A finished answer: generated to the end, not an error notice, not empty."""
    return state == "done" and bool(text.strip())


def user_loop(
    user: int,
    url: str,
    auth: tuple[str, str] | None,
    plan: LoadPlan,
    stop_at: float,
    counter: list[int],
    lock: threading.Lock,
    out: list[Request],
) -> None:
    """One simulated user: ask, wait for the whole answer, ask the next question, until time is up."""
    from gradio_client import Client
    from gradio_client.utils import Status

    client = Client(url, auth=auth, verbose=False)
    n = user
    try:
        while time.monotonic() < stop_at:
            with lock:
                if plan.max_requests is not None and counter[0] >= plan.max_requests:
                    return
                counter[0] += 1
            client.reset_session()  # a new conversation: no follow-up rewriting of unrelated questions
            req = Request(user, plan.questions[n % len(plan.questions)], time.monotonic())
            n += 1
            out.append(req)
            try:
                # The chat's inputs besides the question: no date range, no article filter.
                job = client.submit(req.question, "", "", [], api_name=API_NAME)
                deadline = stop_at + plan.drain_s
                while not job.done():
                    status = job.status()
                    if status.code == Status.IN_QUEUE and status.rank is not None:
                        req.max_rank = max(req.max_rank or 0, status.rank)
                    if req.started is None and status.code in (Status.PROCESSING, Status.ITERATING, Status.PROGRESS):
                        req.started = time.monotonic()
                    if time.monotonic() > deadline:
                        job.cancel()
                        raise TimeoutError(f"no answer within the {plan.drain_s:.0f} s drain after the run")
                    time.sleep(POLL_S)
                state, text = final_text(job.result(timeout=60))
                req.finished = time.monotonic()
                req.started = req.started or req.finished
                req.answer_chars = len(text)
                req.complete = is_complete(state, text)
                if not req.complete:
                    req.error = f"incomplete answer: {text[:80]!r}"
            except Exception as exc:
                req.finished = time.monotonic()
                req.error = f"{type(exc).__name__}: {exc}"[:200]
                time.sleep(1.0)  # an instant failure must not turn the user into a busy loop
    finally:
        client.close()


def start_server(server: ServerToStart, port: int) -> tuple[subprocess.Popen, Path]:
    """`litopys serve --no-index` over ``server.index_dir`` on a loopback port; its log goes to a temp file."""
    env = dict(os.environ)
    env.update(LITOPYS_INDEX_DIR=str(server.index_dir), HF_HUB_OFFLINE="1")
    if server.llm:
        env["LITOPYS_LLM__MODEL"] = server.llm
    if server.max_tokens:
        env["LITOPYS_LLM__MAX_TOKENS"] = str(server.max_tokens)
    fd, name = tempfile.mkstemp(prefix="litopys-load-", suffix=".log")
    with os.fdopen(fd, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "litopys.cli", "serve", "--no-index", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    return proc, Path(name)


def wait_until_up(url: str, proc: subprocess.Popen | None, log: Path | None, timeout: float) -> None:
    """Return once ``url`` answers; raise if the started server exits or time runs out."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise LitopysError(f"the server exited with {proc.returncode}:\n{log.read_text()[-3000:] if log else ''}")
        try:
            if httpx.get(url + "/", timeout=5).status_code in (200, 401):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise LitopysError(f"the server at {url} did not answer within {timeout:.0f} s")


def stop_server(proc: subprocess.Popen, log: Path) -> None:
    """Terminate the started server (kill it after a minute) and remove its log."""
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.unlink(missing_ok=True)


@contextmanager
def server_at(
    url: str | None, server_pid: int | None, start: ServerToStart | None, startup_timeout_s: float
) -> Iterator[tuple[str, int | None]]:
    """(url, pid) of a server that answers: the running one at ``url`` (loopback only), or one started now."""
    from litopys.ui.server import is_loopback

    proc, log = None, None
    if url:
        host = urlparse(url).hostname or ""
        if not is_loopback(host):
            raise LitopysError(f"refusing to load-test {host}: loopback servers only")
        url, pid = url.rstrip("/"), server_pid
    elif start is not None:
        port = free_port()
        proc, log = start_server(start, port)
        url, pid = f"http://127.0.0.1:{port}", proc.pid
    else:
        raise LitopysError("give the url of a running server or an index to start one over")
    try:
        wait_until_up(url, proc, log, startup_timeout_s)
        yield url, pid
    finally:
        if proc is not None and log is not None:
            stop_server(proc, log)


@dataclass(frozen=True)
class LoadRun:
    """What one load test measured: the summary, every request, and when the users started."""

    summary: dict[str, object]
    requests: list[Request]
    t0: float  # time.monotonic() at the start; request times in ``as_json`` are relative to it

    @property
    def ok(self) -> bool:
        """No request failed and every answer was complete."""
        return self.summary["failures"] == 0 and self.summary["complete_answers"] == self.summary["requests"]

    def as_json(self) -> dict[str, object]:
        """The summary plus every request, its times in seconds since the start."""
        detail = [
            {
                **asdict(r),
                **{
                    k: round(getattr(r, k) - self.t0, 2)
                    for k in ("submitted", "started", "finished")
                    if getattr(r, k) is not None
                },
            }
            for r in self.requests
        ]
        return {**self.summary, "requests_detail": detail}


def drive(url: str, pid: int | None, auth: tuple[str, str] | None, plan: LoadPlan) -> LoadRun:
    """Run ``plan``'s users against ``url`` while sampling the server's memory."""
    rss = RssSampler(pid)
    t0 = time.monotonic()
    sampler = threading.Thread(target=rss.run, args=(t0,), daemon=True)
    sampler.start()
    requests: list[Request] = []
    lock, counter = threading.Lock(), [0]
    stop_at = t0 + plan.duration_s
    users = [
        threading.Thread(target=user_loop, args=(u, url, auth, plan, stop_at, counter, lock, requests))
        for u in range(plan.users)
    ]
    for t in users:
        t.start()
    for t in users:
        t.join()
    wall = time.monotonic() - t0
    rss.stop()
    sampler.join(timeout=10)
    requests.sort(key=lambda r: r.submitted)
    return LoadRun(summarize(requests, rss, plan, wall), requests, t0)


def run_load(
    plan: LoadPlan,
    *,
    url: str | None = None,
    server_pid: int | None = None,
    start: ServerToStart | None = None,
    auth: tuple[str, str] | None = None,
    startup_timeout_s: float = 600,
    say: Callable[[str], None] = lambda s: None,
) -> LoadRun:
    """The load test: against the running server at ``url``, or one started from ``start`` and stopped after.

    ``plan.questions`` must not be empty.
    """
    t_up = time.monotonic()
    with server_at(url, server_pid, start, startup_timeout_s) as (up_url, pid):
        say(f"server {up_url} up after {time.monotonic() - t_up:.1f} s; {plan.users} users for {plan.duration_s:.0f} s")
        return drive(up_url, pid, auth, plan)


def summarize(requests: list[Request], rss: RssSampler, plan: LoadPlan, wall_s: float) -> dict[str, object]:
    """The run's figures: counts, failures by kind, queue wait and latency, server memory."""
    done = [r for r in requests if r.error is None]
    waits = [r.started - r.submitted for r in requests if r.started is not None and r.error is None]
    latencies = [r.finished - r.submitted for r in done if r.finished is not None]
    errors: dict[str, int] = {}
    for r in requests:
        if r.error:
            key = r.error.split(":")[0]
            errors[key] = errors.get(key, 0) + 1
    samples = rss.samples
    third = max(1, len(samples) // 3)

    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 1) if values else None

    def r1(x: float | None) -> float | None:
        return None if x is None or math.isnan(x) else round(x, 1)

    return {
        "users": plan.users,
        "duration_s": plan.duration_s,
        "wall_s": round(wall_s, 1),
        "requests": len(requests),
        "failures": sum(1 for r in requests if r.error),
        "failure_kinds": errors,
        "complete_answers": sum(1 for r in requests if r.complete),
        "answers_per_min": round(60 * len(done) / wall_s, 2) if wall_s else None,
        "queue_wait_s": {
            "p50": r1(percentile(waits, 50)),
            "p95": r1(percentile(waits, 95)),
            "max": r1(max(waits, default=None)),
        },
        "latency_s": {
            "p50": r1(percentile(latencies, 50)),
            "p95": r1(percentile(latencies, 95)),
            "max": r1(max(latencies, default=None)),
        },
        "max_queue_position_seen": max((r.max_rank for r in requests if r.max_rank is not None), default=None),
        "server_rss_mib": {
            "start": r1(samples[0][1]) if samples else None,
            "end": r1(samples[-1][1]) if samples else None,
            "max": r1(max(v for _, v in samples)) if samples else None,
            "first_third_mean": mean([v for _, v in samples[:third]]),
            "last_third_mean": mean([v for _, v in samples[-third:]]),
            "trend_mib_per_min": r1(slope_per_min(samples)),
            # The first minutes include one-time growth (LLM buffers, caches); the second half shows a leak.
            "trend_second_half_mib_per_min": r1(slope_per_min(samples[len(samples) // 2 :])),
            "samples": len(samples),
        },
    }


def print_report(summary: dict[str, object], requests: list[Request]) -> None:
    """One line per request, then the summary as indented JSON."""
    for r in requests:
        wait = f"{r.started - r.submitted:6.1f}" if r.started else "     -"
        total = f"{r.finished - r.submitted:6.1f}" if r.finished else "     -"
        mark = "OK  " if r.complete else "FAIL"
        print(
            f"{mark} user {r.user:2d} wait {wait} s total {total} s pos {r.max_rank if r.max_rank is not None else '-'}"
            f" {r.question[:60]}" + (f" -> {r.error}" if r.error else "")
        )
    print(json.dumps(summary, ensure_ascii=False, indent=2))
