"""`litopys bench-index-backends` on a small corpus: both backends built, timed and scored in one run."""

from __future__ import annotations

import json
import shutil

import pytest

from litopys.bench.index_backends import index_backends
from litopys.core.config import load_settings

pytestmark = pytest.mark.slow


def test_bench_compares_local_and_milvus_on_the_same_questions(
    tmp_path, milvus_server, tiny_embedder, ner_uk, dev_questions, seed
):
    corpus = tmp_path / "corpus"
    seed.copy_to(corpus)
    lines = [json.loads(line) for line in dev_questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    for q in lines:
        if q.get("article"):
            shutil.copy(ner_uk / q["article"], corpus / q["article"])
    index = {"uri": milvus_server.uri, "collection": "bench", "lock_settle_s": 0.5}
    settings = load_settings(index_dir=tmp_path / "index", index=index)
    out = index_backends(settings, corpus, dev_questions, embedder=tiny_embedder, tile=2)
    assert out["chunks"] > 0 and out["local_build_s"] > 0 and out["milvus_build_s"] > 0 and out["milvus_migrate_s"] > 0
    answerable = sum(1 for q in lines if q.get("article"))
    for name in ("local", "milvus"):
        assert out[name]["n"] == answerable and 0 < out[name]["p50_ms"] <= out[name]["p95_ms"], out[name]
        assert 0 < out[name]["recall_at_5"] <= 1
    # The same index (migrated, then rebuilt with the same embedder): recall within one question.
    assert abs(out["local"]["recall_at_5"] - out["milvus"]["recall_at_5"]) <= 1 / answerable + 1e-9, out
    assert out["milvus"]["calls_per_question"] > 0 and "calls_per_question" not in out["local"]
    # Tiled: the same chunks and vectors twice over, on both backends, with no embedding.
    tiled = out["tiled"]
    assert tiled["chunks"] == 2 * out["chunks"] and tiled["milvus_migrate_s"] > 0 and tiled["local_tile_s"] > 0
    for name in ("local", "milvus"):
        assert tiled[name]["n"] == answerable and 0 < tiled[name]["p50_ms"] <= tiled[name]["p95_ms"], tiled[name]
