"""The prefix cache: evaluated prompt prefixes saved on disk, checked before use, rebuilt when unusable.

Fast tests cover the file format, its key and checks, and the atomic write; slow ones (the
small bundled model) check that a load skips the prefix's evaluation and never changes an answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
import subprocess
import sys
import textwrap
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

from litopys.core.config import ChecksSettings, LLMSettings, load_settings
from litopys.core.integrity import write_atomic
from litopys.rag import gguf
from litopys.rag.answer import Answerer
from litopys.rag.answerable import answerable_prefix
from litopys.rag.followup import Turn, rewrite_prefix
from litopys.rag.gguf import BUNDLED_LLMS, model_sha256
from litopys.rag.llm import Sampling, complete, open_chat_model
from litopys.rag.prefix_cache import (
    MAGIC,
    PrefixStore,
    SavedPrefix,
    UnusablePrefix,
    decode,
    encode,
    messages_sha256,
)
from litopys.rag.prompt import answer_prefix, build_overview_prompt, build_prompt, overview_prefix
from litopys.rag.retrieval import WARM_UP_QUESTION, Passage

SMALL = "bundled:qwen2.5-coder-0.5b"
PREFIX = [
    {"role": "system", "content": "Відповідай одним реченням, лише за фрагментом."},
    {"role": "user", "content": "Фрагмент: Столиця Франції — Париж.\nЗапитання: Столиця Франції?"},
    {"role": "assistant", "content": "Париж."},
    {"role": "user", "content": ""},
]
QUESTION = [
    *PREFIX[:-1],
    {"role": "user", "content": "Фрагмент: Столиця Польщі — Варшава.\nЗапитання: Що це за місто?"},
]
# Sampled, not greedy: the same text must come from the same seed, whatever the KV cache came from.
SAMPLING = Sampling(max_tokens=24, temperature=0.8, seed=7)


def store(folder: Path) -> PrefixStore:
    return PrefixStore(folder, "ab" * 32, 1024, 512, False)


def saved(n: int = 5) -> SavedPrefix:
    return SavedPrefix(np.arange(100, 100 + n, dtype=np.intc), bytes(range(256)) * 3)


# --- the file: format, key, checks (fast) ---------------------------------------------------------


def test_a_saved_prefix_reads_back_as_it_was_written(tmp_path):
    s = store(tmp_path)
    s.save("answer", PREFIX, saved())
    back = s.load("answer", PREFIX)
    assert back is not None
    assert back.tokens.tolist() == saved().tokens.tolist() and back.state == saved().state


@pytest.mark.parametrize("where", [len(b"LITOPYS"), 60, -1], ids=["magic", "header", "state"])
def test_a_damaged_byte_anywhere_is_detected(where):
    key = store(Path("x")).key(PREFIX)
    data = bytearray(encode(key, saved()))
    data[where] ^= 0x01
    with pytest.raises(UnusablePrefix, match="checksum|magic"):
        decode(bytes(data), key)


@pytest.mark.parametrize("keep", [0, 10, 40, -1])
def test_a_truncated_file_is_detected(keep):
    key = store(Path("x")).key(PREFIX)
    data = encode(key, saved())
    with pytest.raises(UnusablePrefix):
        decode(data[:keep], key)


@pytest.mark.parametrize(
    "field, value",
    [
        ("model_sha256", "cd" * 32),
        ("n_ctx", 2048),
        ("n_batch", 256),
        ("flash_attn", True),
        ("llama_cpp", "0.0.1"),
        ("build", "00"),
    ],
)
def test_a_file_made_for_another_key_is_stale_and_says_what_differs(field, value):
    key = store(Path("x")).key(PREFIX)
    with pytest.raises(UnusablePrefix, match=f"stale.*{field}"):
        decode(encode(replace(key, **{field: value}), saved()), key)


def test_a_file_from_before_a_key_field_existed_is_stale_and_names_the_field():
    key = store(Path("x")).key(PREFIX)
    older = {f: v for f, v in asdict(key).items() if f != "flash_attn"}
    header = json.dumps({"key": older, "n_tokens": 2, "state_bytes": 3}).encode("utf-8")
    body = b"".join([struct.pack("<Q", len(header)), header, np.array([1, 2], "<i4").tobytes(), b"abc"])
    with pytest.raises(UnusablePrefix, match=r"stale \(made by an older version, without flash_attn\)"):
        decode(MAGIC + hashlib.sha256(body).digest() + body, key)


def test_the_key_follows_the_prompt_text():
    s = store(Path("x"))
    changed = [*PREFIX[:1], {"role": "user", "content": PREFIX[1]["content"] + " "}, *PREFIX[2:]]
    assert s.key(PREFIX) == s.key([dict(m) for m in PREFIX])
    assert s.key(PREFIX).prefix_sha256 != s.key(changed).prefix_sha256
    assert messages_sha256(answer_prefix()) != messages_sha256(rewrite_prefix())
    assert messages_sha256(overview_prefix()) not in {
        messages_sha256(answer_prefix()),
        messages_sha256(rewrite_prefix()),
    }


def test_the_file_is_named_by_slot_model_and_context(tmp_path):
    s = store(tmp_path)
    assert s.path("answer") != s.path("rewrite")
    assert s.path("answer") != PrefixStore(tmp_path, "cd" * 32, 1024, 512, False).path("answer")
    assert s.path("answer") != PrefixStore(tmp_path, "ab" * 32, 2048, 512, False).path("answer")


@pytest.mark.parametrize("damage", ["missing", "flipped", "truncated", "stale"])
def test_the_store_logs_why_it_cannot_use_a_file_and_returns_nothing(tmp_path, caplog, damage):
    s = store(tmp_path)
    s.save("answer", PREFIX, saved())
    path = s.path("answer")
    if damage == "missing":
        path.unlink()
    elif damage == "flipped":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:-100])
    else:
        path.write_bytes(encode(replace(s.key(PREFIX), prefix_sha256="0" * 64), saved()))
    with caplog.at_level(logging.INFO, logger="litopys.rag.prefix_cache"):
        assert s.load("answer", PREFIX) is None
    said = " ".join(r.getMessage() for r in caplog.records)
    expected = {"missing": "no saved answer prefix", "flipped": "checksum", "truncated": "checksum"}
    assert expected.get(damage, "stale (made for another prefix_sha256)") in said


def test_an_unwritable_folder_is_logged_not_raised(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="litopys.rag.prefix_cache"):
        store(blocker / "prefix").save("answer", PREFIX, saved())
    assert any("could not save the answer prefix" in r.getMessage() for r in caplog.records)


def test_an_interrupted_write_leaves_the_old_file_whole_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "answer.kv"
    write_atomic(target, b"old contents")

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"new contents that never land")
    assert target.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["answer.kv"]


def test_the_model_hash_is_the_bundled_one_the_configured_one_or_the_file_hashed_once(tmp_path, monkeypatch):
    llm = load_settings(None, llm={"model": SMALL}).llm
    assert model_sha256(llm, tmp_path / "unused.gguf", tmp_path) == BUNDLED_LLMS[SMALL].sha256
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF model bytes")
    given = load_settings(None, llm={"model": str(model), "sha256": "AB" * 32}).llm
    assert model_sha256(given, model, tmp_path) == "ab" * 32
    local = load_settings(None, llm={"model": str(model)}).llm
    hashed = []
    real = gguf.file_sha256
    monkeypatch.setattr(gguf, "file_sha256", lambda p: hashed.append(p) or real(p))
    first = model_sha256(local, model, tmp_path / "memo")
    assert model_sha256(local, model, tmp_path / "memo") == first and len(hashed) == 1  # remembered
    model.write_bytes(b"GGUF other model bytes")
    assert model_sha256(local, model, tmp_path / "memo") != first and len(hashed) == 2  # changed: hashed again


class Recorder:
    """An LLM that records what the pipeline asks of it, in order: the wiring is tested here, not a model."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def prime(self, slot, prefix) -> None:
        self.calls.append(("prime", slot, messages_sha256(prefix)))

    def stream(self, messages, sampling, slot=None):
        self.calls.append(("stream", slot))
        yield "Відповідь [1]."

    def count_tokens(self, text: str) -> int:
        return len(text) // 3


def test_answers_rewrites_and_the_warm_up_prime_their_slots_first(make_retriever, tiny_embedder):
    llm = Recorder()
    answer, rewrite = (
        ("prime", "answer", messages_sha256(answer_prefix())),
        ("prime", "rewrite", messages_sha256(rewrite_prefix())),
    )
    with make_retriever({}, tiny_embedder) as retriever:
        retriever.settings = retriever.settings.model_copy(update={"min_answer_score": 0.0})  # always ask the LLM
        answerer = Answerer(retriever, llm, LLMSettings())
        answerer.ask("А скільки він отримав?", [Turn("Хто переміг на виборах?", "Переміг Кличко.")])
        assert llm.calls == [rewrite, ("stream", "rewrite"), answer, ("stream", "answer")]
        llm.calls.clear()
        searched: list[str] = []
        search = retriever.evidence
        retriever.evidence = lambda question, *a, **k: searched.append(question) or search(question, *a, **k)
        answerer.warm_up()
        # The overview's after the answer's: a question asked during the warm-up waits less.
        overview = ("prime", "overview", messages_sha256(overview_prefix()))
        check = ("prime", "answerable", messages_sha256(answerable_prefix()))
        assert llm.calls == [rewrite, answer, check, overview]
        assert searched == [WARM_UP_QUESTION]  # the retrieval path runs once too (lemmatizer, embedder, pages)
        llm.calls.clear()
        Answerer(retriever, llm, LLMSettings(), checks=ChecksSettings(min_answerable_p=0.0)).warm_up()
        assert llm.calls == [rewrite, answer, overview]  # no check, no check prompt


# --- with the small model (slow) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory, model_cache):
    """An empty prefix cache beside the user's assembled models."""
    folder = tmp_path_factory.mktemp("cache")
    (folder / "models").symlink_to(model_cache / "models", target_is_directory=True)
    return folder


@pytest.fixture(scope="module")
def settings(cache_dir):
    return load_settings(None, cache_dir=cache_dir, llm={"model": SMALL, "n_ctx": 1024})


@pytest.fixture(scope="module")
def chat(settings):
    return open_chat_model(settings.llm, settings.cache_dir)


@pytest.fixture(scope="module")
def reference(chat, counting_evals):
    """Without the prefix cache: the answer's text, and the evals of its prompt and of the prefix."""
    prefixes, chat.prefixes = chat.prefixes, None
    try:
        chat.forget()
        with counting_evals(chat.llama) as prefix_evals:
            chat.prime("answer", PREFIX)
        with counting_evals(chat.llama) as answer_evals:
            text = complete(chat, QUESTION, SAMPLING, slot="answer")
    finally:
        chat.prefixes = prefixes
    assert text.strip()
    return text, answer_evals[0], sum(prefix_evals)


@pytest.mark.slow
def test_a_saved_prefix_is_loaded_not_evaluated_and_the_answer_is_the_same(chat, reference, counting_evals):
    text, answer_prompt_evals, prefix_tokens = reference
    chat.prefixes.path("answer").unlink(missing_ok=True)
    chat.forget()
    with counting_evals(chat.llama) as evals:
        chat.prime("answer", PREFIX)  # nothing saved yet: evaluated, then saved
    assert sum(evals) == prefix_tokens > 0 and chat.prefixes.path("answer").is_file()
    assert complete(chat, QUESTION, SAMPLING, slot="answer") == text
    chat.forget()  # as a new process would start
    with counting_evals(chat.llama) as evals:
        chat.prime("answer", PREFIX)
    assert evals == [] and chat.llama.n_tokens == prefix_tokens  # loaded: nothing evaluated
    with counting_evals(chat.llama) as evals:
        assert complete(chat, QUESTION, SAMPLING, slot="answer") == text
    assert evals[0] == answer_prompt_evals < prefix_tokens  # only what follows the shared prefix


@pytest.mark.slow
def test_a_fresh_process_loads_the_saved_prefix_and_writes_the_same_answer(chat, settings, reference):
    chat.forget()
    chat.prime("answer", PREFIX)  # saved (or already there)
    script = textwrap.dedent(
        f"""
        import json
        from litopys.core.config import load_settings
        from litopys.rag.llm import Sampling, complete, open_chat_model
        settings = load_settings(None, **json.loads({settings.model_dump_json(include={"cache_dir", "llm"})!r}))
        chat = open_chat_model(settings.llm, settings.cache_dir)
        evaluated = []
        eval_tokens = chat.llama.eval
        chat.llama.eval = lambda tokens: evaluated.append(len(tokens)) or eval_tokens(tokens)
        chat.prime("answer", {PREFIX!r})
        primed = list(evaluated)
        text = complete(chat, {QUESTION!r}, Sampling(**{SAMPLING.__dict__!r}), slot="answer")
        print(json.dumps({{"primed": primed, "text": text}}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {"primed": [], "text": reference[0]}


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["flipped", "truncated", "stale", "refused by llama.cpp"])
def test_an_unusable_saved_prefix_is_evaluated_again_and_replaced(chat, reference, damage, caplog, counting_evals):
    text, _, prefix_tokens = reference
    chat.forget()
    chat.prime("answer", PREFIX)
    path = chat.prefixes.path("answer")
    good = decode(path.read_bytes(), chat.prefixes.key(PREFIX))
    if damage == "flipped":
        data = bytearray(path.read_bytes())
        data[-1000] ^= 0x10  # inside the KV cache bytes
        path.write_bytes(bytes(data))
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    elif damage == "stale":
        path.write_bytes(encode(replace(chat.prefixes.key(PREFIX), llama_cpp="0.0.1"), good))
    else:  # whole and well keyed, but not a state llama.cpp can take
        path.write_bytes(encode(chat.prefixes.key(PREFIX), replace(good, state=good.state[:64])))
    chat.forget()
    with caplog.at_level(logging.WARNING), counting_evals(chat.llama) as evals:
        chat.prime("answer", PREFIX)
    assert sum(evals) == prefix_tokens  # evaluated, not trusted
    reason = {"flipped": "checksum", "truncated": "checksum", "stale": "stale (made for another llama_cpp)"}
    assert reason.get(damage, "llama.cpp refused the saved answer prefix") in caplog.text
    assert complete(chat, QUESTION, SAMPLING, slot="answer") == text
    chat.forget()  # the file was replaced by a good one: loaded next time, same answer
    with counting_evals(chat.llama) as evals:
        chat.prime("answer", PREFIX)
    assert evals == [] and complete(chat, QUESTION, SAMPLING, slot="answer") == text


@pytest.mark.slow
def test_a_prefix_saved_with_flash_attention_is_not_loaded_without_it(
    chat, settings, reference, caplog, counting_evals
):
    """The two lay out the KV cache differently: the other's bytes would load and answer wrongly."""
    text, _, prefix_tokens = reference
    assert not settings.llm.flash_attn  # the default this module's ``chat`` runs with
    flash = open_chat_model(settings.llm.model_copy(update={"flash_attn": True}), settings.cache_dir)
    flash.prime("answer", PREFIX)  # saved, made for flash_attn True
    del flash
    chat.forget()
    with caplog.at_level(logging.WARNING), counting_evals(chat.llama) as evals:
        chat.prime("answer", PREFIX)
    assert sum(evals) == prefix_tokens  # evaluated, not loaded
    assert "stale (made for another flash_attn)" in caplog.text
    assert complete(chat, QUESTION, SAMPLING, slot="answer") == text


# The overview prompt's own prefix (rag/prompt.py overview_prefix) in its own slot, primed by the warm-up too.
OVERVIEW_PASSAGES = [
    Passage(1, "a.txt", "Переговори у Майамі", "2024-11-13", "У Майамі почалися переговори делегацій.", 0, 40, 1.0),
    Passage(
        2, "b.txt", "Переговори у Майамі", "2024-11-14", "Делегації домовилися зустрітися знову в грудні.", 0, 46, 0.9
    ),
]
OVERVIEW = build_overview_prompt("Що відомо про переговори в Майамі?", OVERVIEW_PASSAGES).messages
ANSWER = build_prompt("Коли делегації зустрінуться знову?", OVERVIEW_PASSAGES[1:]).messages


@pytest.fixture(scope="module")
def wide_chat(cache_dir):
    """The small model with room for the real prompts (the answer prefix alone is ~1,100 tokens)."""
    settings = load_settings(None, cache_dir=cache_dir, llm={"model": SMALL, "n_ctx": 4096})
    return Answerer(None, open_chat_model(settings.llm, settings.cache_dir), settings.llm)  # type: ignore[arg-type]


@pytest.mark.slow
def test_the_overview_prefix_is_saved_loaded_not_evaluated_and_the_overview_is_the_same(wide_chat, counting_evals):
    chat = wide_chat.llm
    prefixes, chat.prefixes = chat.prefixes, None
    try:  # the reference: evaluated, with no prefix cache
        chat.forget()
        with counting_evals(chat.llama) as evals:
            chat.prime("overview", overview_prefix())
        prefix_tokens = sum(evals)
        text = complete(chat, OVERVIEW, SAMPLING, slot="overview")
    finally:
        chat.prefixes = prefixes
    assert text.strip() and prefix_tokens > 0
    chat.prefixes.path("overview").unlink(missing_ok=True)
    chat.forget()
    with counting_evals(chat.llama) as evals:
        chat.prime("overview", overview_prefix())  # nothing saved yet: evaluated, then saved
    assert sum(evals) == prefix_tokens and chat.prefixes.path("overview").is_file()
    assert chat.prefixes.path("overview") not in {chat.prefixes.path("answer"), chat.prefixes.path("rewrite")}
    chat.forget()  # as a new process would start
    with counting_evals(chat.llama) as evals:
        chat.prime("overview", overview_prefix())
    assert evals == [] and chat.llama.n_tokens == prefix_tokens  # loaded: nothing evaluated
    with counting_evals(chat.llama) as evals:
        assert complete(chat, OVERVIEW, SAMPLING, slot="overview") == text
    assert 0 < evals[0] < prefix_tokens  # only the passages and the question


@pytest.mark.slow
def test_after_a_warm_up_from_the_cache_answer_and_overview_evaluate_only_their_own_parts(wide_chat, counting_evals):
    chat = wide_chat.llm
    chat.forget()
    wide_chat.warm_up()  # evaluates and saves what is not saved yet
    assert all(chat.prefixes.path(slot).is_file() for slot in ("rewrite", "answer", "overview"))
    answer, overview = (
        complete(chat, ANSWER, SAMPLING, slot="answer"),
        complete(chat, OVERVIEW, SAMPLING, slot="overview"),
    )
    chat.forget()  # as a new server process starts
    with counting_evals(chat.llama) as evals:
        wide_chat.warm_up()
    assert evals == []  # all three loaded, none evaluated
    fixed = {
        slot: len(chat.prefixes.load(slot, prefix).tokens)
        for slot, prefix in (("answer", answer_prefix()), ("overview", overview_prefix()))
    }
    with counting_evals(chat.llama) as evals:
        assert complete(chat, ANSWER, SAMPLING, slot="answer") == answer  # first: restored from its snapshot
    assert 0 < evals[0] < fixed["answer"]
    with counting_evals(chat.llama) as evals:
        assert complete(chat, OVERVIEW, SAMPLING, slot="overview") == overview
    assert 0 < evals[0] < fixed["overview"]
