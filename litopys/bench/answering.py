"""Answer-side measurements for `litopys bench`: our ask vs a bare llama.cpp call, the prefix
cache, a new process's first answer, the waiting a user feels, and a naive pipeline
(docs/quality.md's naive baseline, reduced) in the same run."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from litopys.core.config import Settings
from litopys.core.errors import LitopysError
from litopys.index.corpus import Article
from litopys.index.lemmatize import lemmas, query_lemmas
from litopys.index.store import fts_match
from litopys.rag.answer import Answerer
from litopys.rag.followup import Turn, rewrite_messages
from litopys.rag.llm import LlamaCppChat, Sampling, complete
from litopys.rag.prompt import SYSTEM_PROMPT, answer_prefix


@dataclass(frozen=True)
class Timed:
    """One streamed generation: seconds to the first piece, to the end, and pieces (tokens) made."""

    ttft_s: float
    total_s: float
    tokens: int
    prompt_tokens: int = 0
    new_prompt_tokens: int = 0  # the part not shared with the cached prefix (the last user turn)

    @property
    def decode_tps(self) -> float:
        span = self.total_s - self.ttft_s
        return (self.tokens - 1) / span if self.tokens > 1 and span > 0 else float("nan")


def _stream_timed(pieces, started: float) -> Timed:
    first = None
    n = 0
    for _ in pieces:
        n += 1
        if first is None:
            first = time.perf_counter()
    done = time.perf_counter()
    return Timed((first or done) - started, done - started, n)


def bare_call(
    chat: LlamaCppChat, messages: list[dict[str, str]], sampling: Sampling, started: float | None = None
) -> Timed:
    """The reference: llama_cpp.Llama.create_chat_completion streamed on ``messages``, nothing else.

    Times are counted from ``started`` (default: the call).
    """
    started = time.perf_counter() if started is None else started
    chunks = chat.llama.create_chat_completion(
        messages=messages,
        stream=True,
        max_tokens=sampling.max_tokens,
        temperature=sampling.temperature,
        seed=sampling.seed,
        repeat_penalty=sampling.repeat_penalty,
    )
    return _stream_timed((c for c in chunks if c["choices"][0]["delta"].get("content")), started)


@dataclass(frozen=True)
class AskRun:
    """Our ask on one question, and (optionally) the bare call on the identical prompt."""

    question: str
    ours: Timed  # ttft counted from the question (retrieval and prompt building included)
    ours_generation: Timed  # ttft counted from the LLM call, for the decode rate
    bare: Timed | None


def _llama(answerer: Answerer) -> LlamaCppChat:
    """The in-process llama.cpp model behind ``answerer``: the bare-call and cache figures need it."""
    if not isinstance(answerer.llm, LlamaCppChat):
        raise LitopysError("the answering bench needs the in-process llama.cpp backend (llm.backend = 'llama_cpp')")
    return answerer.llm


def ask_vs_bare(answerer: Answerer, questions: Sequence[str], bare_for: int) -> list[AskRun]:
    """Ask each question from the same KV state (system prompt cached from another question);
    for the first ``bare_for`` also run the bare llama.cpp call on the identical prompt from that state."""
    chat = _llama(answerer)
    chat.prime("answer", answer_prefix())
    warm = answerer.prompt_for("Що відомо про погоду?", answerer.retriever.for_answer("Що відомо про погоду?"))
    complete(chat, warm.messages, Sampling(1, 0.0, 0), slot="answer")
    state = chat.snapshot()
    runs = []
    for i, question in enumerate(questions):
        chat.restore(state)
        answer = answerer.ask(question)
        t = answer.timings
        prompt = answerer.prompt_for(answer.rewritten_question or question, answer.passages)
        n_prompt = answerer.count_tokens("\n".join(m["content"] for m in prompt.messages))
        n_new = answerer.count_tokens(prompt.messages[-1]["content"])
        tokens = int(t["completion_tokens"])
        ours = Timed(t["first_token_from_question_s"], t["total_s"], tokens, n_prompt, n_new)
        gen = Timed(t["first_token_s"], t["generation_s"], tokens, n_prompt, n_new)
        bare = None
        if i < bare_for:
            chat.restore(state)
            bare = bare_call(chat, prompt.messages, answerer.sampling)
        runs.append(AskRun(question, ours, gen, bare))
    return runs


@dataclass(frozen=True)
class CacheRun:
    """TTFT of an answer right after a follow-up rewrite ran: prefix re-evaluated vs restored."""

    evicted_s: float
    restored_s: float


def prefix_cache_gain(answerer: Answerer, questions: Sequence[str]) -> list[CacheRun]:
    """For each question: a rewrite call evicts the answer prompt; then answer without and with the snapshot.

    The answer slot's snapshot must come from an earlier answer to a *different* question
    (as in a conversation), so call this after other questions were asked.
    """
    chat = _llama(answerer)
    evict = rewrite_messages("А хто з боку України?", [Turn("Хто очолив делегацію?", "Делегацію очолив посол.")])
    runs = []
    for question in questions:
        complete(chat, evict, Sampling(8, 0.0, 0), slot="rewrite")
        chat.keep_prefix = False  # neither restores nor replaces the answer snapshot
        try:
            evicted = answerer.ask(question).timings["first_token_s"]
        finally:
            chat.keep_prefix = True
        complete(chat, evict, Sampling(8, 0.0, 0), slot="rewrite")
        restored = answerer.ask(question).timings["first_token_s"]
        runs.append(CacheRun(evicted, restored))
    return runs


@dataclass(frozen=True)
class ColdRun:
    """First token of one question: `litopys ask` in new processes (saved prefix loaded, or evaluated) vs warm."""

    question: str
    warm_s: float  # in this process, its prefixes already in memory (a server after its warm-up)
    loaded_s: float
    evaluated_s: float  # llm.save_prefix_cache = false
    loaded_wall_s: float  # the whole process: loading the models, retrieval, the answer
    evaluated_wall_s: float


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment of a `litopys` subprocess that runs with ``settings`` (no other LITOPYS_* variable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITOPYS_")}
    fields = settings.model_dump(mode="json", exclude={"llm": {"api_key"}})
    for name, value in fields.items():  # nested sections as JSON, which pydantic-settings reads back
        env[f"LITOPYS_{name.upper()}"] = json.dumps(value) if isinstance(value, dict | list) else str(value)
    return env


def cold_ask(settings: Settings, question: str) -> tuple[float, float]:
    """(timings.first_token_s, wall seconds) of `litopys ask --json QUESTION` in a new process."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "litopys.cli", "ask", "--json", question],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise LitopysError(f"`litopys ask` failed in the cold-process bench: {proc.stderr.strip()[-300:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])["timings"]["first_token_s"], wall


def cold_vs_warm(answerer: Answerer, settings: Settings, questions: Sequence[str]) -> list[ColdRun]:
    """Each question asked by a warm process (this one), then by new processes with and without the saved prefix.

    Questions refused before generation (nothing stands out) are left out: no LLM call to time.
    """
    chat = _llama(answerer)
    evaluating = settings.model_copy(update={"llm": settings.llm.model_copy(update={"save_prefix_cache": False})})
    runs = []
    for question in questions:
        chat.forget()
        answerer.warm_up()  # as a server after its warm-up; also saves the prefixes if they were not yet
        warm = answerer.ask(question)
        if warm.low_evidence:
            continue
        loaded, loaded_wall = cold_ask(settings, question)
        evaluated, evaluated_wall = cold_ask(evaluating, question)
        runs.append(ColdRun(question, warm.timings["first_token_s"], loaded, evaluated, loaded_wall, evaluated_wall))
    return runs


# --- the naive baseline (docs/quality.md), reduced: paragraph BM25 top 5, no few-shot, 160 tokens ---

NAIVE_MAX_CHARS = 700
NAIVE_TOP = 5
NAIVE_SAMPLING = Sampling(max_tokens=160, temperature=0.1, seed=42)


class NaiveBM25:
    """Lemma-BM25 over paragraphs of up to 700 characters, in an in-memory FTS5 table."""

    def __init__(self, articles: Sequence[Article]) -> None:
        self.conn = sqlite3.connect(":memory:")
        self.conn.execute("CREATE VIRTUAL TABLE p USING fts5(lemmas, title UNINDEXED, text UNINDEXED)")
        rows = []
        for a in articles:
            for para in re.split(r"\n\s*\n|\n", a.body):
                para = para.strip()
                while para:
                    piece, para = para[:NAIVE_MAX_CHARS], para[NAIVE_MAX_CHARS:]
                    rows.append((" ".join(lemmas(piece)), a.title, piece))
        self.conn.executemany("INSERT INTO p VALUES (?, ?, ?)", rows)

    def top(self, question: str, k: int = NAIVE_TOP) -> list[tuple[str, str]]:
        terms = query_lemmas(question)
        if not terms:
            return []
        return self.conn.execute(
            "SELECT title, text FROM p WHERE p MATCH ? ORDER BY bm25(p) LIMIT ?", (fts_match(terms), k)
        ).fetchall()


def naive_answer(chat: LlamaCppChat, bm25: NaiveBM25, question: str) -> Timed:
    """Retrieve and answer the naive way; time from the question to the first and last token.

    The prompt is evaluated in full, as in the naive baseline's measurement (docs/quality.md):
    a pipeline without a cached system prompt. Our snapshots are kept.
    """
    chat.evict()
    started = time.perf_counter()
    passages = bm25.top(question)
    body = "\n\n".join(f"[{n}] {title}\n{text}" for n, (title, text) in enumerate(passages, 1))
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Фрагменти:\n{body}\n\nЗапитання: {question}"},
    ]
    n_prompt = chat.count_tokens("\n".join(m["content"] for m in messages))
    timed = bare_call(chat, messages, NAIVE_SAMPLING, started)
    return Timed(timed.ttft_s, timed.total_s, timed.tokens, n_prompt, n_prompt)
