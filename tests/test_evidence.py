"""When no retrieved passage stands out, the assistant refuses without asking the LLM."""

from __future__ import annotations

import pytest

from litopys.core.config import LLMSettings
from litopys.rag.answer import Answer, Answerer
from litopys.rag.prompt import REFUSAL_UK
from litopys.rag.retrieval import MIN_POOL, Passage


def _passage(n: int, score: float) -> Passage:
    return Passage(n, f"{n}.txt", "Заголовок", None, f"Текст фрагмента {n}.", 0, 20, score)


@pytest.fixture
def ranked(fixed_ranking):
    """``ranked(scores, pool, across=False, **settings)``: a retriever ranking passages of these ``scores``."""
    return lambda scores, pool, across=False, **settings: fixed_ranking(
        [_passage(n, s) for n, s in enumerate(scores, 1)], pool, across, **settings
    )


def test_a_low_best_score_in_a_full_pool_does_not_stand_out(ranked):
    assert not ranked([1.2, 1.1, 1.0], MIN_POOL).evidence("q").stands_out
    assert ranked([1.6, 1.1, 1.0], MIN_POOL).evidence("q").stands_out
    # A small pool cannot produce a high z-score: no verdict from it.
    assert ranked([1.2, 1.1], MIN_POOL - 1).evidence("q").stands_out
    assert ranked([1.2], MIN_POOL, min_answer_score=0.0).evidence("q").stands_out
    assert ranked([1.2], MIN_POOL, fusion="rrf").evidence("q").stands_out
    assert not ranked([], 0).evidence("q").stands_out


def test_a_question_in_another_script_than_its_passages_has_a_bar_of_its_own(ranked):
    # An English question over Ukrainian articles meets them in the lexical index only by names
    # written alike: the same evidence scores lower (eval/english_news.jsonl).
    assert ranked([1.2, 1.1], MIN_POOL, across=True, cross_lingual_min_answer_score=1.0).evidence("q").stands_out
    assert not ranked([0.9], MIN_POOL, across=True, cross_lingual_min_answer_score=1.0).evidence("q").stands_out
    assert ranked([0.3], MIN_POOL, across=True, cross_lingual_min_answer_score=0.0).evidence("q").stands_out
    # The same-script bar is untouched by it.
    assert not ranked([1.2], MIN_POOL, cross_lingual_min_answer_score=0.0).evidence("q").stands_out


def test_a_confident_best_passage_drops_far_weaker_ones(ranked):
    kept = ranked([4.0, 2.5, 1.5], MIN_POOL).evidence("q").passages
    assert [p.score for p in kept] == [4.0, 2.5]
    unsure = ranked([1.9, 1.7, 0.5], MIN_POOL).evidence("q").passages
    assert len(unsure) == 3  # nothing stands out enough to prune
    small = ranked([4.0, 2.5, 1.5], MIN_POOL - 1).evidence("q").passages
    assert len(small) == 3  # z-scores of a small pool say too little to drop anything


class NoLLM:
    """Fails the test if the answerer calls the model."""

    def stream(self, *args, **kwargs):
        raise AssertionError("the LLM must not be asked")

    def count_tokens(self, text: str) -> int:
        raise AssertionError("the LLM must not be asked")


def test_the_answerer_refuses_without_the_llm_and_keeps_the_passages(ranked):
    answerer = Answerer(ranked([1.2, 1.0], MIN_POOL), NoLLM(), LLMSettings())
    answer = answerer.ask("Скільки населення має Австралія?")
    assert isinstance(answer, Answer) and answer.refused and answer.low_evidence
    assert answer.text == REFUSAL_UK and not answer.citations and len(answer.passages) == 2
    assert answer.as_dict()["low_evidence"] is True
