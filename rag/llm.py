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

Before its first call a slot is primed with its fixed prefix (``prime``): the prefix
is evaluated on its own, or its evaluated state is loaded from the prefix cache
on disk (``rag/prefix_cache.py``) when an earlier process saved it. Either way the
KV cache holds the same bytes, so an answer does not depend on the cache.
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
from litopys.rag.budget import estimate_tokens
from litopys.rag.prefix_cache import PrefixStore, SavedPrefix

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

    def prime(self, slot: str, prefix: Messages) -> None:
        """Have ``slot``'s fixed ``prefix`` evaluated before its first call (a no-op where the backend caches)."""

    def yes_probability(self, messages: Messages, slot: str | None = None) -> float | None:
        """P("yes") over P("yes") + P("no") as the first token of the reply; None if the backend cannot say."""


def complete(model: ChatModel, messages: Messages, sampling: Sampling, slot: str | None = None) -> str:
    """The whole completion as one string."""
    return "".join(model.stream(messages, sampling, slot))


class LlamaCppChat:
    """An in-process llama.cpp model with per-slot prompt KV snapshots."""

    def __init__(self, llama, *, keep_prefix: bool = True, prefixes: PrefixStore | None = None) -> None:
        self.llama = llama
        self.keep_prefix = keep_prefix
        self.prefixes = prefixes  # evaluated prefixes on disk; None: evaluated in every process
        self._snapshots: dict[str, object] = {}
        self._holder: str | None = None  # the slot whose tokens the KV cache holds now
        self._primed: set[str] = set()
        self._yes_no: tuple[list[int], list[int]] | None = None

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, messages: Messages, sampling: Sampling, slot: str | None = None) -> Iterator[str]:
        self._take(slot)
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

    def yes_probability(self, messages: Messages, slot: str | None = None) -> float | None:
        """One forward pass: the first reply token's probabilities of "yes" against "no" (no text generated)."""
        self._take(slot)
        seen: list[float] = []
        yes, no = self._answer_tokens()

        def read(_ids: np.ndarray, logits: np.ndarray) -> np.ndarray:
            if not seen:
                shifted = np.exp(logits.astype(np.float64) - float(logits.max()))
                p_yes, p_no = float(shifted[yes].sum()), float(shifted[no].sum())
                seen.append(p_yes / (p_yes + p_no) if p_yes + p_no > 0 else 0.5)
            return logits

        from llama_cpp import LogitsProcessorList

        self.llama.create_chat_completion(
            messages=list(messages), max_tokens=1, temperature=0.0, logits_processor=LogitsProcessorList([read])
        )
        return seen[0] if seen else None

    def _answer_tokens(self) -> tuple[list[int], list[int]]:
        """The first tokens of "yes"/"Yes" and of "no"/"No" in the model's vocabulary."""
        if self._yes_no is None:
            first = lambda word: self.llama.tokenize(word.encode("utf-8"), add_bos=False, special=False)[0]  # noqa: E731
            self._yes_no = (sorted({first("yes"), first("Yes")}), sorted({first("no"), first("No")}))
        return self._yes_no

    def _take(self, slot: str | None) -> None:
        """Give the KV cache to ``slot``: set the holder's aside, put back the slot's own snapshot."""
        if self.keep_prefix and slot and self._holder != slot:
            self._set_aside()
            if slot in self._snapshots:
                self.restore(self._snapshots[slot])
        # Without prefix keeping, the cache belongs to no slot: it is neither saved nor restored.
        self._holder = slot if self.keep_prefix else None

    def _set_aside(self) -> None:
        """Snapshot the slot holding the KV cache before another one takes it over."""
        # Saved only on a switch: consecutive answers share the cache as it is, and no
        # answer waits for a copy of the KV cache after its last token.
        if self._holder is not None:
            self._snapshots[self._holder] = self.snapshot()

    def prime(self, slot: str, prefix: Messages) -> None:
        """Put ``slot``'s evaluated ``prefix`` in the KV cache, once per slot (with prefix keeping only).

        Loaded from the prefix store when a valid copy is saved there; else evaluated on its own
        (the last message is a placeholder: later prompts share all that comes before it) and saved.
        """
        if not self.keep_prefix or slot in self._primed:
            return
        if self._holder != slot:
            self._set_aside()
        self._snapshots.pop(slot, None)  # the primed KV cache replaces any older snapshot of the slot
        saved = self.prefixes.load(slot, prefix) if self.prefixes else None
        if saved is None or not self._load(slot, saved):
            self.llama.reset()  # evaluated from position 0, as in every process: the same KV bytes
            self.llama.create_chat_completion(messages=list(prefix), max_tokens=1, temperature=0.0)
            if self.prefixes:
                n = self.llama.n_tokens
                self.prefixes.save(slot, prefix, SavedPrefix(self.llama.input_ids[:n].copy(), self._state_bytes()))
        self._holder = slot
        self._primed.add(slot)

    def _load(self, slot: str, saved: SavedPrefix) -> bool:
        """Put a prefix read from disk into the KV cache; False (logged) if llama.cpp refuses it."""
        if len(saved.tokens) > self.llama.n_ctx():
            log.warning("saved %s prefix holds %d tokens, more than n_ctx: evaluating it", slot, len(saved.tokens))
            return False
        try:
            self._set_state(saved.tokens, saved.state)
        except RuntimeError as exc:
            self.llama.reset()
            log.warning("llama.cpp refused the saved %s prefix (%s): evaluating it", slot, exc)
            return False
        return True

    def _set_state(self, tokens: np.ndarray, state: bytes) -> None:
        """Make the KV cache hold ``tokens`` from llama.cpp's ``state`` bytes.

        Llama.load_state would also rewrite its n_batch x vocabulary logits array (~300 MB for
        Qwen, ~1 s on a busy machine); they are never read before the next prompt's decode
        rewrites them, since a restored prompt is re-decoded from its last shared token.
        """
        from llama_cpp import llama_cpp

        llama = self.llama
        buf = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_set_data(llama._ctx.ctx, buf, len(state)) != len(state):
            raise RuntimeError("llama_state_set_data did not take the whole state")
        llama.input_ids[: len(tokens)] = tokens
        llama.n_tokens = len(tokens)
        llama._requires_eval = True  # no sampling from the stale logits

    def forget(self) -> None:
        """Drop every snapshot and the evaluated KV cache (the next prompt is evaluated in full)."""
        self._snapshots.clear()
        self._primed.clear()
        self.evict()

    def evict(self) -> None:
        """Empty the evaluated KV cache but keep the snapshots (the next slot call restores its own)."""
        self._primed.discard(self._holder or "")  # its prefix was only in the KV cache: prime it again
        self._holder = None
        self.llama.reset()

    def snapshot(self):
        """The KV cache and its tokens, without the logits (Llama.save_state copies up to
        n_batch x vocabulary floats, ~300 MB for Qwen; logits are recomputed after a restore anyway)."""
        from llama_cpp import LlamaState

        state = self._state_bytes()
        return LlamaState(
            input_ids=self.llama.input_ids[: self.llama.n_tokens].copy(),
            scores=np.zeros((1, self.llama.n_vocab()), np.single),  # never read: see _set_state
            n_tokens=self.llama.n_tokens,
            llama_state=state,
            llama_state_size=len(state),
            seed=self.llama._seed,
        )

    def _state_bytes(self) -> bytes:
        """llama.cpp's state of the context: the KV cache (and the last logits)."""
        from llama_cpp import llama_cpp

        ctx = self.llama._ctx.ctx
        size = llama_cpp.llama_state_get_size(ctx)
        buf = (ctypes.c_uint8 * int(size))()
        n = llama_cpp.llama_state_get_data(ctx, buf, size)
        return bytes(buf)[: int(n)]

    def restore(self, state) -> None:
        """Put a snapshot back; the next prompt then re-evaluates only what differs from its tokens."""
        self._set_state(state.input_ids[: state.n_tokens], state.llama_state)
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
        self._estimating = False  # no tokenize route answered: counts are estimates

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

    def prime(self, slot: str, prefix: Messages) -> None:
        """Nothing: the server keeps its own prompt cache (llama-server, vLLM prefix caching)."""

    def yes_probability(self, messages: Messages, slot: str | None = None) -> float | None:
        """None: token probabilities are not asked of a server (llama.cpp's needs logits_all for them)."""
        return None

    def count_tokens(self, text: str) -> int:
        """The server's own count where it offers one (llama.cpp, vLLM), else an estimate."""
        import httpx

        root = self.base_url.removesuffix("/v1")
        routes = {
            "/extras/tokenize": {"input": text, "model": self.model},  # llama-cpp-python server
            "/tokenize": {"prompt": text, "content": text, "model": self.model},  # vLLM, llama-server
        }
        untried = [] if self._estimating else list(routes)
        for route in [self._tokenize_route] if self._tokenize_route else untried:
            try:
                response = self.client.post(f"{root}{route}", json=routes[route])
                if response.status_code == 200:
                    self._tokenize_route = route
                    return len(response.json()["tokens"])
            except (httpx.HTTPError, ValueError, KeyError):
                pass
        if not self._estimating and not self._tokenize_route:
            # The passage budget counts often: ask a server without a tokenize route only once.
            self._estimating = True
            log.info("LLM server %s offers no tokenize route: prompt tokens are estimated", self.base_url)
        return estimate_tokens(text)


def open_chat_model(settings: LLMSettings, cache_dir: Path) -> ChatModel:
    """The configured answering model."""
    if settings.backend == "openai":
        if not settings.base_url:
            raise ModelUnavailableError("llm.backend = 'openai' needs llm.base_url (e.g. http://127.0.0.1:8000/v1)")
        key = settings.api_key.get_secret_value() if settings.api_key else None
        return OpenAIChat(settings.base_url, settings.model, key, settings.request_timeout_s)
    from litopys.rag.gguf import load_llm, model_sha256

    llama = load_llm(settings, cache_dir)
    prefixes = None
    if settings.keep_prefix_cache and settings.save_prefix_cache:
        folder = Path(cache_dir) / "prefix"
        sha = model_sha256(settings, Path(llama.model_path), folder)
        prefixes = PrefixStore(folder, sha, llama.n_ctx(), llama.n_batch, settings.flash_attn)
    return LlamaCppChat(llama, keep_prefix=settings.keep_prefix_cache, prefixes=prefixes)
