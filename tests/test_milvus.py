"""The index on Milvus: a real `milvus-lite server` on a loopback port, driven through pymilvus's gRPC path.

The same corpus (the seed, the dev questions' ner-uk articles and some more) is indexed
by both backends with the tiny deterministic embedder, so differences come from the
backends alone: retrieval parity on the dev questions, filters, incremental writes with
stable chunk ids, and builds SIGKILLed at each fault point (in a `litopys index` subprocess).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from litopys.core.config import Settings, load_settings
from litopys.index.backend import index_status, indexed_article, list_articles, list_sections_and_tags, open_index
from litopys.index.builder import build_index
from litopys.index.milvus import bm25_token, filter_expr, scopes
from litopys.rag.retrieval import RetrievalFilter, Retriever

pytestmark = pytest.mark.slow

EXTRA_NER = 40  # ner-uk articles beyond the dev questions' own


def _settings(corpus: Path, index_dir: Path, **index: object) -> Settings:
    return load_settings(corpus_dir=corpus, index_dir=index_dir, index=index)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, ner_uk: Path, dev_questions: Path, seed) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    seed.copy_to(root)
    lines = dev_questions.read_text(encoding="utf-8").splitlines()
    wanted = {q["article"] for q in map(json.loads, filter(None, lines)) if q.get("article")}
    wanted |= {p.name for p in sorted(ner_uk.glob("*.txt"))[:EXTRA_NER]}
    (root / "ner").mkdir()
    for name in sorted(wanted):
        shutil.copy(ner_uk / name, root / "ner" / name)
    return root


@pytest.fixture(scope="module")
def questions(dev_questions: Path) -> list[dict]:
    return [json.loads(line) for line in dev_questions.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def both(corpus: Path, milvus_server, tiny_embedder, tmp_path_factory) -> Iterator[tuple[Retriever, Retriever]]:
    """(local, milvus) retrievers over the same corpus."""
    local = _settings(corpus, tmp_path_factory.mktemp("local"))
    remote = _settings(
        corpus, tmp_path_factory.mktemp("m"), backend="milvus", uri=milvus_server.uri, collection="parity"
    )
    for settings in (local, remote):
        build_index(settings, tiny_embedder)
    readers = [open_index(s, tiny_embedder.spec, tiny_embedder.dim) for s in (local, remote)]
    try:
        yield (
            Retriever(readers[0], tiny_embedder, local.retrieval),
            Retriever(readers[1], tiny_embedder, remote.retrieval),
        )
    finally:
        for reader in readers:
            reader.close()


def test_filter_expressions_and_tokens():
    f = RetrievalFilter.build("2024-01-01", "2024-12-31", ["ner/", "feeds/a.jsonl", "section:Політика", "tag:США"])
    assert filter_expr(f) == (
        'date != "" and date >= "2024-01-01" and date <= "2024-12-31" and '
        '(article_id in ["feeds/a.jsonl"] or array_contains_any(scopes, ["feeds/a.jsonl#", "ner/"])) and '
        '(section in ["Політика"] or array_contains_any(tags, ["США"]))'
    )
    assert filter_expr(RetrievalFilter()) is None
    assert scopes("a/b/c.jsonl#x/y") == ["a/", "a/b/", "a/b/c.jsonl#", "a/b/c.jsonl#x/"]
    assert bm25_token("п'ять") == bm25_token("п-ять") == "пʼять"
    assert bm25_token("київ") == "київ"


def test_both_backends_find_the_same_passages(both, questions):
    """Same dense scores; BM25 differs in its IDF formula and statistics (docs/operations.md), hence a tolerance."""
    local, remote = both
    same_top = overlap = 0
    recall = {"local": 0, "milvus": 0}
    for q in questions:
        a, b = local.search(q["question"]), remote.search(q["question"])
        same_top += a[0].chunk_id == b[0].chunk_id
        overlap += len({p.chunk_id for p in a} & {p.chunk_id for p in b})
        for name, passages in (("local", a), ("milvus", b)):
            recall[name] += any(p.article_id == f"ner/{q['article']}" for p in passages)
    print(f"same top passage {same_top}/{len(questions)}, top-5 overlap {overlap}/{5 * len(questions)}, {recall=}")
    assert recall["milvus"] >= recall["local"] - 1  # the gold article in the top 5: at most one question apart
    assert same_top >= len(questions) - 2
    assert overlap >= 0.75 * 5 * len(questions)
    # Dense search alone is the same search on both.
    question = questions[0]["question"]
    assert [c for c, _ in local.dense(question, 10)] == [c for c, _ in remote.dense(question, 10)]


def test_filters_mean_the_same_on_both(both, questions):
    local, remote = both
    date = local.reader.snapshot().chunks([1])[1].date or "2024-01-01"
    cases = [
        RetrievalFilter.build(paths=["ner/"]),
        RetrievalFilter.build(paths=[f"ner/{questions[0]['article']}", f"ner/{questions[1]['article']}"]),
        RetrievalFilter.build(date_from=date, date_to=date),
        RetrievalFilter.build(date_to="2000-01-01"),
    ]
    for f in cases:
        question = questions[0]["question"]
        # Dense search is the same search on both: the same chunks pass the filter.
        allowed = local.dense(question, 10_000, f)
        assert [c for c, _ in remote.dense(question, 10_000, f)] == [c for c, _ in allowed], f
        articles = {c.article_id for c in local.reader.snapshot().chunks([c for c, _ in allowed]).values()}
        found = {p.article_id for p in remote.search(question, top_k=20, filters=f)}
        assert found <= articles and (found or not articles), f
    assert not remote.search(questions[0]["question"], filters=cases[-1])


def test_viewer_lists_and_status_read_milvus(both, corpus, milvus_server):
    settings = _settings(corpus, corpus, backend="milvus", uri=milvus_server.uri, collection="parity")
    local = load_settings(index_dir=both[0].reader.index_dir)
    assert list_articles(settings) == list_articles(local)
    assert list_sections_and_tags(settings) == list_sections_and_tags(local)
    aid = list_articles(local)[0][0]
    assert indexed_article(settings, aid) == indexed_article(local, aid)
    assert indexed_article(settings, "no/such.txt") is None
    status = index_status(settings)
    assert status["articles"] == index_status(local)["articles"] and status["chunks"] == index_status(local)["chunks"]
    empty = _settings(corpus, corpus, backend="milvus", uri=milvus_server.uri, collection="nothing_here")
    assert list_articles(empty) == [] and index_status(empty) == {}
