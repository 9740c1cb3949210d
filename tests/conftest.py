"""Shared fixtures: the seed article, the optional ../shared data, `litopys` subprocesses, embedders.

Tests get everything here through fixtures, never by importing this module (pytest runs
with ``--import-mode=importlib``, so ``from conftest import ...`` fails). See docs/development.md.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
NER_UK = SHARED / "corpus" / "ner-uk" / "articles"
DEV_QUESTIONS = SHARED / "eval" / "dev.jsonl"
SEED_ENV = "LITOPYS_TEST_SEED"
DEFAULT_SEED = 20240601  # fixed, so a plain run repeats the last one; set SEED_ENV to explore


def _random_seed() -> int:
    return int(os.environ.get(SEED_ENV) or DEFAULT_SEED)


def pytest_report_header() -> str:
    return f"random delays: {SEED_ENV}={_random_seed()}"


# --- data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """The project's seed article (seeds/) and a question only it answers."""

    path: Path
    question: str

    @property
    def article_id(self) -> str:
        return self.path.name

    def copy_to(self, corpus: Path) -> Path:
        """Copy the article into ``corpus`` (created if needed) under its own id."""
        corpus.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(self.path, corpus / self.article_id))


@dataclass(frozen=True)
class NewArticle:
    """An article with a made-up fact no other article mentions, and a question only it answers."""

    article_id: str
    text: str
    question: str

    def write_to(self, corpus: Path) -> Path:
        """Write the article into ``corpus`` under its id (folders created)."""
        path = corpus / self.article_id
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text, encoding="utf-8")
        return path


@pytest.fixture(scope="session")
def new_article() -> NewArticle:
    return NewArticle(
        "new/zhyrafy.txt",
        "date 2025-03-01 У Полтаві відкрили музей синіх жирафів\n"
        "Музей синіх жирафів у Полтаві відкрив меценат Остап Вербицький. "
        "У колекції музею сорок сім порцелянових жирафів, розписаних кобальтом.\n",
        "Хто відкрив музей синіх жирафів у Полтаві?",
    )


@pytest.fixture(scope="session")
def seed() -> Seed:
    return Seed(
        ROOT / "seeds" / "000_0eb56f0bcda4d5b8.txt",
        "Хто може очолити російську делегацію на переговорах у Майамі?",
    )


@pytest.fixture(scope="session")
def ner_uk() -> Path:
    """The ner-uk evaluation corpus from ../shared (skips when it is absent)."""
    if not NER_UK.is_dir():
        pytest.skip(f"needs the shared corpus at {NER_UK} (present in CI)")
    return NER_UK


@pytest.fixture(scope="session")
def dev_questions() -> Path:
    """The dev questions from ../shared (skips when they are absent)."""
    if not DEV_QUESTIONS.is_file():
        pytest.skip(f"needs the dev questions at {DEV_QUESTIONS}")
    return DEV_QUESTIONS


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """Assembled models are cached across runs like a user's would be."""
    return Path.home() / ".cache" / "litopys"


@pytest.fixture
def rng() -> random.Random:
    """Randomness for a test (e.g. when to kill a build): seeded, and the seed is printed.

    A failing run shows the seed in its captured output; rerun with LITOPYS_TEST_SEED=<seed>.
    """
    value = _random_seed()
    print(f"random seed {value} (replay: {SEED_ENV}={value})")
    return random.Random(value)


# --- `litopys` subprocesses ----------------------------------------------------------------------


def _cli_env(corpus: Path, index_dir: Path, model_cache: Path) -> dict[str, str]:
    """Environment for a `litopys` subprocess: this corpus and index, cached models, no network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITOPYS_")}
    env.update(
        LITOPYS_CORPUS_DIR=str(corpus),
        LITOPYS_INDEX_DIR=str(index_dir),
        LITOPYS_CACHE_DIR=str(model_cache),
        HF_HUB_OFFLINE="1",
    )
    return env


def _run_cli(
    env: dict[str, str], *args: str, check: bool = True, stdin: str | None = None, timeout: float = 900
) -> subprocess.CompletedProcess:
    """Run `python -m litopys.cli ARGS`; with ``check``, a non-zero exit fails with its stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "litopys.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"litopys {args} exited {proc.returncode}\n{proc.stderr[-3000:]}")
    return proc


def _spawn(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    """Start `litopys ARGS` in the background; stdout is captured, stderr goes to ``log``."""
    with open(log, "w") as fh:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "litopys.cli", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=fh,
            text=True,
        )


def _wait_for(
    condition: Callable[[], bool], what: str, proc: subprocess.Popen | None = None, timeout: float = 300
) -> None:
    """Poll ``condition`` until true; fail if ``proc`` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited {proc.returncode} before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def cli_env() -> Callable[..., dict[str, str]]:
    """``cli_env(corpus, index_dir, model_cache)``: the environment for a `litopys` subprocess."""
    return _cli_env


@pytest.fixture(scope="session")
def run_cli() -> Callable[..., subprocess.CompletedProcess]:
    """``run_cli(env, *args, check=True, stdin=None, timeout=900)``: run `litopys ARGS` to the end."""
    return _run_cli


@pytest.fixture(scope="session")
def spawn() -> Callable[..., subprocess.Popen]:
    """``spawn(env, log, *args)``: start `litopys ARGS` in the background, stderr to ``log``."""
    return _spawn


@pytest.fixture(scope="session")
def wait_for() -> Callable[..., None]:
    """``wait_for(condition, what, proc=None, timeout=300)``: poll until true, or fail."""
    return _wait_for


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """``free_port()``: a loopback port nobody listens on right now."""
    from litopys.core.net import free_port

    return free_port


# --- a real Milvus-compatible server ------------------------------------------------------------


@dataclass
class MilvusServer:
    """A `milvus-lite server` subprocess on a loopback port (the gRPC path pymilvus takes to any Milvus)."""

    uri: str
    proc: subprocess.Popen
    log: Path
    data_dir: Path
    port: int

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server (SIGTERM, or e.g. SIGKILL for a crash) and wait for it to exit."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)

    def restart(self) -> None:
        """Start the server again on the same data folder and port; returns once it answers."""
        self.stop()
        self.proc = _milvus_process(self.data_dir, self.port, self.log)
        _wait_for(lambda: _reachable(self.uri), "the milvus-lite server to answer", self.proc, timeout=120)


def _milvus_process(data_dir: Path, port: int, log: Path) -> subprocess.Popen:
    cmd = [str(Path(sys.executable).with_name("milvus-lite")), "server", "--data-dir", str(data_dir)]
    with open(log, "ab") as out:
        return subprocess.Popen(
            [*cmd, "--host", "127.0.0.1", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT
        )


def _reachable(uri: str) -> bool:
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    try:
        client = MilvusClient(uri=uri, timeout=2)
    except MilvusException:
        return False
    try:
        client.list_collections(timeout=2)
        return True
    except Exception:  # MilvusException, or grpc's RpcError on a deadline (a server still starting)
        return False
    finally:
        client.close()


def _start_milvus(root: Path) -> MilvusServer:
    from litopys.core.net import free_port

    port = free_port()
    log = root / "server.log"
    proc = _milvus_process(root / "data", port, log)
    server = MilvusServer(f"http://127.0.0.1:{port}", proc, log, root / "data", port)
    try:
        _wait_for(lambda: _reachable(server.uri), "the milvus-lite server to answer", proc, timeout=120)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusServer]:
    """One `milvus-lite server` for a test module: ``.uri`` (http://127.0.0.1:PORT), ``.stop()``."""
    server = _start_milvus(tmp_path_factory.mktemp("milvus"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusServer]:
    """A `milvus-lite server` for one test, which it may stop (``.stop(signal.SIGKILL)``) and ``.restart()``."""
    server = _start_milvus(tmp_path_factory.mktemp("own-milvus"))
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def _counting_evals(llama) -> Iterator[list[int]]:
    """The sizes of ``llama``'s eval calls inside the block: prompt tokens first, then one per generated token."""
    calls: list[int] = []
    original = llama.eval

    def counting(tokens):
        calls.append(len(tokens))
        return original(tokens)

    llama.eval = counting
    try:
        yield calls
    finally:
        del llama.eval  # back to the class's method


@pytest.fixture(scope="session")
def counting_evals() -> Callable[..., object]:
    """``with counting_evals(llama) as calls:`` the token counts llama.cpp evaluated in the block."""
    return _counting_evals


# --- a real `litopys serve` ----------------------------------------------------------------------


@dataclass
class Server:
    """A running `litopys serve` subprocess."""

    url: str
    proc: subprocess.Popen
    log: Path
    corpus: Path
    index_dir: Path
    env: dict[str, str]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=60)


@pytest.fixture(scope="session")
def make_workspace(seed: Seed) -> Callable[..., dict[str, str]]:
    """``make_workspace(root, model_cache, **extra_env)``: the seed's corpus under ``root``, indexed.

    Returns the env a server over it runs with (small LLM, short answers).
    """

    def make(root: Path, model_cache: Path, **extra_env: str) -> dict[str, str]:
        seed.copy_to(root / "corpus")
        env = _cli_env(root / "corpus", root / "index", model_cache)
        env.update(
            LITOPYS_LLM__MODEL="bundled:qwen2.5-coder-0.5b",
            LITOPYS_LLM__MAX_TOKENS="48",
            LITOPYS_RETRIEVAL__TOP_K="2",
            GRADIO_TEMP_DIR=str(root / "gradio-tmp"),
        )
        env.update(extra_env)
        _run_cli(env, "index", "--json")
        return env

    return make


def _start_server(root: Path, env: dict[str, str], *args: str, timeout: float = 600) -> Server:
    """`litopys serve --no-index` on a free loopback port; returns once it answers HTTP."""
    from litopys.core.net import free_port

    port = free_port()
    log = root / f"serve-{port}.log"
    with open(log, "w") as fh:  # stdout too: Gradio prints there
        proc = subprocess.Popen(
            [sys.executable, "-m", "litopys.cli", "-v", "serve", "--no-index", "--port", str(port), *args],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(url + "/", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        _wait_for(up, "the server to answer HTTP", proc, timeout=timeout)
    except AssertionError:
        proc.kill()
        raise AssertionError(log.read_text()[-3000:]) from None
    return Server(url, proc, log, Path(env["LITOPYS_CORPUS_DIR"]), Path(env["LITOPYS_INDEX_DIR"]), env)


@pytest.fixture(scope="session")
def start_server() -> Callable[..., Server]:
    """``start_server(root, env, *args, timeout=600)``: `litopys serve --no-index`, up and answering."""
    return _start_server


# --- embedders and retrievers --------------------------------------------------------------------


class TinyEmbedder:
    """A deterministic Embedder (litopys.index.embedder): no model, instant.

    A text's vector hashes its lemmas and their character trigrams into ``dim`` signed buckets,
    so texts sharing words (in any inflection) are close; unlike BM25 it has no IDF and
    credits partial word overlap, so the dense ranking is not a copy of the lexical one.
    """

    def __init__(self, dim: int = 256) -> None:
        self.spec = f"test:tiny-hash-{dim}"
        self.dim = dim
        self.revision = "1"

    def _bucket(self, feature: str) -> tuple[int, float]:
        # blake2b, not hash(): str hashes change with every process (PYTHONHASHSEED).
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dim, 1.0 if value >> 63 else -1.0

    def _vector(self, text: str) -> np.ndarray:
        from litopys.index.lemmatize import lemmas

        vector = np.zeros(self.dim, dtype=np.float32)
        for lem in lemmas(text):
            padded = f"<{lem}>"
            features = [(f"w:{lem}", 1.0)] + [(f"c:{padded[i : i + 3]}", 0.3) for i in range(len(padded) - 2)]
            for feature, weight in features:
                bucket, sign = self._bucket(feature)
                vector[bucket] += sign * weight
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Embeddings of passages, one row each."""
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """Embedding of one question, shape (dim,)."""
        return self._vector(text)

    def count_tokens(self, text: str) -> int:
        """Whitespace-separated words: close enough to subword tokens for chunking tests."""
        return len(text.split())


@pytest.fixture(scope="session")
def tiny_embedder() -> TinyEmbedder:
    return TinyEmbedder()


def _fixed_ranking(passages: list, pool: int | None = None, across: bool = False, **settings):
    """A Retriever whose search returns ``passages`` (the best ``top_k``) from a fused pool of
    ``pool`` candidates (default MIN_POOL); ``across``: the question's script is not its passages'.
    Retriever.evidence's real decisions run over it, with no index."""
    from litopys.core.config import RetrievalSettings
    from litopys.rag.retrieval import MIN_POOL, Retriever

    class FixedRanking(Retriever):
        def _search(self, question, top_k, filters, latest=None):
            return passages[: top_k or self.settings.top_k], MIN_POOL if pool is None else pool, across

    return FixedRanking(None, None, RetrievalSettings(**settings))


@pytest.fixture(scope="session")
def fixed_ranking() -> Callable[..., object]:
    """``fixed_ranking(passages, pool=MIN_POOL, across=False, **retrieval_settings)``: see ``_fixed_ranking``."""
    return _fixed_ranking


@pytest.fixture(scope="session")
def real_embedder(model_cache: Path):
    """The default (bundled) sentence embedder, loaded once per session: tests using it are slow."""
    from litopys.core.config import load_settings
    from litopys.index.embedder import load_embedder

    return load_embedder(load_settings(cache_dir=model_cache).embedder)


@pytest.fixture(scope="session")
def make_retriever(tmp_path_factory: pytest.TempPathFactory, model_cache: Path, seed: Seed):
    """``make_retriever(articles, embedder, with_seed=True)``: a context manager yielding a Retriever.

    The index is built fresh from ``articles`` (id -> file text), plus the seed article unless
    ``with_seed`` is false, with the given embedder (``tiny_embedder`` or ``real_embedder``).
    """

    @contextmanager
    def make(articles: dict[str, str], embedder, *, with_seed: bool = True) -> Iterator[object]:
        from litopys.core.config import load_settings
        from litopys.index.builder import build_index
        from litopys.index.reader import IndexReader
        from litopys.rag.retrieval import Retriever

        corpus = tmp_path_factory.mktemp("corpus")
        if with_seed:
            seed.copy_to(corpus)
        for article_id, text in articles.items():
            (corpus / article_id).parent.mkdir(parents=True, exist_ok=True)
            (corpus / article_id).write_text(text, encoding="utf-8")
        settings = load_settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("index"), cache_dir=model_cache)
        build_index(settings, embedder)
        reader = IndexReader(settings.index_dir, embedder.spec, embedder.dim)
        try:
            yield Retriever(reader, embedder, settings.retrieval)
        finally:
            reader.close()

    return make
