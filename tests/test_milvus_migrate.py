"""`litopys migrate`: a local index copied into Milvus without re-embedding, interrupted and resumed.

The local index is built with the tiny deterministic embedder; migrating takes no embedder at all.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from litopys.core.config import load_settings
from litopys.index import milvus_migrate
from litopys.index.backend import index_status, list_articles, open_index
from litopys.index.builder import build_index
from litopys.index.milvus_migrate import migrate_to_milvus
from litopys.rag.retrieval import Retriever

pytestmark = pytest.mark.slow

NER = 9  # ner-uk articles besides the seed: several batches of two


class Interrupted(BaseException):
    """Ctrl-C in the middle of a run."""


def test_migrate_copies_the_local_index_and_resumes_after_an_interruption(
    tmp_path, milvus_server, tiny_embedder, ner_uk: Path, seed, new_article, monkeypatch, dev_questions
):
    corpus = tmp_path / "corpus"
    seed.copy_to(corpus)
    new_article.write_to(corpus)
    (corpus / "ner").mkdir()
    for path in sorted(ner_uk.glob("*.txt"))[:NER]:
        shutil.copy(path, corpus / "ner" / path.name)
    index = {"backend": "milvus", "uri": milvus_server.uri, "collection": "migrated", "lock_settle_s": 0.5}
    local = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    remote = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index", index=index)
    built = build_index(local, tiny_embedder)
    # An older, different Milvus index under the prefix: the migration replaces it.
    other = tmp_path / "other"
    seed.copy_to(other)
    build_index(remote.model_copy(update={"corpus_dir": other}), tiny_embedder)

    monkeypatch.setattr(milvus_migrate, "ARTICLE_BATCH", 2)
    calls: list[int] = []

    def interrupt_after_two_batches(stage: str, done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        migrate_to_milvus(remote, interrupt_after_two_batches)
    assert [a for a, _, _ in list_articles(remote)] == [seed.article_id]  # readers still see the old index
    seen: list[int] = []
    report = migrate_to_milvus(remote, lambda stage, done, total: seen.append(done))
    assert report.resumed_from == 4 and seen[0] == 6, (report, seen)
    assert (report.articles, report.chunks) == (built.articles_total, built.chunks_total)

    # The same index on both sides: articles, chunk ids, texts, and dense search.
    assert list_articles(remote) == list_articles(local)
    assert index_status(remote)["chunks"] == index_status(local)["chunks"]
    readers = [open_index(s, tiny_embedder.spec, tiny_embedder.dim) for s in (local, remote)]
    try:
        a, b = (Retriever(r, tiny_embedder, local.retrieval) for r in readers)
        questions = [new_article.question, seed.question] + [
            json.loads(line)["question"] for line in dev_questions.read_text(encoding="utf-8").splitlines()[:5]
        ]
        for q in questions:
            assert [c for c, _ in a.dense(q, 10)] == [c for c, _ in b.dense(q, 10)], q
            ids = [c for c, _ in a.dense(q, 10)]
            assert {c: x.text for c, x in readers[0].snapshot().chunks(ids).items()} == {
                c: x.text for c, x in readers[1].snapshot().chunks(ids).items()
            }
        assert b.search(new_article.question)[0].article_id == new_article.article_id
    finally:
        for r in readers:
            r.close()
    # The next `litopys index` against Milvus is incremental: nothing to embed.
    again = build_index(remote, tiny_embedder)
    assert again.chunks_embedded == 0 and not again.full_rebuild_reason, again


def test_index_rebuild_into_milvus_from_the_cli(tmp_path, milvus_server, seed, cli_env, run_cli, model_cache):
    """`litopys index --rebuild --backend milvus`: a Milvus index from the corpus, the local settings untouched."""
    env = {
        **cli_env(seed.path.parent, tmp_path / "index", model_cache),
        "LITOPYS_INDEX__URI": milvus_server.uri,
        "LITOPYS_INDEX__COLLECTION": "from_cli",
    }
    report = json.loads(run_cli(env, "index", "--rebuild", "--backend", "milvus", "--json").stdout)
    assert report["full_rebuild_reason"] == "requested (--rebuild)" and report["chunks_total"] > 0, report
    remote = load_settings(index={"backend": "milvus", "uri": milvus_server.uri, "collection": "from_cli"})
    assert [a for a, _, _ in list_articles(remote)] == [seed.article_id]
    assert index_status(remote)["chunks"] == report["chunks_total"]
    assert index_status(load_settings(index_dir=tmp_path / "index")) == {}  # nothing built locally
    bad = run_cli(env, "index", "--backend", "qdrant", check=False)
    assert bad.returncode == 2 and "--backend takes local or milvus" in bad.stderr
