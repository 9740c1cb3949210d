"""Wiring: settings -> embedder, index reader, retriever, LLM, answerer.

The only place that knows how the stages fit together; the CLI and the chat
both start from here.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from litopys.core.config import Settings

if TYPE_CHECKING:  # the real imports stay lazy: torch and llama.cpp are slow to import
    from litopys.index.backend import SearchIndex
    from litopys.index.builder import IndexReport, ProgressFn
    from litopys.index.embedder import Embedder
    from litopys.rag.answer import Answerer
    from litopys.rag.llm import ChatModel
    from litopys.rag.retrieval import Retriever

log = logging.getLogger(__name__)


@dataclass
class Assistant:
    """A ready-to-answer assistant and how long each part took to load."""

    settings: Settings
    embedder: Embedder
    reader: SearchIndex
    retriever: Retriever
    answerer: Answerer
    load_seconds: dict[str, float] = field(default_factory=dict)

    def close(self) -> None:
        self.reader.close()


def index_corpus(
    settings: Settings,
    embedder: Embedder | None = None,
    *,
    corpus_dir: Path | None = None,
    force_rebuild: bool = False,
    progress: ProgressFn | None = None,
) -> IndexReport:
    """Run an incremental index build; returns the IndexReport."""
    from litopys.index.builder import build_index
    from litopys.index.embedder import load_embedder

    embedder = embedder or load_embedder(settings.embedder)
    return build_index(settings, embedder, corpus_dir=corpus_dir, force_rebuild=force_rebuild, progress=progress)


def index_status(settings: Settings) -> dict[str, object]:
    """Counts and build facts of the published index (empty dict when there is none yet)."""
    from litopys.index.backend import index_status as status

    return status(settings)


def open_assistant(settings: Settings, embedder: Embedder | None = None, llm: ChatModel | None = None) -> Assistant:
    """Load the models (unless given, already loaded) and open the published index for answering."""
    from litopys.index.backend import check_index, open_index
    from litopys.index.embedder import load_embedder
    from litopys.rag.answer import Answerer
    from litopys.rag.llm import open_chat_model
    from litopys.rag.retrieval import Retriever

    check_index(settings)  # before minutes of model loading
    times: dict[str, float] = {}
    t = time.perf_counter()
    embedder = embedder or load_embedder(settings.embedder)
    times["embedder_s"] = time.perf_counter() - t
    reader = open_index(settings, embedder.spec, embedder.dim)
    retriever = Retriever(reader, embedder, settings.retrieval)
    t = time.perf_counter()
    llm = llm or open_chat_model(settings.llm, settings.cache_dir)
    times["llm_s"] = time.perf_counter() - t
    answerer = Answerer(retriever, llm, settings.llm, settings.prompt, settings.checks)
    log.info("assistant ready: embedder %.1f s, LLM %.1f s", times["embedder_s"], times["llm_s"])
    return Assistant(settings, embedder, reader, retriever, answerer, times)
