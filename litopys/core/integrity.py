"""File checksums and durable renames shared by the index, the uploads and the model loader."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

BLOCK_BYTES = 8 << 20


def read_blocks(path: Path) -> Iterator[bytes]:
    """The bytes of ``path`` in blocks of ``BLOCK_BYTES``: streamed, since models are gigabytes."""
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK_BYTES):
            yield block


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    for block in read_blocks(path):
        digest.update(block)
    return digest.hexdigest()


def fsync_dir(folder: Path) -> None:
    """Make a new or renamed entry in ``folder`` durable (survives a crash or power loss)."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
