"""Shared fixtures: paths to the project's seeds and the optional ../shared data."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
NER_UK = SHARED / "corpus" / "ner-uk" / "articles"
DEV_QUESTIONS = SHARED / "eval" / "dev.jsonl"
SEED_QUESTION = "Хто може очолити російську делегацію на переговорах у Майамі?"
SEED_ID = "000_0eb56f0bcda4d5b8.txt"


@pytest.fixture(scope="session")
def ner_uk() -> Path:
    """The ner-uk evaluation corpus from ../shared (skips when it is absent)."""
    if not NER_UK.is_dir():
        pytest.skip(f"needs the shared corpus at {NER_UK} (present in CI)")
    return NER_UK


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """Assembled models are cached across runs like a user's would be."""
    return Path.home() / ".cache" / "litopys"


def cli_env(corpus: Path, index_dir: Path, model_cache: Path) -> dict[str, str]:
    """Environment for a `litopys` subprocess: this corpus and index, cached models, no network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITOPYS_")}
    env.update(
        LITOPYS_CORPUS_DIR=str(corpus),
        LITOPYS_INDEX_DIR=str(index_dir),
        LITOPYS_CACHE_DIR=str(model_cache),
        HF_HUB_OFFLINE="1",
    )
    return env


def run_cli(env: dict[str, str], *args: str, check: bool = True, stdin: str | None = None,
            timeout: float = 900) -> subprocess.CompletedProcess:
    """Run `python -m litopys.cli ARGS`; with ``check``, a non-zero exit fails with its stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "litopys.cli", *args], env=env, capture_output=True, text=True,
        timeout=timeout, input=stdin,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"litopys {args} exited {proc.returncode}\n{proc.stderr[-3000:]}")
    return proc


@contextmanager
def seed_retriever(tmp_path_factory, model_cache: Path, articles: dict[str, str]) -> Iterator[object]:
    """A Retriever over a fresh index of the seed article plus ``articles`` (id -> file text)."""
    from litopys.index.reader import IndexReader
    from litopys.core.config import load_settings
    from litopys.index.embedder import load_embedder
    from litopys.runtime import index_corpus
    from litopys.rag.retrieval import Retriever

    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copy(SEEDS / SEED_ID, corpus / SEED_ID)
    for article_id, text in articles.items():
        (corpus / article_id).parent.mkdir(parents=True, exist_ok=True)
        (corpus / article_id).write_text(text, encoding="utf-8")
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("index"), cache_dir=model_cache)
    embedder = load_embedder(settings.embedder)
    index_corpus(settings, embedder)
    reader = IndexReader(settings.index_dir, embedder.spec, embedder.dim)
    try:
        yield Retriever(reader, embedder, settings.retrieval)
    finally:
        reader.close()


def spawn(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    """Start `litopys ARGS` in the background; stdout is captured, stderr goes to ``log``."""
    with open(log, "w") as fh:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "litopys.cli", *args],
            env=env, stdout=subprocess.PIPE, stderr=fh, text=True,
        )


def wait_for(condition, what: str, proc: subprocess.Popen | None = None, timeout: float = 300) -> None:
    """Poll ``condition`` until true; fail if ``proc`` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited {proc.returncode} before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
