"""The answering LLM behind one small interface: in-process llama.cpp, or an OpenAI-compatible server.

``Answerer`` and the follow-up rewriter only need streamed chat completion and
token counting, so a team can point many chat servers at one llama.cpp server
or a vLLM cluster (``llm.backend = "openai"``) without touching the pipeline.

The in-process backend keeps the evaluated prompt prefix (system prompt and
few-shot turns) across calls of different kinds: llama.cpp reuses only the
longest common token prefix with the *previous* prompt, so a follow-up rewrite
(another system prompt) would evict it and the next answer would pay for the
whole prefix again. Each call kind ("slot") keeps a snapshot of its last
KV cache and restores it when another kind ran in between.
"""

from __future__ import annotations

import ctypes
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from litopys.core.config import LLMSettings
from litopys.core.errors import ModelUnavailableError

log = logging.getLogger(__name__)

Messages = Sequence[dict[str, str]]


@dataclass(frozen=True)
class Sampling:
    """Generation parameters shared by both backends."""

    max_tokens: int
    temperature: float
    seed: int
    # Answers copy names and numbers from the passages; a repeat penalty would fight that.
    repeat_penalty: float = 1.0


class ChatModel(Protocol):
    """What the pipeline needs from an LLM."""

    def stream(self, messages: Messages, sampling: Sampling, slot: str | None = None) -> Iterator[str]:
        """Yield the answer text piece by piece (one token per piece where the backend allows)."""

    def count_tokens(self, text: str) -> int:
        """Length of ``text`` in the model's tokens."""


def complete(model: ChatModel, messages: Messages, sampling: Sampling, slot: str | None = None) -> str:
    """The whole completion as one string."""
    return "".join(model.stream(messages, sampling, slot))


class LlamaCppChat:
    """An in-process llama.cpp model with per-slot prompt KV snapshots."""

    def __init__(self, llama, *, keep_prefix: bool = True) -> None:
        self.llama = llama
        self.keep_prefix = keep_prefix
        self._snapshots: dict[str, object] = {}
        self._holder: str | None = None  # the slot whose tokens the KV cache holds now

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, messages: Messages, sampling: Sampling, slot: str | None = None) -> Iterator[str]:
        if self.keep_prefix and slot and self._holder != slot:
            # Saved only when another slot takes the model over: consecutive answers share the
            # cache as it is, and no answer waits for a copy of the KV cache after its last token.
            if self._holder is not None:
                self._snapshots[self._holder] = self.snapshot()
            if slot in self._snapshots:
                self.restore(self._snapshots[slot])
        # Without prefix keeping, the cache belongs to no slot: it is neither saved nor restored.
        self._holder = slot if self.keep_prefix else None
        chunks = self.llama.create_chat_completion(
            messages=list(messages),
            stream=True,
            max_tokens=sampling.max_tokens,
            temperature=sampling.temperature,
            seed=sampling.seed,
            repeat_penalty=sampling.repeat_penalty,
        )
        for chunk in chunks:
            piece = chunk["choices"][0]["delta"].get("content") or ""
            if piece:
                yield piece

    def forget(self) -> None:
        """Drop every snapshot and the evaluated KV cache (the next prompt is evaluated in full)."""
        self._snapshots.clear()
        self.evict()

    def evict(self) -> None:
        """Empty the evaluated KV cache but keep the snapshots (the next slot call restores its own)."""
        self._holder = None
        self.llama.reset()

    def snapshot(self):
        """The KV cache and its tokens, without the logits (llama.cpp's save_state copies up to
        n_batch x vocabulary floats, ~300 MB for Qwen; logits are recomputed after a restore anyway)."""
        from llama_cpp import LlamaState, llama_cpp

        ctx = self.llama._ctx.ctx
        size = llama_cpp.llama_state_get_size(ctx)
        buf = (ctypes.c_uint8 * int(size))()
        n = llama_cpp.llama_state_get_data(ctx, buf, size)
        return LlamaState(
            input_ids=self.llama.input_ids.copy(),
            scores=np.zeros((1, self.llama.n_vocab()), np.single),
            n_tokens=self.llama.n_tokens,
            llama_state=bytes(buf)[: int(n)],
            llama_state_size=int(n),
            seed=self.llama._seed,
        )

    def restore(self, state) -> None:
        """Put a snapshot back; the next prompt then re-evaluates only what differs from its tokens."""
        self.llama.load_state(state)
        self._holder = None


class OpenAIChat:
    """A model served over the OpenAI chat-completions API (llama.cpp server, vLLM, ...), via httpx SSE."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 600.0) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s, connect=10.0))
        self._tokenize_route: str | None = None

    def stream(self, messages: Messages, sampling: Sampling, slot: str | None = None) -> Iterator[str]:
        import httpx

        body = {
            "model": self.model,
            "messages": list(messages),
            "stream": True,
            "max_tokens": sampling.max_tokens,
            "temperature": sampling.temperature,
            "seed": sampling.seed,
            # Servers differ: llama.cpp reads repeat_penalty; frequency_penalty 0 is the OpenAI default.
            "repeat_penalty": sampling.repeat_penalty,
        }
        try:
            with self.client.stream("POST", f"{self.base_url}/chat/completions", json=body) as response:
                if response.status_code != 200:
                    response.read()
                    raise ModelUnavailableError(
                        f"LLM server {self.base_url} answered {response.status_code}: {response.text[:300]}"
                    )
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    choices = json.loads(data).get("choices") or []
                    piece = (choices[0].get("delta") or {}).get("content") if choices else None
                    if piece:
                        yield piece
        except httpx.HTTPError as exc:
            raise ModelUnavailableError(f"LLM server {self.base_url} is unreachable: {exc}") from exc

    def count_tokens(self, text: str) -> int:
        """The server's own count where it offers one (llama.cpp, vLLM), else an estimate."""
        import httpx

        root = self.base_url.removesuffix("/v1")
        routes = {
            "/extras/tokenize": {"input": text, "model": self.model},  # llama-cpp-python server
            "/tokenize": {"prompt": text, "content": text, "model": self.model},  # vLLM, llama-server
        }
        for route in [self._tokenize_route] if self._tokenize_route else list(routes):
            try:
                response = self.client.post(f"{root}{route}", json=routes[route])
                if response.status_code == 200:
                    self._tokenize_route = route
                    return len(response.json()["tokens"])
            except (httpx.HTTPError, ValueError, KeyError):
                pass
        # ~3 UTF-8 bytes per token for Cyrillic text with Qwen/Llama vocabularies: errs on the long side.
        return len(text.encode("utf-8")) // 3 + 1


def open_chat_model(settings: LLMSettings, cache_dir: Path) -> ChatModel:
    """The configured answering model."""
    if settings.backend == "openai":
        if not settings.base_url:
            raise ModelUnavailableError("llm.backend = 'openai' needs llm.base_url (e.g. http://127.0.0.1:8000/v1)")
        key = settings.api_key.get_secret_value() if settings.api_key else None
        return OpenAIChat(settings.base_url, settings.model, key, settings.request_timeout_s)
    from litopys.rag.gguf import load_llm

    return LlamaCppChat(load_llm(settings, cache_dir), keep_prefix=settings.keep_prefix_cache)
