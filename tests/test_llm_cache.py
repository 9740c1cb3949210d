"""The in-process model keeps one KV snapshot per call kind (slot), saved only when another slot takes over."""

from __future__ import annotations

import pytest

from litopys.core.config import load_settings
from litopys.rag.llm import Sampling, complete, open_chat_model

pytestmark = pytest.mark.slow

ANSWER = [{"role": "system", "content": "Відповідай одним словом."}, {"role": "user", "content": "Столиця України?"}]
REWRITE = [{"role": "system", "content": "Перепиши запитання."}, {"role": "user", "content": "А Польщі?"}]


@pytest.fixture(scope="module")
def chat(model_cache):
    settings = load_settings(None, cache_dir=model_cache, llm={"model": "bundled:qwen2.5-coder-0.5b", "n_ctx": 1024})
    return open_chat_model(settings.llm, model_cache)


def test_snapshots_are_taken_on_slot_switches_only(chat, monkeypatch):
    saved, restored = [], []
    original_snapshot, original_restore = chat.snapshot, chat.restore

    def snapshot():
        state = original_snapshot()
        saved.append(state.n_tokens)
        return state

    def restore(state):
        restored.append(state.n_tokens)
        original_restore(state)

    monkeypatch.setattr(chat, "snapshot", snapshot)
    monkeypatch.setattr(chat, "restore", restore)
    one = Sampling(max_tokens=4, temperature=0.0, seed=1)
    chat.forget()
    complete(chat, ANSWER, one, slot="answer")
    complete(chat, ANSWER, one, slot="answer")
    assert saved == [] and restored == []  # consecutive answers share the cache as it is
    answer_tokens = chat.llama.n_tokens
    complete(chat, REWRITE, one, slot="rewrite")
    assert saved == [answer_tokens] and restored == []  # the answer's cache saved before the rewrite
    rewrite_tokens = chat.llama.n_tokens
    complete(chat, ANSWER, one, slot="answer")
    assert saved == [answer_tokens, rewrite_tokens] and restored == [answer_tokens]
    # Without prefix keeping nothing is saved or restored, and the cache belongs to no slot.
    chat.keep_prefix = False
    try:
        complete(chat, REWRITE, one, slot="rewrite")
        complete(chat, ANSWER, one, slot="answer")
    finally:
        chat.keep_prefix = True
    assert len(saved) == 2 and len(restored) == 1
    complete(chat, ANSWER, one, slot="answer")
    assert len(saved) == 2 and restored == [answer_tokens, answer_tokens]  # the kept answer snapshot
