"""Hybrid retrieval scores every candidate with both signals (no guessed floors)."""

from __future__ import annotations

import numpy as np
import pytest

from litopys.index import vectors
from litopys.index.lemmatize import query_lemmas
from litopys.rag import retrieval
from litopys.rag.retrieval import Retriever, cross_lingual

ARTICLES = {
    "zoo.txt": "date 2024-11-14 Слоненя в зоопарку\nУ зоопарку Миколаєва народився слоненя на ім'я Бонд. "
    "Доглядачі кажуть, що слоненя важить 90 кілограмів і добре їсть.",
    "bridge.txt": "date 2024-10-02 Ремонт мосту\nМіськрада Житомира уклала договір на ремонт мосту через "
    "Тетерів. Роботи коштуватимуть 12 мільйонів гривень і триватимуть до весни.",
    "rain.txt": "date 2024-10-03 Погода\nУ Львові в суботу очікується дощ, у неділю потеплішає до 12 градусів.",
}


@pytest.fixture(scope="module")
def retriever(make_retriever, tiny_embedder):
    with make_retriever(ARTICLES, tiny_embedder) as retriever:
        yield retriever


def test_bm25_scores_of_every_match_agree_with_the_ranking(retriever):
    store = retriever.reader.store
    lemmas = query_lemmas("ремонт мосту у Житомирі")
    scores = store.bm25_scores(lemmas)
    match = " OR ".join(f'"{lem}"' for lem in lemmas)
    top = [
        (rowid, -s)
        for rowid, s in store.conn.execute(  # FTS5's own ranking, best first
            "SELECT rowid, bm25(chunks_fts, 1.0, 0.3) AS s FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY s LIMIT 2",
            (match,),
        )
    ]
    assert scores and top
    assert len(top) <= 2 and all(scores[cid] == pytest.approx(s) for cid, s in top)
    assert [s for _, s in top] == sorted(scores.values(), reverse=True)[: len(top)]
    no_match = [cid for cid in store.get_chunks(range(1, 200)) if cid not in scores]
    assert no_match, "the seed article's chunks share no lemma with the question"
    assert store.bm25_scores([]) == {}


def test_vector_scores_for_ids_match_the_search(retriever):
    snapshot = retriever.reader.refresh()
    query = retriever.embedder.encode_query("слоненя в зоопарку")
    found = vectors.search(snapshot.vectors, query, 3)
    exact = vectors.scores_for(snapshot.vectors, query, [cid for cid, _ in found] + [10**9])
    assert [cid for cid, _ in exact] == [cid for cid, _ in found]  # the unknown id is skipped
    np.testing.assert_allclose([s for _, s in exact], [s for _, s in found], rtol=1e-5)


def test_every_candidate_is_scored_by_both_signals(retriever):
    # Few candidates per signal, so each side finds chunks the other did not.
    narrow = retriever.settings.model_copy(update={"candidates": 2, "top_k": 4, "per_article_cap": 4})
    retriever = Retriever(retriever.reader, retriever.embedder, narrow)
    question = "Хто важить 90 кілограмів?"
    own_lexical, own_dense = (
        {c for c, _ in retriever.lexical(question, 2)},
        {c for c, _ in retriever.dense(question, 2)},
    )
    assert own_lexical != own_dense
    lexical, dense = retriever._signals(question)
    assert {cid for cid, _ in lexical} == {cid for cid, _ in dense} == own_lexical | own_dense
    for p in retriever.search(question):
        assert p.lexical_score is not None and p.dense_score is not None


@pytest.mark.parametrize(
    ("question", "texts", "across"),
    [
        (
            "What happened with the Tesla recall?",
            ["Американська компанія Tesla відкличе 2431 електричний пікап Cybertruck у США."],
            True,
        ),
        (
            "Що сталося з Tesla?",
            ["Американська компанія Tesla відкличе 2431 електричний пікап Cybertruck у США."],
            False,
        ),
        ("What happened with the Tesla recall?", ["Tesla recalls 2,431 Cybertruck pickups."], False),
        ("Що відкликала Tesla?", ["Tesla recalls 2,431 Cybertruck pickups."], True),
        ("Which articles mention Стармер?", ["Прем'єр Британії Кір Стармер заявив..."], True),
    ],
)
def test_cross_lingual_compares_the_scripts_of_the_question_and_the_passages(question, texts, across):
    assert cross_lingual(question, texts) is across


def test_a_question_in_another_script_than_the_passages_leans_on_the_dense_side(retriever, monkeypatch):
    weights: list[float] = []
    real = retrieval.zscore_fusion

    def spy(lexical, dense, dense_weight):
        weights.append(dense_weight)
        return real(lexical, dense, dense_weight)

    monkeypatch.setattr(retrieval, "zscore_fusion", spy)
    settings = retriever.settings.model_copy(update={"dense_weight": 0.3, "cross_lingual_dense_weight": 0.9})
    mine = Retriever(retriever.reader, retriever.embedder, settings)
    mine.search("Скільки коштує ремонт мосту?")
    mine.search("How much does the bridge repair cost?")
    assert weights == [0.3, 0.9]
    # Set equal to the dense weight, the cross-lingual weight changes nothing.
    same = Retriever(
        retriever.reader, retriever.embedder, settings.model_copy(update={"cross_lingual_dense_weight": 0.3})
    )
    same.search("How much does the bridge repair cost?")
    assert weights[-1] == 0.3
