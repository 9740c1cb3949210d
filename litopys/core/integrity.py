"""File checksums and durable renames shared by the index, the uploads and the model loader."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_BLOCK = 8 << 20


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in blocks (models are gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(folder: Path) -> None:
    """Make a new or renamed entry in ``folder`` durable (survives a crash or power loss)."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
