"""Warming the LLM up at server start: the answer prompt's fixed prefix is evaluated before the first question."""

from __future__ import annotations

import logging
import threading

import pytest

from litopys.core.config import load_settings
from litopys.rag.answer import Answerer
from litopys.rag.llm import Sampling, complete, open_chat_model
from litopys.rag.prompt import build_prompt
from litopys.rag.retrieval import Passage
from litopys.ui.server import start_warm_up

QUESTION = "Хто може очолити російську делегацію на переговорах?"
PASSAGE = Passage(
    1,
    "a.txt",
    "Переговори у Майамі",
    "2025-12-17",
    "За даними інсайдерів, російську делегацію може очолити Кирило Дмитрієв.",
    0,
    70,
    1.0,
)


@pytest.fixture(scope="module")
def answerer(model_cache):
    settings = load_settings(None, cache_dir=model_cache, llm={"model": "bundled:qwen2.5-coder-0.5b"})
    # Warming up needs only the LLM, not an index.
    return Answerer(None, open_chat_model(settings.llm, model_cache), settings.llm)  # type: ignore[arg-type]


@pytest.fixture
def evaluated_prompt_tokens(counting_evals):
    """``evaluated_prompt_tokens(answerer, messages)``: prompt tokens llama.cpp evaluates for ``messages``."""

    def evaluated(answerer: Answerer, messages: list[dict[str, str]]) -> int:
        with counting_evals(answerer.llm.llama) as calls:
            complete(answerer.llm, messages, Sampling(max_tokens=1, temperature=0.0, seed=1), slot="answer")
        return calls[0]  # the first eval call is the prompt

    return evaluated


@pytest.mark.slow
def test_after_the_warm_up_the_first_question_evaluates_only_what_follows_the_fixed_prefix(
    answerer, evaluated_prompt_tokens
):
    messages = build_prompt(QUESTION, [PASSAGE]).messages
    fixed = answerer.count_tokens("".join(m["content"] for m in messages[:-1]))  # system prompt, worked turns
    answerer.llm.forget()  # a fresh server
    cold = evaluated_prompt_tokens(answerer, messages)
    answerer.llm.forget()
    answerer.warm_up()
    warm = evaluated_prompt_tokens(answerer, messages)
    print(f"prompt tokens evaluated by the first question: {cold} cold, {warm} after the warm-up ({fixed} fixed)")
    assert 0 < warm <= cold - fixed  # the passages and the question are still evaluated, the prefix is not


@pytest.mark.slow
def test_a_new_process_warm_up_loads_both_saved_prefixes_instead_of_evaluating_them(answerer, counting_evals):
    answerer.llm.forget()
    answerer.warm_up()  # evaluates and saves both prefixes, unless an earlier run saved them
    assert answerer.llm.prefixes.path("answer").is_file() and answerer.llm.prefixes.path("rewrite").is_file()
    answerer.llm.forget()  # as a new server process starts
    with counting_evals(answerer.llm.llama) as calls:
        answerer.warm_up()
    # The last prefix primed, the overview's (~1,100 tokens), is in the KV cache; the others are set aside.
    assert calls == [] and answerer.llm.llama.n_tokens > 1000


def test_the_warm_up_runs_in_the_background_and_logs_its_start_and_end(caplog):
    release = threading.Event()

    class SlowAnswerer:
        def warm_up(self) -> None:
            release.wait(30)

    with caplog.at_level(logging.INFO, logger="litopys.ui.server"):
        thread = start_warm_up(SlowAnswerer())
        assert thread.is_alive()  # the caller (launch) goes on to serve the page meanwhile
        assert thread.daemon  # and does not wait for it on shutdown
        release.set()
        thread.join(30)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("warm-up: loading or evaluating") for m in messages)
    assert any(m.startswith("warm-up done in") for m in messages)


def test_a_failed_warm_up_is_logged_and_leaves_the_server_running(caplog):
    class BrokenAnswerer:
        def warm_up(self) -> None:
            raise RuntimeError("no model")

    with caplog.at_level(logging.INFO, logger="litopys.ui.server"):
        start_warm_up(BrokenAnswerer()).join(30)
    assert any(r.getMessage() == "warm-up failed" and r.exc_info for r in caplog.records)
    assert not any(r.getMessage().startswith("warm-up done") for r in caplog.records)
