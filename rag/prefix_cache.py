"""Evaluated prompt prefixes on disk: a new process loads them instead of evaluating them again.

The answer prompt's fixed prefix (system prompt and worked turns) is ~1,100 Qwen tokens, ~14 s
of prompt evaluation on 2 cores in every new process; the follow-up rewrite prompt has its own.
``LlamaCppChat.prime`` evaluates a slot's prefix once, and this store keeps the resulting KV
state (llama.cpp's state bytes and the tokens they hold) under ``<cache_dir>/prefix``.

Data flow: (model sha256, prefix messages, n_ctx, n_batch, flash attention, llama.cpp version and
build) -> ``PrefixKey``. Save: tokens + state bytes -> one file per slot and model, written to a
temp file, fsynced and renamed over the old one. Load: file -> magic, checksum, key, sizes checked ->
``SavedPrefix``, or None with the reason logged; the caller then evaluates the prefix again and
the save overwrites the file. A file is never trusted on its name alone.

File layout (no pickle: nothing read from it is executed): ``MAGIC``, the sha256 of everything
after it (32 bytes), the header's length (8 bytes, little-endian), the header (JSON: key, token
count, state size), the tokens (int32, little-endian), the llama.cpp state bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import struct
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import numpy as np

from litopys.core.integrity import write_atomic

log = logging.getLogger(__name__)

MAGIC = b"LITOPYS-PREFIX-KV/1\n"
_DIGEST = 32
_LENGTH = struct.Struct("<Q")
_TOKEN = np.dtype("<i4")

Messages = Sequence[dict[str, str]]


@dataclass(frozen=True)
class PrefixKey:
    """What a saved state is valid for; a file made for anything else is rebuilt, never used."""

    model_sha256: str
    prefix_sha256: str  # of the prefix messages (the chat template is in the model file)
    n_ctx: int
    n_batch: int  # how the prompt was cut into batches
    flash_attn: bool  # the KV cache's layout: without flash attention llama.cpp stores V transposed
    llama_cpp: str  # llama-cpp-python's version, which pins the llama.cpp it bundles
    build: str  # sha256 of llama.cpp's system info: the CPU kernels that computed the state


@dataclass(frozen=True)
class SavedPrefix:
    """An evaluated prefix: the tokens in the KV cache and llama.cpp's state holding them."""

    tokens: np.ndarray  # int32, one per evaluated token
    state: bytes


class UnusablePrefix(Exception):
    """A saved prefix that must not be loaded; the message says why."""


def messages_sha256(messages: Messages) -> str:
    """A digest of the prefix messages: any change of the prompt text changes it."""
    text = json.dumps(list(messages), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@cache
def llama_build() -> tuple[str, str]:
    """(llama-cpp-python version, sha256 of llama.cpp's system info)."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info()
    return llama_cpp.__version__, hashlib.sha256(info).hexdigest()


def encode(key: PrefixKey, saved: SavedPrefix) -> bytes:
    """The file's bytes for ``saved`` under ``key``."""
    tokens = np.ascontiguousarray(saved.tokens, dtype=_TOKEN).tobytes()
    header = json.dumps(
        {"key": asdict(key), "n_tokens": len(saved.tokens), "state_bytes": len(saved.state)}, sort_keys=True
    ).encode("utf-8")
    body = b"".join([_LENGTH.pack(len(header)), header, tokens, saved.state])
    return MAGIC + hashlib.sha256(body).digest() + body


def decode(data: bytes, key: PrefixKey) -> SavedPrefix:
    """The prefix saved in ``data`` if it is whole and was made for ``key``; else UnusablePrefix."""
    if not data.startswith(MAGIC):
        raise UnusablePrefix("not a prefix cache file, or truncated (wrong magic)")
    digest, body = data[len(MAGIC) : len(MAGIC) + _DIGEST], data[len(MAGIC) + _DIGEST :]
    if hashlib.sha256(body).digest() != digest:
        raise UnusablePrefix("damaged or truncated (checksum mismatch)")
    (length,) = _LENGTH.unpack_from(body)
    try:
        header = json.loads(body[_LENGTH.size : _LENGTH.size + length])
        fields = dict(header["key"])
        n_tokens, state_bytes = int(header["n_tokens"]), int(header["state_bytes"])
    except (ValueError, TypeError, KeyError) as exc:  # a checksummed file written by another version
        raise UnusablePrefix(f"unreadable header ({exc})") from None
    absent = [f for f in asdict(key) if f not in fields]
    if absent:  # written before the key held these
        raise UnusablePrefix(f"stale (made by an older version, without {', '.join(absent)})")
    try:
        made_for = PrefixKey(**fields)
    except TypeError as exc:  # fields this version does not know
        raise UnusablePrefix(f"unreadable header ({exc})") from None
    if made_for != key:
        changed = [f for f, v in asdict(made_for).items() if asdict(key)[f] != v]
        raise UnusablePrefix(f"stale (made for another {', '.join(changed)})")
    start = _LENGTH.size + length
    if len(body) != start + n_tokens * _TOKEN.itemsize + state_bytes:
        raise UnusablePrefix("sizes do not match its header")
    tokens = np.frombuffer(body, _TOKEN, n_tokens, start).astype(np.intc)
    return SavedPrefix(tokens, body[start + n_tokens * _TOKEN.itemsize :])


class PrefixStore:
    """Saved prefixes of one model and context size, one file per slot, under ``folder``."""

    def __init__(self, folder: Path, model_sha256: str, n_ctx: int, n_batch: int, flash_attn: bool) -> None:
        self.folder = Path(folder)
        self.model_sha256 = model_sha256
        self.n_ctx = n_ctx
        self.n_batch = n_batch
        self.flash_attn = flash_attn

    def key(self, prefix: Messages) -> PrefixKey:
        version, build = llama_build()
        return PrefixKey(
            self.model_sha256, messages_sha256(prefix), self.n_ctx, self.n_batch, self.flash_attn, version, build
        )

    def path(self, slot: str) -> Path:
        # One file per slot, model and n_ctx: a changed prompt or llama.cpp overwrites its own file,
        # while two models used in turn (tests on the small one) keep theirs.
        return self.folder / f"{slot}-{self.model_sha256[:16]}-{self.n_ctx}.kv"

    def load(self, slot: str, prefix: Messages) -> SavedPrefix | None:
        """The saved prefix of ``slot``, or None (missing, damaged or stale: logged) to evaluate it again."""
        path = self.path(slot)
        started = time.perf_counter()
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            log.info("no saved %s prefix in %s yet: evaluating it (once)", slot, self.folder)
            return None
        except OSError as exc:
            log.warning("cannot read the saved %s prefix %s (%s): evaluating it", slot, path, exc)
            return None
        try:
            saved = decode(data, self.key(prefix))
        except UnusablePrefix as exc:
            log.warning("saved %s prefix %s is %s: evaluating it again, the file will be replaced", slot, path, exc)
            return None
        log.info(
            "loaded the %s prefix (%d tokens, %.1f MB) in %.2f s",
            slot,
            len(saved.tokens),
            len(data) / 2**20,
            time.perf_counter() - started,
        )
        return saved

    def save(self, slot: str, prefix: Messages, saved: SavedPrefix) -> None:
        """Write ``saved`` atomically; a failure (read-only folder, full disk) is logged, not raised."""
        path = self.path(slot)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomic(path, encode(self.key(prefix), saved))
        except OSError as exc:
            log.warning("could not save the %s prefix to %s (%s): the next process evaluates it again", slot, path, exc)
            return
        log.info("saved the %s prefix (%d tokens) to %s", slot, len(saved.tokens), path)
