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
from litopys.index.milvus import MilvusIndex, bm25_text, bm25_token, filter_expr, scopes
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


def test_one_hybrid_call_sums_both_fields_exactly(both, questions):
    """The hybrid BM25 call gives body + 0.3 x title, as two separate per-field searches do."""
    from litopys.index.lemmatize import query_lemmas
    from litopys.index.milvus import TITLE_WEIGHT, ids_expr
    from litopys.index.milvus import both as both_exprs

    _, remote = both
    snapshot = remote.reader.snapshot()
    milvus = snapshot.milvus
    params = {"metric_type": "BM25", "params": {"drop_ratio_search": 0.0}}
    for q in questions[:4]:
        text = bm25_text(query_lemmas(q["question"]))
        top = snapshot.lexical(query_lemmas(q["question"]), 20, None).top
        ids = [c for c, _ in top]
        where = both_exprs(snapshot.visible, ids_expr(ids))
        body = {c: abs(v) for c, v in milvus.search("sparse_lemmas", [text], len(ids), where, params)}
        title = {c: abs(v) for c, v in milvus.search("sparse_title", [text], len(ids), where, params)}
        for cid, score in top:
            assert score == pytest.approx(body.get(cid, 0.0) + TITLE_WEIGHT * title.get(cid, 0.0), rel=1e-5)


def test_a_question_costs_few_milvus_calls(both, questions):
    """The published record, two BM25 calls, one dense search, the other side's exact scores, the texts."""
    _, remote = both
    milvus = remote.reader.milvus
    remote.search(questions[0]["question"])  # the snapshot is made once per generation
    before = milvus.calls
    for q in questions:
        remote.search(q["question"])
    assert (milvus.calls - before) / len(questions) <= 8


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


# --- writes: incremental, and killed mid-way -------------------------------------------------------

KEPT, CHANGED, REMOVED = "ner/0386.txt", "ner/0368.txt", "ner/0187.txt"


@pytest.fixture
def small(tmp_path, ner_uk: Path, seed, milvus_server, request) -> Settings:
    """The seed and three ner-uk articles, indexed on its own collection prefix (named after the test)."""
    corpus = tmp_path / "corpus"
    seed.copy_to(corpus)
    (corpus / "ner").mkdir()
    for aid in (KEPT, CHANGED, REMOVED):
        shutil.copy(ner_uk / Path(aid).name, corpus / aid)
    prefix = request.node.name.replace("[", "_").replace("]", "").replace("-", "_")
    return _settings(corpus, tmp_path / "index", backend="milvus", uri=milvus_server.uri, collection=prefix)


def change_corpus(corpus: Path, new_article) -> None:
    """One article added (``new_article``), one changed, one removed."""
    new_article.write_to(corpus)
    with open(corpus / CHANGED, "a", encoding="utf-8") as fh:
        fh.write("\nДодатковий абзац про переговори.\n")
    (corpus / REMOVED).unlink()


def chunk_ids(index: MilvusIndex, article_id: str) -> list[int]:
    snap = index.snapshot()
    rows = index.milvus.query(index.milvus.names.chunks, f'{snap.visible} and article_id == "{article_id}"', ["id"])
    return sorted(int(r["id"]) for r in rows)


def published_ids(settings: Settings) -> set[str]:
    return {aid for aid, _, _ in list_articles(settings)}


def test_incremental_add_update_remove_keeps_chunk_ids(small, tiny_embedder, seed, new_article):
    new_id, new_question = new_article.article_id, new_article.question
    first = build_index(small, tiny_embedder)
    assert first.added == 4 and first.chunks_total == first.chunks_embedded
    index = MilvusIndex(small.index, tiny_embedder.spec, tiny_embedder.dim)
    retriever = Retriever(index, tiny_embedder, small.retrieval)
    try:
        kept_ids = chunk_ids(index, KEPT)
        changed_ids = chunk_ids(index, CHANGED)
        again = build_index(small, tiny_embedder)
        assert (again.added, again.updated, again.removed, again.chunks_embedded) == (0, 0, 0, 0)
        change_corpus(small.corpus_dir, new_article)
        report = build_index(small, tiny_embedder)
        assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 2)
        assert report.chunks_embedded == len(chunk_ids(index, CHANGED)) + len(chunk_ids(index, new_id))
        assert report.chunks_total == sum(len(chunk_ids(index, a)) for a in published_ids(small))
        # Unchanged articles keep their chunk ids; a changed one gets new ids, never reused ones.
        assert chunk_ids(index, KEPT) == kept_ids
        assert min(chunk_ids(index, CHANGED)) > max(changed_ids + kept_ids)
        assert chunk_ids(index, REMOVED) == []
        # The reader opened before the change follows it without reopening.
        assert published_ids(small) == {seed.article_id, KEPT, CHANGED, new_id}
        assert retriever.search(new_question)[0].article_id == new_id
        rebuilt = build_index(small, tiny_embedder, force_rebuild=True)
        assert rebuilt.full_rebuild_reason and rebuilt.chunks_embedded == rebuilt.chunks_total
        assert retriever.search(new_question)[0].article_id == new_id
        assert index_status(small)["chunks"] == rebuilt.chunks_total
    finally:
        index.close()


def test_build_killed_before_and_after_publishing_leaves_readers_consistent(
    small, real_embedder, seed, cli_env, run_cli, model_cache, new_article
):
    """SIGKILL (the builder's LITOPYS_FAULT_AT points) in a real `litopys index` subprocess."""
    new_id, new_question = new_article.article_id, new_article.question
    build_index(small, real_embedder)
    index = MilvusIndex(small.index, real_embedder.spec, real_embedder.dim)
    retriever = Retriever(index, real_embedder, small.retrieval)
    before = published_ids(small)
    env = {
        **cli_env(small.corpus_dir, small.index_dir, model_cache),
        "LITOPYS_INDEX__BACKEND": "milvus",
        "LITOPYS_INDEX__URI": small.index.uri,
        "LITOPYS_INDEX__COLLECTION": small.index.collection,
    }
    try:
        change_corpus(small.corpus_dir, new_article)
        # Killed with the new rows written, not published: readers stay on the old generation.
        generation = index.snapshot().generation
        proc = run_cli({**env, "LITOPYS_FAULT_AT": "vectors-written"}, "index", "--json", check=False)
        assert proc.returncode == -9, proc.stderr[-2000:]
        assert index.snapshot().generation == generation and published_ids(small) == before
        assert new_id not in {p.article_id for p in retriever.search(new_question)}
        # Killed right after publishing, before deleting the replaced rows: readers see the new generation only.
        proc = run_cli({**env, "LITOPYS_FAULT_AT": "committed"}, "index", "--json", check=False)
        assert proc.returncode == -9, proc.stderr[-2000:]
        assert index.snapshot().generation == generation + 1
        assert published_ids(small) == {seed.article_id, KEPT, CHANGED, new_id}
        assert retriever.search(new_question)[0].article_id == new_id
        changed = [c for c in index.snapshot().chunks(chunk_ids(index, CHANGED)).values()]
        assert len({c.ordinal for c in changed}) == len(changed)  # one copy of the changed article, not two
        # The next build finishes the deletes and has nothing to embed.
        report = build_index(small, real_embedder)
        assert report.chunks_embedded == 0 and not report.full_rebuild_reason
        stored = index.milvus.query(index.milvus.names.articles, "part == 0", ["article_id"])
        assert sorted(r["article_id"] for r in stored) == sorted(published_ids(small))
    finally:
        index.close()


# --- dates: what a dated question reads from the index ---------------------------------------------

NEWS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "news" / "articles"
# 0009, 0014 dated 2024-11-14; 0174, 0190, 0229 dated 2024-11-13; 0530, 0600 undated. The seed: 2025-12-17.
NEWS_FILES = ("0009.txt", "0014.txt", "0174.txt", "0190.txt", "0229.txt", "0530.txt", "0600.txt")
DATED_TOPIC = "Що відбувається на Хмельниччині та в Хмельницькій області"


@pytest.fixture(scope="module")
def dated(milvus_server, tiny_embedder, tmp_path_factory, seed) -> Iterator[tuple[Retriever, Retriever]]:
    """(local, milvus) retrievers over a few dated and undated news articles and the seed."""
    if not NEWS.is_dir():
        pytest.skip(f"needs the shared news corpus at {NEWS} (present in CI)")
    corpus = tmp_path_factory.mktemp("dated_corpus")
    seed.copy_to(corpus)
    (corpus / "news").mkdir()
    for name in NEWS_FILES:
        shutil.copy(NEWS / name, corpus / "news" / name)
    local = _settings(corpus, tmp_path_factory.mktemp("dated_local"))
    remote = _settings(
        corpus, tmp_path_factory.mktemp("dated_m"), backend="milvus", uri=milvus_server.uri, collection="dated"
    )
    for settings in (local, remote):
        build_index(settings, tiny_embedder)
    readers = [open_index(s, tiny_embedder.spec, tiny_embedder.dim) for s in (local, remote)]
    try:
        yield tuple(Retriever(r, tiny_embedder, s.retrieval) for r, s in zip(readers, (local, remote), strict=True))
    finally:
        for reader in readers:
            reader.close()


def test_dated_articles_and_chunk_dates_mean_the_same_on_both(dated):
    local, remote = (r.reader.snapshot() for r in dated)
    everything = local.dated_articles(None)
    assert (everything.articles, everything.dated) == (len(NEWS_FILES) + 1, len(NEWS_FILES) - 2 + 1)
    assert (everything.oldest, everything.newest) == ("2024-11-13", "2025-12-17")
    cases = [
        None,
        RetrievalFilter(),
        RetrievalFilter.build("2024-11-13", "2024-11-13"),
        RetrievalFilter.build(date_from="2024-11-14"),
        RetrievalFilter.build(date_to="2000-01-01"),
        RetrievalFilter.build(paths=["news/"]),
        RetrievalFilter.build("2024-11-14", "2024-11-14", ["news/0009.txt", "news/0530.txt"]),
    ]
    for f in cases:
        assert remote.dated_articles(f) == local.dated_articles(f), f
    assert remote.dated_articles(cases[2]).articles == 3
    assert remote.dated_articles(cases[4]).articles == 0
    ids = [c for c, _ in dated[0].dense(DATED_TOPIC, 10_000)]
    dates = local.chunk_dates(ids)
    assert remote.chunk_dates(ids) == dates and set(dates.values()) == {"2024-11-13", "2024-11-14", "2025-12-17", None}
    assert remote.chunk_dates([10**12]) == {}


def test_a_dated_question_reads_and_filters_the_same_on_both(dated):
    local, remote = dated
    for question in (f"{DATED_TOPIC} 13 листопада 2024 року?", f"{DATED_TOPIC} у 2024 році?", "Новини 2031 року?"):
        a, b = local.question_dates(question), remote.question_dates(question)
        assert a == b, question
    dates = remote.question_dates(f"{DATED_TOPIC} 13 листопада 2024 року?")
    assert dates is not None and dates.applied
    found = remote.search(f"{DATED_TOPIC} 13 листопада 2024 року?", filters=dates.narrow(None))
    assert found and {p.date for p in found} == {"2024-11-13"}
    # The latest news: the same candidates gain the same for being recent on both.
    fused = local.dense("Останні новини про Хмельницьку АЕС", 10_000)
    gains = [r._recency(fused, r.reader.snapshot()) for r in dated]
    assert gains[0] == gains[1] and len(set(gains[0].values())) == 3  # one gain a dated day
