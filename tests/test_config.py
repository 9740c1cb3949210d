"""Settings: defaults, TOML file, LITOPYS_* environment variables, explicit overrides."""

import pytest

from litopys.core.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for key in list(__import__("os").environ):
        if key.startswith("LITOPYS_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_offline_and_local():
    s = load_settings()
    assert s.embedder.model.startswith("bundled:")
    assert s.llm.model == "bundled:qwen2.5-coder-1.5b"
    assert s.server.host == "127.0.0.1"
    assert 0 < s.retrieval.dense_weight < 0.5


def test_toml_then_env_then_override(tmp_path, monkeypatch):
    (tmp_path / "litopys.toml").write_text(
        'corpus_dir = "news"\n[retrieval]\ntop_k = 7\ndense_weight = 0.2\n[llm]\nmax_tokens = 99\n'
    )
    s = load_settings()
    assert (str(s.corpus_dir), s.retrieval.top_k, s.llm.max_tokens) == ("news", 7, 99)
    monkeypatch.setenv("LITOPYS_RETRIEVAL__TOP_K", "3")
    monkeypatch.setenv("LITOPYS_LLM__MODEL", "bundled:qwen2.5-coder-0.5b")
    s = load_settings()
    assert s.retrieval.top_k == 3 and s.retrieval.dense_weight == 0.2
    assert s.llm.model == "bundled:qwen2.5-coder-0.5b"
    assert load_settings(corpus_dir="x").corpus_dir.name == "x"


def test_explicit_config_file(tmp_path):
    cfg = tmp_path / "other.toml"
    cfg.write_text("[server]\nport = 9000\n")
    assert load_settings(cfg).server.port == 9000


def test_bad_settings_are_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "missing.toml")
    monkeypatch.setenv("LITOPYS_RETRIEVAL__DENSE_WEIGHT", "2")
    with pytest.raises(ConfigError, match="dense_weight"):
        load_settings()
    monkeypatch.delenv("LITOPYS_RETRIEVAL__DENSE_WEIGHT")
    (tmp_path / "litopys.toml").write_text("unknown_key = 1\n")
    with pytest.raises(ConfigError, match="unknown_key"):
        load_settings()


def test_paths_expand_home(tmp_path, monkeypatch):
    """`~` in a path setting is the home folder, from a TOML file, the environment or an override."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    (tmp_path / "litopys.toml").write_text(
        'index_dir = "~/.local/share/litopys/index"\ncache_dir = "~/cache"\ncorpus_dir = "~/news"\n'
        '[embedder]\nmodel = "~/models/e5"\n[llm]\nmodel = "~/models/qwen.gguf"\n'
    )
    s = load_settings()
    assert s.index_dir == home / ".local/share/litopys/index"
    assert (s.cache_dir, s.corpus_dir) == (home / "cache", home / "news")
    assert s.embedder.model == str(home / "models/e5")
    assert s.llm.model == str(home / "models/qwen.gguf")
    monkeypatch.setenv("LITOPYS_INDEX_DIR", "~/idx")
    monkeypatch.setenv("LITOPYS_LLM__MODEL", "~/other.gguf")
    s = load_settings()
    assert s.index_dir == home / "idx" and s.llm.model == str(home / "other.gguf")
    assert load_settings(corpus_dir="~/x").corpus_dir == home / "x"
    assert load_settings(embedder={"model": "bundled:use-m3"}).embedder.model == "bundled:use-m3"
    cfg = home / "my.toml"
    home.mkdir()
    cfg.write_text("[server]\nport = 9001\n")
    monkeypatch.setenv("LITOPYS_CONFIG", "~/my.toml")
    assert load_settings().server.port == 9001
