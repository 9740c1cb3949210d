"""Retriever logic on a real SQLite + FAISS index built with the tiny embedder (fast, no model)."""

from __future__ import annotations

import pytest

from litopys.rag.retrieval import MIN_POOL, Retriever

CITIES = ["Києві", "Львові", "Одесі", "Харкові", "Дніпрі", "Полтаві", "Сумах", "Вінниці"]
TOPICS = [
    "відремонтували дорогу біля вокзалу",
    "відкрили новий сквер для мешканців",
    "провели ярмарок місцевих фермерів",
    "оновили освітлення на центральній вулиці",
    "встановили нові зупинки для автобусів",
    "висадили каштани уздовж набережної",
]
# One article per city and topic: a pool big enough for the evidence verdict (MIN_POOL).
ROUTINE = {
    f"city/{c}-{t}.txt": f"date 2024-05-{t + 1:02d} Новини міста\nУ {city} {topic}. Роботи тривали кілька тижнів."
    for c, city in enumerate(CITIES)
    for t, topic in enumerate(TOPICS)
}
GIRAFFES = "date 2025-03-01 Музей жирафів\nМузей синіх жирафів у Полтаві відкрив меценат Остап Вербицький."
# Shares no lemma with the dinosaur question, only word stems ("динозавр-"): dense finds it, BM25 cannot.
DINO_PARK = "date 2025-04-01 Новий атракціон\nБіля Житомира збудували динозавровий атракціон."
DINO_QUESTION = "Чи знайшли кістки динозаврів біля вокзалу?"


@pytest.fixture(scope="module")
def retriever(make_retriever, tiny_embedder):
    articles = {**ROUTINE, "museum.txt": GIRAFFES, "park.txt": DINO_PARK}
    with make_retriever(articles, tiny_embedder, with_seed=False) as retriever:
        yield retriever


def _with(retriever: Retriever, **settings) -> Retriever:
    return Retriever(retriever.reader, retriever.embedder, retriever.settings.model_copy(update=settings))


def test_the_tiny_index_is_big_enough_for_an_evidence_verdict(retriever):
    assert retriever.reader.store.counts()["chunks"] >= MIN_POOL


def test_lexical_only_ranking_is_the_bm25_ranking(retriever):
    question = "Хто відкрив музей жирафів у Полтаві?"
    lexical_only = _with(retriever, dense_weight=0.0, per_article_cap=10)
    passages = lexical_only.search(question, top_k=5)
    bm25 = retriever.lexical(question, 5)
    assert [p.chunk_id for p in passages] == [cid for cid, _ in bm25]
    assert all(p.dense_score is None for p in passages)  # the dense side was never asked


def test_hybrid_finds_what_shares_no_lemma_with_the_question(retriever):
    lexical = _with(retriever, dense_weight=0.0).search(DINO_QUESTION, top_k=10)
    assert lexical and "park.txt" not in {p.article_id for p in lexical}
    dense_first = _with(retriever, dense_weight=1.0)
    assert dense_first.search(DINO_QUESTION, top_k=1)[0].article_id == "park.txt"
    hybrid = retriever.search(DINO_QUESTION, top_k=10)
    found = {p.article_id: p for p in hybrid}
    assert "park.txt" in found and found["park.txt"].lexical_score == 0.0  # scored, not dropped


def test_per_article_cap_holds_in_the_hybrid_ranking(retriever):
    passages = _with(retriever, per_article_cap=1).search("Новини міста: дорога біля вокзалу", top_k=10)
    ids = [p.article_id for p in passages]
    assert len(ids) == len(set(ids)) == 10


def test_a_distinct_answer_stands_out_and_a_routine_question_does_not(retriever):
    evidence = retriever.evidence("Хто відкрив музей синіх жирафів у Полтаві?")
    assert evidence.stands_out and evidence.passages[0].article_id == "museum.txt"
    # Every routine article answers "news of the city" equally well: nothing stands out.
    assert not retriever.evidence("Які новини міста?").stands_out


def test_a_small_pool_gives_no_verdict(retriever):
    from litopys.rag.retrieval import RetrievalFilter

    few = RetrievalFilter.build(paths=["museum.txt", "park.txt"])
    evidence = retriever.evidence("Які новини міста?", few)
    assert evidence.stands_out  # two candidates say too little to refuse on
    assert {p.article_id for p in evidence.passages} <= {"museum.txt", "park.txt"}
