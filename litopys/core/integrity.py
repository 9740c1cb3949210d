"""File checksums and durable renames shared by the index, the uploads, the model loader and the prefix cache."""

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


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` all or nothing: a temp file beside it, fsynced, then renamed over it.

    A crash or a full disk leaves the old file (or none), never a partial one.
    """
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
