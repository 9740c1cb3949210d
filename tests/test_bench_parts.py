"""The parts of `litopys bench` that decide things: targets on ratios, index type by size, recall, naive BM25.

No timings are asserted here (those are printed by the bench, never tested).
"""

from __future__ import annotations

import json
import math
import os
from types import SimpleNamespace

import numpy as np
import pytest

from litopys.bench.answering import NaiveBM25, Timed, settings_env
from litopys.bench.indexing import recall_at
from litopys.bench.load import LoadPlan, RssSampler, summarize
from litopys.bench.report import BenchReport, Figure
from litopys.core.config import load_settings
from litopys.core.measure import percentile, times_ms
from litopys.index import vectors
from litopys.index.corpus import Article
from litopys.index.store import Store


def _flat(n: int, dim: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    index = vectors.new_index(dim)
    index.add_with_ids(vecs, np.arange(100, 100 + n, dtype=np.int64))
    return index, vecs


def test_target_is_checked_on_the_ratio_when_there_is_a_reference():
    slower = Figure("x.ratio", "ours", 11.5, "s", 10.0, "raw", "<= 1.10")
    assert round(slower.ratio, 2) == 1.15 and slower.met is False
    assert Figure("x.ratio", "ours", 10.5, "s", 10.0, "raw", "<= 1.10").met is True
    assert Figure("r", "recall", 0.99, target=">= 0.98").met is True  # no reference: the value itself
    assert Figure("n", "info", 3.0).met is None
    out = BenchReport(True, [slower]).as_dict()
    assert out["figures"]["x.ratio"]["ratio"] == 1.15 and out["figures"]["x.ratio"]["met"] is False


def test_percentile_is_on_0_to_100_with_linear_interpolation():
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5  # the median
    assert percentile([10.0, 20.0], 90) == 19.0  # between the two values, not one of them
    assert percentile([7.0], 95) == 7.0
    assert math.isnan(percentile([], 50))


def test_timing_loop_times_every_item_after_untimed_warm_up_calls():
    calls: list[str] = []
    times = times_ms(calls.append, ["a", "b", "c"], warmup=2)
    assert calls == ["a", "b", "a", "b", "c"]
    assert len(times) == 3 and all(t >= 0 for t in times)


def test_load_summary_has_no_percentiles_without_answers():
    summary = summarize([], RssSampler(None), LoadPlan(["?"], users=2, duration_s=5), wall_s=5.0)
    assert summary["requests"] == 0 and summary["users"] == 2 and summary["duration_s"] == 5
    assert summary["queue_wait_s"] == {"p50": None, "p95": None, "max": None}  # JSON null, never NaN
    assert summary["latency_s"]["p95"] is None


def test_store_copies_articles_chunks_and_bm25_rows_with_new_chunk_ids(tmp_path):
    store = Store(tmp_path / "index.sqlite3")
    for n, (aid, text) in enumerate((("a.txt", "міст через Дніпро"), ("b.txt", "дощ у Львові"))):
        # The store reads only these fields of a chunk.
        chunk = SimpleNamespace(article_id=aid, ordinal=0, start=0, end=len(text), text=text)
        store.insert_article(Article(aid, aid, None, text, f"h{n}"), [chunk], [n + 1], [text], aid)
    with store.conn:
        step = store.add_copies(3)
    assert step == 3
    assert store.counts() == {"articles": 6, "chunks": 6}
    assert store.all_chunk_ids() == [1, 2, 4, 5, 7, 8]
    copied = store.get_chunks([5, 7])
    assert (copied[5].article_id, copied[5].text) == ("b.txt#copy1", "дощ у Львові")
    assert copied[7].article_id == "a.txt#copy2"
    assert sorted(store.bm25_scores(["міст"])) == [1, 4, 7]
    assert store.get_meta()["next_chunk_id"] == "9"
    store.close()


def test_index_type_follows_the_threshold_and_keeps_ids(tmp_path):
    index, vecs = _flat(300)
    assert vectors.searchable(index, 1000) is index  # small: exact search
    graph = vectors.searchable(index, 200, tmp_path / "g.faiss")
    assert graph is not index and (tmp_path / "g.faiss").exists()
    assert vectors.search(graph, vecs[7], 1)[0][0] == 107  # the same chunk ids as the flat index
    cached = vectors.searchable(index, 200, tmp_path / "g.faiss")
    assert cached.ntotal == 300 and vectors.search(cached, vecs[7], 1)[0][0] == 107


def test_graph_index_scores_candidates_and_filters_exactly():
    index, vecs = _flat(300)
    graph = vectors.searchable(index, 200)
    # Hybrid fusion scores the other signal's candidates by id: the graph must support it too.
    ids = [105, 250, 399]
    np.testing.assert_allclose(
        [s for _, s in vectors.scores_for(graph, vecs[7], ids)],
        [s for _, s in vectors.scores_for(index, vecs[7], ids)],
        rtol=1e-5,
    )
    # A filtered search over the graph returns what exact search over the subset returns.
    allowed = list(range(100, 400, 7))
    assert [c for c, _ in vectors.search(graph, vecs[7], 5, allowed)] == [
        c for c, _ in vectors.search(index, vecs[7], 5, allowed)
    ]


def test_recall_is_one_for_exact_search_and_counts_ties():
    index, vecs = _flat(200)
    assert recall_at(index, index, vecs[:20], 10) == 1.0
    twins = vectors.new_index(16)  # every vector twice: any of the twins is a correct hit
    twins.add_with_ids(np.vstack([vecs, vecs]), np.arange(400, dtype=np.int64))
    assert recall_at(twins, twins, vecs[:5], 10) == 1.0


def test_decode_rate_excludes_the_first_token():
    assert Timed(ttft_s=2.0, total_s=4.0, tokens=5).decode_tps == 2.0
    assert np.isnan(Timed(ttft_s=2.0, total_s=2.0, tokens=1).decode_tps)


def test_naive_bm25_returns_paragraphs_of_at_most_700_characters():
    body = "Міст через Дніпро відкрили у Києві.\n\n" + "Слово " * 300 + "\nПогода була сонячна."
    articles = [
        Article("a.txt", "Новий міст", None, body, "h1"),
        Article("b.txt", "Погода", None, "Дощ у Львові.", "h2"),
    ]
    top = NaiveBM25(articles).top("Де відкрили міст через Дніпро?")
    assert top[0] == ("Новий міст", "Міст через Дніпро відкрили у Києві.")
    assert all(len(text) <= 700 for _, text in NaiveBM25(articles).top("слово"))


def test_tiled_index_is_a_consistent_published_index(tmp_path_factory, make_retriever, tiny_embedder):
    from litopys.bench.indexing import tiled_index
    from litopys.index.reader import IndexReader, check_index, verify_index
    from litopys.rag.retrieval import Retriever

    article = {"zoo.txt": "date 2024-11-14 Слоненя\nУ зоопарку Миколаєва народився слоненя на ім'я Бонд."}
    with make_retriever(article, tiny_embedder) as retriever:
        source = retriever.reader.index_dir
        target = tmp_path_factory.mktemp("tiled") / "x3"
        tiled_index(source, target, 3)
        assert verify_index(target) == []
        check_index(target)  # what `serve` runs at start: the vector checksum must match
        reader = IndexReader(target, retriever.embedder.spec, retriever.embedder.dim)
        try:
            assert reader.store.counts()["chunks"] == 3 * retriever.reader.store.counts()["chunks"]
            found = Retriever(reader, retriever.embedder, retriever.settings).search("слоненя Бонд", top_k=6)
            assert {p.article_id for p in found} >= {"zoo.txt", "zoo.txt#copy1", "zoo.txt#copy2"}
        finally:
            reader.close()
        assert tiled_index(source, target, 3) == target  # reused while the source is unchanged


def test_a_cold_process_gets_the_bench_runs_settings_through_its_environment(tmp_path, monkeypatch):
    run = load_settings(
        None,
        index_dir=tmp_path / "index",
        llm={"model": "bundled:qwen2.5-coder-0.5b", "n_ctx": 2048, "save_prefix_cache": False},
        retrieval={"top_k": 3},
    )
    monkeypatch.setenv("LITOPYS_LLM__N_CTX", "999")  # the caller's own variables do not leak in
    env = settings_env(run)
    assert "LITOPYS_LLM__N_CTX" not in env
    for name in [k for k in os.environ if k.startswith("LITOPYS_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("LITOPYS_"):
            monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no litopys.toml here
    assert load_settings(None).model_dump() == run.model_dump()


def test_the_prompt_rate_bench_keeps_the_fewest_seconds_and_the_most_tokens_per_second():
    from litopys.bench.prompt_rate import best_of

    runs = [
        {"prompt_s_best": 1.0, "prompt_s_median": 2.0, "prompt_tok_per_s": 10.0, "decode_tok_per_s": 5.0},
        {"prompt_s_best": 0.5, "prompt_s_median": 3.0, "prompt_tok_per_s": 20.0, "decode_tok_per_s": 4.0},
    ]
    assert best_of(runs) == {
        "prompt_s_best": 0.5,
        "prompt_s_median": 2.0,
        "prompt_tok_per_s": 20.0,
        "decode_tok_per_s": 5.0,
    }


@pytest.mark.slow
def test_the_prompt_rate_bench_times_a_user_turn_after_an_evaluated_prefix(tmp_path, monkeypatch, seed, capsys):
    from litopys.bench.prompt_rate import main

    monkeypatch.setenv("LITOPYS_LLM__MODEL", "bundled:qwen2.5-coder-0.5b")
    monkeypatch.chdir(tmp_path)  # no litopys.toml here
    corpus = tmp_path / "corpus"
    seed.copy_to(corpus)
    main(["--corpus", str(corpus), "--prefix", "40", "--new", "24", "--repeats", "2", "--decode", "3"])
    out = json.loads(capsys.readouterr().out)
    assert "flash_attn_on" not in out and "ratio_on_off" not in out  # the configured mode only (off)
    off = out["flash_attn_off"]
    assert off["prompt_tok_per_s"] == pytest.approx(24 / off["prompt_s_best"])
    assert 0 < off["prompt_s_best"] <= off["prompt_s_median"] and off["decode_tok_per_s"] > 0
    assert out["build"].startswith("CPU") and out["llama_cpp"]
    main(
        [
            "--corpus",
            str(corpus),
            "--prefix",
            "40",
            "--new",
            "24",
            "--repeats",
            "1",
            "--decode",
            "2",
            "--flash-attn",
            "both",
        ]
    )
    both = json.loads(capsys.readouterr().out)
    off, on = both["flash_attn_off"], both["flash_attn_on"]
    assert both["ratio_on_off"]["prompt_tok_per_s"] == pytest.approx(on["prompt_tok_per_s"] / off["prompt_tok_per_s"])
    assert both["ratio_on_off"]["decode_tok_per_s"] == pytest.approx(on["decode_tok_per_s"] / off["decode_tok_per_s"])
    with pytest.raises(SystemExit):  # a corpus too short for the tokens asked is an error, not a wrong figure
        main(["--corpus", str(corpus), "--prefix", "900000", "--new", "10"])
