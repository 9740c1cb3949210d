"""A short run of `litopys bench-load`: 4 users through the real server's public API, nothing fails."""

from __future__ import annotations

import json
import shutil

import pytest

pytestmark = pytest.mark.slow


def test_four_users_get_complete_answers_and_see_their_queue_position(
    ner_uk, dev_questions, tmp_path, model_cache, cli_env, run_cli
):
    # The articles the dev questions are about: a small index that still answers them.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for line in dev_questions.read_text(encoding="utf-8").splitlines():
        article = json.loads(line).get("article") if line.strip() else None
        if article:
            shutil.copy(ner_uk / article, corpus / article)
    env = cli_env(corpus, tmp_path / "index", model_cache)
    run_cli(env, "index", "--json")
    proc = run_cli(
        env,
        "--index-dir",
        str(tmp_path / "index"),
        "bench-load",
        "--llm",
        "bundled:qwen2.5-coder-0.5b",
        "--max-tokens",
        "48",
        "--questions",
        str(dev_questions),
        "--users",
        "4",
        "--duration",
        "30",
        "--drain",
        "900",
        "--json",
        check=False,
        timeout=1800,
    )
    assert proc.stdout.strip(), proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    print({k: v for k, v in summary.items() if k != "requests_detail"})
    assert summary["requests"] >= 4
    assert summary["failures"] == 0, summary["failure_kinds"]
    assert summary["complete_answers"] == summary["requests"]
    assert proc.returncode == 0
    # Four users at once with one answer at a time: someone waited and was shown a place in the queue.
    assert summary["max_queue_position_seen"] is not None and summary["max_queue_position_seen"] >= 1
    assert summary["queue_wait_s"]["p95"] > 0
    assert summary["server_rss_mib"]["samples"] > 0 and summary["server_rss_mib"]["max"] > 100
