"""The OpenAI-compatible LLM backend, against a real `python -m llama_cpp.server` on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

from litopys.core.config import LLMSettings
from litopys.core.errors import ModelUnavailableError
from litopys.rag.llm import OpenAIChat, Sampling, open_chat_model

# The default model: the 0.5B one garbles the surname ("Кирилоudev"), which is rightly withheld.
MODEL = "bundled:qwen2.5-coder-1.5b"


def test_openai_backend_needs_a_base_url(tmp_path):
    with pytest.raises(ModelUnavailableError, match="base_url"):
        open_chat_model(LLMSettings(backend="openai", model="m"), tmp_path)


def test_unreachable_server_is_a_clear_error(free_port):
    chat = OpenAIChat(f"http://127.0.0.1:{free_port()}/v1", "m", timeout_s=5)
    with pytest.raises(ModelUnavailableError, match="unreachable"):
        list(chat.stream([{"role": "user", "content": "hi"}], Sampling(4, 0.0, 0)))


def test_api_key_is_secret():
    settings = LLMSettings(backend="openai", base_url="http://x/v1", api_key="sk-123")
    assert "sk-123" not in repr(settings) and settings.api_key.get_secret_value() == "sk-123"


@pytest.fixture(scope="module")
def llm_server(model_cache, tmp_path_factory, free_port):
    from litopys.rag.gguf import resolve_gguf

    pytest.importorskip("sse_starlette", reason="llama_cpp.server needs the test extra (sse-starlette)")
    path = resolve_gguf(MODEL, model_cache)
    port = free_port()
    # A file, not a pipe: llama.cpp logs a lot, and a full pipe would block the server.
    log = tmp_path_factory.mktemp("server") / "server.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--model_alias",
            "small",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(log, "w"),  # noqa: SIM115 (closed with the process)
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 300  # a loaded 2-core machine loads models slowly
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not come up within 300 s: {log.read_text()[-2000:]}")
            time.sleep(1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.slow
def test_server_streams_and_counts_tokens(llm_server):
    chat = OpenAIChat(llm_server, "small")
    pieces = list(chat.stream([{"role": "user", "content": "Say OK."}], Sampling(8, 0.0, 0)))
    assert len(pieces) >= 1 and "".join(pieces).strip()
    # The server's own tokenizer: the same count as the in-process one would give.
    assert chat.count_tokens("Ціна на хліб зросла.") == len(
        httpx.post(llm_server.removesuffix("/v1") + "/extras/tokenize", json={"input": "Ціна на хліб зросла."}).json()[
            "tokens"
        ]
    )


@pytest.mark.slow
def test_ask_through_the_openai_backend_cites_the_seed(llm_server, tmp_path, model_cache, cli_env, run_cli, seed):
    env = cli_env(seed.path.parent, tmp_path / "index", model_cache)
    env.update(LITOPYS_LLM__BACKEND="openai", LITOPYS_LLM__BASE_URL=llm_server, LITOPYS_LLM__MODEL="small")
    run_cli(env, "index", "--json")
    out = json.loads(run_cli(env, "ask", seed.question, "--json").stdout)
    assert "Дмитрієв" in out["answer"] and not out["refused"], out
    assert any(c["article_id"] == seed.article_id and "Дмитрієв" in c["text"] for c in out["citations"]), out
