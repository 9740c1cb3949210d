"""The Milvus backend in service: failure behaviour and many chat servers over one index.

Against real `milvus-lite server` processes on loopback ports, which the tests stop
(SIGTERM, SIGKILL, SIGSTOP) and start again on the same data folder and port:

- down at start: `litopys index`, `ask` and `serve` exit 4 naming the uri, before loading models;
- down while open: a search fails as IndexUnavailableError within the call timeout, and the
  same reader answers again once the server is back (no reopening);
- two `litopys serve` processes, one Milvus, one OpenAI-compatible LLM server: an article
  uploaded through one is answerable from the other; a Milvus crash fails that answer with
  a message, the server stays up, and answering resumes when Milvus is back.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from litopys.core.config import Settings, load_settings
from litopys.core.errors import IndexStateError, IndexUnavailableError
from litopys.index.backend import check_index, open_index
from litopys.index.builder import build_index
from litopys.rag.retrieval import Retriever
from litopys.ui.render import answer_from_chat

pytestmark = pytest.mark.slow

TIMEOUT_S = 3.0  # [index] timeout_s in these tests: a hung server fails a call in this long
SMALL_LLM = "bundled:qwen2.5-coder-0.5b"


def _milvus_env(uri: str, collection: str = "shared") -> dict[str, str]:
    return {
        "LITOPYS_INDEX__BACKEND": "milvus",
        "LITOPYS_INDEX__URI": uri,
        "LITOPYS_INDEX__COLLECTION": collection,
    }


# --- down at start ---------------------------------------------------------------------------------


def test_milvus_down_at_start_is_exit_4_naming_the_uri(tmp_path, seed, cli_env, run_cli, free_port):
    """Nobody listens on the port: every command fails in seconds, before any model is loaded."""
    uri = f"http://127.0.0.1:{free_port()}"
    seed.copy_to(tmp_path / "corpus")
    # An empty model cache: a command that went on to load a model would fail otherwise (exit 3) or slowly.
    env = {**cli_env(tmp_path / "corpus", tmp_path / "index", tmp_path / "no-models"), **_milvus_env(uri)}
    for args in (["index"], ["ask", seed.question], ["serve", "--port", str(free_port())], ["serve", "--no-index"]):
        proc = run_cli(env, "-v", *args, check=False, timeout=600)
        assert proc.returncode == IndexUnavailableError.exit_code == 4, (args, proc.stderr[-2000:])
        assert f"error: the Milvus server at {uri} failed or did not answer" in proc.stderr, proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr
        # It failed before loading any model (a wall-clock bound measured the shared machine: 343 s seen).
        assert "embedder" not in proc.stderr and "assistant ready" not in proc.stderr


def test_a_server_without_an_index_is_a_clear_error(milvus_server):
    settings = load_settings(index={"backend": "milvus", "uri": milvus_server.uri, "collection": "never_built"})
    with pytest.raises(IndexStateError, match=f"no index on the Milvus server at {milvus_server.uri}"):
        check_index(settings)


# --- down while a reader is open -------------------------------------------------------------------


def _small_settings(root: Path, uri: str, seed, new_article) -> Settings:
    corpus = root / "corpus"
    seed.copy_to(corpus)
    new_article.write_to(corpus)
    index = {"backend": "milvus", "uri": uri, "collection": "restarts", "timeout_s": TIMEOUT_S}
    return load_settings(corpus_dir=corpus, index_dir=root / "index", index=index)


def test_reader_fails_fast_while_milvus_is_down_and_resumes_without_reopening(
    tmp_path, own_milvus_server, tiny_embedder, seed, new_article
):
    server = own_milvus_server
    settings = _small_settings(tmp_path, server.uri, seed, new_article)
    build_index(settings, tiny_embedder)
    reader = open_index(settings, tiny_embedder.spec, tiny_embedder.dim)
    retriever = Retriever(reader, tiny_embedder, settings.retrieval)

    def top() -> str:
        return retriever.search(new_article.question)[0].article_id

    try:
        assert top() == new_article.article_id
        for sig in (signal.SIGKILL, signal.SIGTERM):
            server.stop(sig)
            started = time.monotonic()
            with pytest.raises(IndexUnavailableError, match=f"the Milvus server at {server.uri}"):
                top()
            assert time.monotonic() - started < TIMEOUT_S, "a refused connection fails at once"
            server.restart()  # on the same data: milvus-lite comes back with its collections released
            assert top() == new_article.article_id
        # A hung server (SIGSTOP): the call waits for its timeout, not for ever.
        server.proc.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(IndexUnavailableError, match=f"the Milvus server at {server.uri}"):
                top()
            took = time.monotonic() - started
            assert TIMEOUT_S * 0.9 < took < TIMEOUT_S * 3, took
        finally:
            server.proc.send_signal(signal.SIGCONT)
        assert top() == new_article.article_id
        # The writer too picks up after a restart: the next build finds nothing to do.
        server.stop(signal.SIGKILL)
        server.restart()
        report = build_index(settings, tiny_embedder)
        assert report.chunks_embedded == 0 and report.articles_total == 2
    finally:
        reader.close()


# --- two chat servers, one Milvus, one LLM server --------------------------------------------------


@pytest.fixture(scope="module")
def llm_server(model_cache, tmp_path_factory, free_port):
    """`python -m llama_cpp.server` with the small bundled model: the LLM both chat servers share."""
    from litopys.rag.gguf import resolve_gguf

    pytest.importorskip("sse_starlette", reason="llama_cpp.server needs the test extra (sse-starlette)")
    path = resolve_gguf(SMALL_LLM, model_cache)
    port = free_port()
    log = tmp_path_factory.mktemp("llm") / "server.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--host", "127.0.0.1"]
            + ["--port", str(port), "--n_ctx", "4096", "--model_alias", "small"],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    base = f"http://127.0.0.1:{port}/v1"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/models", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        deadline = time.monotonic() + 300
        while not up():
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def _ask(url: str, question: str) -> tuple[str, str, str]:
    """(state, text, sources html) of one answer from a chat server's /respond."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    try:
        # /respond's outputs start with the question box, the chat and the sources (then the filters).
        outputs = client.predict(question, "", "", [], api_name="/respond")
        chat, sources = outputs[1], outputs[2]
    finally:
        client.close()
    state, text = answer_from_chat(chat)
    return state, text, sources


def test_two_chat_servers_share_one_milvus_index_and_one_llm_server(
    tmp_path, own_milvus_server, llm_server, seed, new_article, model_cache, cli_env, run_cli, start_server
):
    milvus = own_milvus_server
    corpus = tmp_path / "corpus"  # one corpus folder for the writers (a shared volume in a deployment)
    seed.copy_to(corpus)
    servers = []
    try:
        for name in ("a", "b"):
            root = tmp_path / name
            root.mkdir()
            env = cli_env(corpus, root / "index", model_cache)  # index_dir: only the local build lock
            env.update(
                _milvus_env(milvus.uri),
                LITOPYS_LLM__BACKEND="openai",
                LITOPYS_LLM__BASE_URL=llm_server,
                LITOPYS_LLM__MODEL="small",
                LITOPYS_LLM__MAX_TOKENS="48",
                LITOPYS_RETRIEVAL__TOP_K="2",
                GRADIO_TEMP_DIR=str(root / "gradio-tmp"),
            )
            if name == "a":
                run_cli(env, "index", "--json")
            servers.append(start_server(root, env, timeout=1200))  # a loaded machine loads the embedder slowly
        a, b = servers

        # An article uploaded through A's library tab ...
        from gradio_client import Client, handle_file

        upload = tmp_path / "zhyrafy.txt"
        upload.write_text(new_article.text, encoding="utf-8")
        client = Client(a.url, verbose=False)
        report, _status = client.predict([handle_file(str(upload))], api_name="/upload")
        client.close()
        assert "uploads/zhyrafy.txt" in report and "Додано 1" in report, report
        # ... is found by B on its next question, with no restart.
        state, text, sources = _ask(b.url, new_article.question)
        assert "uploads/zhyrafy.txt" in sources and state == "done" and text.strip(), (state, text, sources)

        # Milvus crashes mid-chat: that answer fails with a message naming it; B stays up.
        milvus.stop(signal.SIGKILL)
        started = time.monotonic()
        state, text, _ = _ask(b.url, new_article.question)
        assert state == "error" and f"the Milvus server at {milvus.uri}" in text, (state, text)
        assert time.monotonic() - started < 60
        assert b.proc.poll() is None and httpx.get(b.url + "/", timeout=30).status_code == 200

        # Milvus comes back: both answer again, without a restart of theirs.
        milvus.restart()
        for server in (a, b):
            state, text, sources = _ask(server.url, new_article.question)
            assert "uploads/zhyrafy.txt" in sources and state == "done", (server.url, state, text)
    finally:
        for server in servers:
            server.stop()
