"""`litopys bench`'s serve section: a fresh server's first answer vs its later ones, through its HTTP API.

Fast tests cover the order of the questions, the figures and their ratios, reading the
server's log, and that a started server is stopped when the section fails. The slow test runs
the section against a real `litopys serve` with the small model over the seed article. No
timing is asserted (the bench prints them).
"""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from litopys.bench import serve_first
from litopys.bench.report import BenchReport
from litopys.bench.serve_first import (
    ServeAnswer,
    ServeRun,
    ask_order,
    has_text,
    serve_env,
    serve_figures,
    serve_first_vs_later,
    warm_up_from_log,
)
from litopys.core.config import load_settings
from litopys.core.errors import LitopysError
from litopys.ui import render
from litopys.ui.strings import strings


def _run(*totals: float, first_texts: tuple[float | None, ...] | None = None) -> ServeRun:
    texts = first_texts or tuple(t / 2 for t in totals)
    answers = [ServeAnswer(f"q{i}", f, t, "done") for i, (t, f) in enumerate(zip(totals, texts, strict=True))]
    return ServeRun(answers, up_s=12.0, asked_after_up_s=0.3, warm_up_s=0.4, prefix="loaded")


def test_the_first_question_is_asked_first_and_again_last():
    assert ask_order(["a", "b", "c"]) == ["a", "b", "c", "a"]
    assert ask_order(["a"]) == ["a", "a"]
    with pytest.raises(LitopysError):
        ask_order([])


def test_first_answer_is_compared_with_the_same_question_again_and_with_the_later_median():
    run = _run(12.0, 4.0, 8.0, 6.0)  # Q1, Q2, Q3, Q1 again
    figures = {f.key: f for f in serve_figures(run, " (subset)")}
    first = figures["serve.first_answer_s"]
    assert (first.value, first.reference) == (12.0, 6.0)
    assert first.ratio == 2.0 and first.met is False
    later = figures["serve.later_answer_median_s"]
    assert later.value == 6.0 and later.reference is None  # median of 4, 8, 6
    vs_median = figures["serve.first_vs_later_median"]
    assert (vs_median.value, vs_median.reference, vs_median.ratio) == (12.0, 6.0, 2.0)
    assert figures["serve.first_text_s"].ratio == 2.0  # 6.0 vs 3.0
    assert "prefix loaded" in first.note and "(subset)" in first.note


def test_a_first_answer_within_the_target_is_met_and_every_figure_reaches_the_json():
    run = _run(6.6, 6.0, 6.0)
    report = BenchReport(True)
    report.add(*serve_figures(run))
    out = report.as_dict()["figures"]
    assert out["serve.first_answer_s"]["met"] is True and out["serve.first_answer_s"]["ratio"] == 1.1
    assert out["serve.first_vs_later_median"]["met"] is True
    assert set(out) == {
        "serve.first_answer_s",
        "serve.later_answer_median_s",
        "serve.first_vs_later_median",
        "serve.first_text_s",
    }


def test_no_first_text_figure_without_a_first_text_time():
    run = _run(6.0, 5.0, first_texts=(None, 2.0))
    assert "serve.first_text_s" not in {f.key for f in serve_figures(run)}


def test_an_unfinished_answer_fails_the_section_instead_of_giving_figures():
    answers = [ServeAnswer("q", 1.0, 2.0, "done"), ServeAnswer("q", None, 1.0, "error")]
    run = ServeRun(answers, 5.0, 0.3, None, "unknown")
    with pytest.raises(LitopysError, match="did not finish"):
        serve_figures(run)


def test_a_failed_section_leaves_a_note_and_the_other_figures(tmp_path, monkeypatch):
    from litopys.bench import suite

    def fail(settings, questions):
        raise LitopysError("serve bench: 1 answers did not finish ('error': 'q')")

    monkeypatch.setattr(serve_first, "serve_first_vs_later", fail)
    report = BenchReport(True)
    suite._serve_figures(report, load_settings(None, index_dir=tmp_path / "index"), ["q"], "")
    assert report.figures == [] and report.notes == [
        "serve first-answer figures missing: serve bench: 1 answers did not finish ('error': 'q')"
    ]


def test_the_servers_warm_up_and_prefix_source_are_read_from_its_log():
    loaded = (
        "INFO litopys.ui.server: warm-up: loading or evaluating the system prompts and worked turns\n"
        "INFO litopys.rag.prefix_cache: loaded the answer prefix (1092 tokens, 30.1 MB) in 0.21 s\n"
        "INFO litopys.ui.server: warm-up done in 0.6 s\n"
    )
    assert warm_up_from_log(loaded) == (0.6, "loaded")
    evaluated = "no saved answer prefix in /c/prefix yet: evaluating it (once)\nwarm-up done in 14.2 s\n"
    assert warm_up_from_log(evaluated) == (14.2, "evaluated")
    assert warm_up_from_log("Running on local URL\n") == (None, "unknown")


def test_the_answers_text_counts_once_it_streams_not_while_thinking():
    s = strings("uk")
    chat = [render.user_message("Хто?", s)]
    thinking = ("", render.chat_html([*chat, render.thinking_message("k", s)], s), "")
    streaming = ("", render.chat_html([*chat, render.streaming_message("Посол", "k", s)], s), "")
    assert not has_text(thinking)
    assert has_text(streaming)


def test_the_server_runs_on_loopback_without_login_or_watching(tmp_path):
    settings = load_settings(
        None,
        index_dir=tmp_path / "index",
        server={"host": "0.0.0.0", "auth_user": "u", "auth_password": "secret-pw", "allow_anonymous": True},
        watch={"enabled": True},
    )
    env = serve_env(settings)
    assert "secret-pw" not in "".join(env.values()) and '"auth_user": null' in env["LITOPYS_SERVER"]
    assert '"enabled": false' in env["LITOPYS_WATCH"]
    assert env["LITOPYS_INDEX_DIR"] == str(tmp_path / "index") and env["HF_HUB_OFFLINE"] == "1"


def test_a_started_server_is_stopped_when_the_section_fails(tmp_path, monkeypatch):
    """A stand-in server (a plain HTTP server, not Gradio): its page answers, the API client then fails."""
    started: list[subprocess.Popen] = []

    def fake_start(settings, port):
        log = tmp_path / "serve.log"
        with open(log, "w") as fh:
            proc = subprocess.Popen(
                [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                cwd=tmp_path,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        started.append(proc)
        return proc, log

    monkeypatch.setattr(serve_first, "start_serve", fake_start)
    with pytest.raises(ValueError, match="Gradio config"):  # gradio_client, on a page without the app
        serve_first_vs_later(load_settings(None, index_dir=tmp_path / "index"), ["Хто?"])
    assert started and started[0].poll() is not None  # stopped, not left running


@pytest.mark.slow
def test_the_section_asks_a_real_server_and_stops_it(tmp_path, model_cache, make_workspace, seed, monkeypatch):
    make_workspace(tmp_path, model_cache)  # the seed article indexed under tmp_path
    settings = load_settings(
        None,
        corpus_dir=tmp_path / "corpus",
        index_dir=tmp_path / "index",
        cache_dir=model_cache,
        llm={"model": "bundled:qwen2.5-coder-0.5b", "max_tokens": 48},
        retrieval={"top_k": 2},
    )
    started: list[tuple[subprocess.Popen, int]] = []
    real_start = serve_first.start_serve

    def start(settings, port):
        proc, log = real_start(settings, port)
        started.append((proc, port))
        return proc, log

    monkeypatch.setattr(serve_first, "start_serve", start)
    questions = [seed.question, "Хто очолить делегацію в Майамі?"]
    run = serve_first_vs_later(settings, questions)
    assert [a.question for a in run.answers] == [*questions, seed.question]
    assert all(a.state == "done" and a.total_s > 0 for a in run.answers)
    assert all(a.first_text_s is not None and a.first_text_s <= a.total_s for a in run.answers)
    assert run.prefix in ("loaded", "evaluated")  # read from the server's log
    keys = {f.key for f in serve_figures(run)}
    assert {"serve.first_answer_s", "serve.later_answer_median_s", "serve.first_vs_later_median"} <= keys
    proc, port = started[0]
    assert proc.poll() is not None  # stopped at the end
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
