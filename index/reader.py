"""Open the last published index (database + vector file of the same generation) for reading."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import faiss

from index import vectors
from index.builder import DB_NAME
from index.store import Store
from litopys.errors import IndexStateError


@dataclass
class Snapshot:
    """One consistent generation: its vector index and build facts."""

    generation: int
    vectors: faiss.Index
    meta: dict[str, str]


class IndexReader:
    """Read access that follows new generations as builds publish them."""

    def __init__(self, index_dir: Path, embedder_spec: str, dim: int) -> None:
        self.index_dir = Path(index_dir)
        self.embedder_spec = embedder_spec
        self.dim = dim
        self.store = Store(self.index_dir / DB_NAME, readonly=True)
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self.refresh()

    def refresh(self) -> Snapshot:
        """Return the current generation, loading its vector file if a build published a new one."""
        meta = self.store.get_meta()
        if "generation" not in meta:
            raise IndexStateError(f"the index at {self.index_dir} is empty; run `litopys index`")
        if meta.get("embedder") != self.embedder_spec or meta.get("dim") != str(self.dim):
            raise IndexStateError(
                f"the index was built with embedder {meta.get('embedder')} ({meta.get('dim')}-d) "
                f"but the settings ask for {self.embedder_spec} ({self.dim}-d); "
                "run `litopys index` to rebuild it"
            )
        generation = int(meta["generation"])
        with self._lock:
            if self._snapshot is None or self._snapshot.generation != generation:
                index = vectors.read_index(vectors.vectors_path(self.index_dir, generation), self.dim)
                self._snapshot = Snapshot(generation, index, meta)
            return self._snapshot

    def close(self) -> None:
        self.store.close()
