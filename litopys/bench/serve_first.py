"""Serve's first answer vs its later ones, asked through the chat's HTTP API (issue 16, `litopys bench`).

Data flow: the bench's settings (index, model, prompt) -> a `litopys serve --no-index` subprocess on
a free loopback port, configured through its environment (``settings_env``) -> wait until its page
answers, not for its warm-up: the server loads or evaluates the prompt prefixes in the background,
and a user would not wait for that either -> one gradio_client session asks Q1, Q2..Qn, then Q1
again on the chat's ``/respond`` endpoint (the browser's), each in a new conversation -> for each
answer, the seconds from the request to its first streamed text and to the final answer
(``ServeAnswer``) -> ``ServeRun`` -> figures: the first answer vs the same question asked again
later, and vs the median of all later answers (target <= 1.2). The server is stopped at the end,
also when anything fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from litopys.bench.answering import settings_env
from litopys.bench.load import API_NAME, final_text, stop_server, wait_until_up
from litopys.bench.report import Figure
from litopys.core.config import Settings
from litopys.core.errors import LitopysError
from litopys.core.net import free_port

POLL_S = 0.02  # how often the answer's outputs are read: the resolution of the first-text time
ANSWER_TIMEOUT_S = 1800.0
STARTUP_TIMEOUT_S = 900.0
TARGET = "<= 1.2"


@dataclass(frozen=True)
class ServeAnswer:
    """One answer from the server, timed from the request as the client sees it."""

    question: str
    first_text_s: float | None  # to the first output whose answer has text (None: none came)
    total_s: float  # to the final output
    state: str  # the final answer's state in the chat ("done", "error", ...)


@dataclass(frozen=True)
class ServeRun:
    """A server's answers in the order asked: Q1, Q2..Qn, Q1 again; and how it started."""

    answers: list[ServeAnswer]
    up_s: float  # process start to the page answering
    asked_after_up_s: float  # the page answering to Q1 sent (the API client connecting meanwhile)
    warm_up_s: float | None  # the server's own background warm-up, from its log
    prefix: str  # "loaded" (the saved prefix cache), "evaluated" or "unknown", from its log

    @property
    def first(self) -> ServeAnswer:
        return self.answers[0]

    @property
    def later(self) -> list[ServeAnswer]:
        return self.answers[1:]

    @property
    def first_again(self) -> ServeAnswer:
        """Q1 asked last: the same question and answer as the first one, in a warm server."""
        return self.answers[-1]


def ask_order(questions: Sequence[str]) -> list[str]:
    """Q1, Q2..Qn, then Q1 again (so the first question is also timed warm)."""
    if not questions:
        raise LitopysError("the serve bench needs at least one question")
    return [*questions, questions[0]]


def serve_env(settings: Settings) -> dict[str, str]:
    """The server's environment: ``settings`` on loopback, no login (the bench's own client), no watching."""
    server = settings.server.model_copy(update={"auth_user": None, "auth_password": None, "allow_anonymous": False})
    watch = settings.watch.model_copy(update={"enabled": False})  # no index sync competing for the cores
    env = settings_env(settings.model_copy(update={"server": server, "watch": watch}))
    env["HF_HUB_OFFLINE"] = "1"
    return env


def start_serve(settings: Settings, port: int) -> tuple[subprocess.Popen, Path]:
    """`litopys serve --no-index` over the settings' index on 127.0.0.1:``port``; its log goes to a temp file."""
    fd, name = tempfile.mkstemp(prefix="litopys-bench-serve-", suffix=".log")
    with os.fdopen(fd, "w") as fh:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "litopys.cli", "serve", "--no-index", "--host", "127.0.0.1", "--port", str(port)],
            env=serve_env(settings),
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    return proc, Path(name)


def warm_up_from_log(text: str) -> tuple[float | None, str]:
    """(seconds of the server's warm-up, "loaded" / "evaluated" / "unknown") from its log (ui/server.py, rag/)."""
    done = re.search(r"warm-up done in ([0-9.]+) s", text)
    if re.search(r"loaded the answer prefix", text):
        prefix = "loaded"
    elif re.search(r"answer prefix .*evaluating it", text):
        prefix = "evaluated"
    else:
        prefix = "unknown"
    return (float(done.group(1)) if done else None), prefix


def has_text(output) -> bool:
    """Whether a /respond output shows the answer's text (streaming or final), not the thinking dots."""
    state, text = final_text(output)
    return state != "thinking" and bool(text.strip())


def timed_answer(client, question: str) -> ServeAnswer:
    """Ask ``question`` in a new conversation; time the first output with text and the final one."""
    client.reset_session()  # a new conversation: no follow-up rewriting against the previous answer
    started = time.perf_counter()
    # The chat's inputs besides the question: no date range, no article filter (as bench/load.py).
    job = client.submit(question, "", "", [], api_name=API_NAME)
    first: float | None = None
    seen = 0
    deadline = started + ANSWER_TIMEOUT_S
    while True:
        finished = job.done()  # read before the outputs, so none that came before the end is missed
        outputs = job.outputs()
        if first is None and any(has_text(o) for o in outputs[seen:]):
            first = time.perf_counter() - started
        seen = len(outputs)
        if finished:
            break
        if time.perf_counter() > deadline:
            # Best effort: a server this slow may not answer the cancel either; it is stopped next.
            with contextlib.suppress(Exception):
                job.cancel()
            raise LitopysError(f"serve bench: no answer within {ANSWER_TIMEOUT_S:.0f} s to {question!r}")
        time.sleep(POLL_S)
    result = job.result(timeout=60)
    total = time.perf_counter() - started
    state, _ = final_text(result)
    return ServeAnswer(question, first, total, state)


def serve_first_vs_later(settings: Settings, questions: Sequence[str]) -> ServeRun:
    """Start a server over the bench's index, ask ``ask_order(questions)`` through its API, stop it."""
    from gradio_client import Client

    order = ask_order(questions)
    port = free_port()
    started = time.perf_counter()
    proc, log = start_serve(settings, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc, log, STARTUP_TIMEOUT_S)
        up = time.perf_counter()
        client = Client(url, verbose=False)
        try:
            asked_after_up_s = time.perf_counter() - up
            answers = [timed_answer(client, q) for q in order]
        finally:
            client.close()
        warm_up_s, prefix = warm_up_from_log(log.read_text(errors="replace"))
    finally:
        stop_server(proc, log)  # terminate, kill after a minute; removes the log
    return ServeRun(answers, up - started, asked_after_up_s, warm_up_s, prefix)


def serve_figures(run: ServeRun, subset: str = "") -> list[Figure]:
    """The first answer vs Q1 asked again and vs the median of the later answers; the first text likewise."""
    bad = [a for a in run.answers if a.state != "done"]
    if bad:
        raise LitopysError(f"serve bench: {len(bad)} answers did not finish ({bad[0].state!r}: {bad[0].question!r})")
    later = [a.total_s for a in run.later]
    later_median = median(later)
    started = (
        f"server page up {run.up_s:.1f} s after start, Q1 sent {run.asked_after_up_s:.1f} s later; "
        "its background warm-up "
        + (f"{run.warm_up_s:.1f} s" if run.warm_up_s is not None else "not finished or not logged")
        + f", prefix {run.prefix}"
    )
    asked = f"Q1, Q2..Q{len(run.answers) - 1}, Q1 again{subset}, each in a new conversation via /respond"
    figures = [
        Figure(
            "serve.first_answer_s",
            "serve's first answer (Q1 right after the page is up), complete",
            run.first.total_s,
            "s",
            run.first_again.total_s,
            "the same question asked again last",
            TARGET,
            f"{asked}; {started}",
        ),
        Figure(
            "serve.later_answer_median_s",
            "serve's later answers, complete, median",
            later_median,
            "s",
            note=f"{len(later)} answers (Q2..Qn and Q1 again); max {max(later):.1f} s",
        ),
        Figure(
            "serve.first_vs_later_median",
            "serve's first answer vs the median of its later answers",
            run.first.total_s,
            "s",
            later_median,
            "median of the later answers",
            TARGET,
            "other questions: their answers' lengths differ from Q1's",
        ),
    ]
    again = run.first_again.first_text_s
    if run.first.first_text_s is not None and again is not None:
        figures.append(
            Figure(
                "serve.first_text_s",
                "serve's first answer, first text shown",
                run.first.first_text_s,
                "s",
                again,
                "the same question asked again last",
                "",
                f"from the request to the first streamed output with text, polled every {POLL_S * 1000:.0f} ms",
            )
        )
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    """This section alone, over an existing index: ``python -m litopys.bench.serve_first --questions F``."""
    import argparse
    import json

    from litopys.core.config import load_settings
    from litopys.rag.evaluation import load_questions

    parser = argparse.ArgumentParser(description="Serve's first answer vs its later ones (settings from LITOPYS_*).")
    parser.add_argument("--questions", type=Path, required=True, help="JSON-lines question file")
    parser.add_argument("-n", type=int, default=3, help="ask the first N questions, then the first again")
    args = parser.parse_args(argv)
    settings = load_settings(None)
    run = serve_first_vs_later(settings, [q.question for q in load_questions(args.questions, args.n)])
    for figure in serve_figures(run):
        print(json.dumps(figure.__dict__, ensure_ascii=False))


if __name__ == "__main__":
    main()
