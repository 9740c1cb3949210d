"""File checksums shared by the index (vector files) and the model loader (GGUF files)."""

from __future__ import annotations

import hashlib
from pathlib import Path

_BLOCK = 8 << 20


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in blocks (models are gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()
