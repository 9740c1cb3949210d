"""Ukrainian answers in the passages' spelling, with no Russian-only letters."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from litopys.rag.spelling import RUSSIAN_ONLY, fold, passage_spelling, wants_ukrainian

PASSAGE = "Уряд оголосив націоналізацію об'єкта «Укрнафти» у Полтаві. Щоб отримати дозвіл, фірма звернулася до суду."


def test_russian_spelling_takes_the_passage_form() -> None:
    fixed = passage_spelling("Националізацію оголосив уряд [1].", [PASSAGE])
    assert fixed == "Націоналізацію оголосив уряд [1]."


def test_russian_letters_map_back_to_the_passage_word() -> None:
    assert passage_spelling("Це объекта «Укрнафты» [1].", [PASSAGE]) == "Це об'єкта «Укрнафти» [1]."


def test_words_the_passage_spells_the_same_are_left_alone() -> None:
    answer = "Фірма звернулася до суду, щоб отримати дозвіл [1]."
    assert passage_spelling(answer, [PASSAGE]) == answer


def test_another_case_of_a_passage_word_takes_its_stem() -> None:
    # The model wrote the nominative, misspelled; the passage has the accusative.
    assert passage_spelling("Националізація [1].", [PASSAGE]) == "Націоналізація [1]."
    assert passage_spelling("НАЦИОНАЛИЗАЦИЯ", [PASSAGE]) == "НАЦІОНАЛІЗАЦІЯ"
    assert passage_spelling("Объекты", [PASSAGE]) == "Об'єкти"
    # A stem spelled as the passage spells it is left alone, whatever its ending.
    assert passage_spelling("Полтава, суда, Укрнафтою", [PASSAGE]) == "Полтава, суда, Укрнафтою"
    # Short words and stems shared with differently spelled passage words are not guessed.
    assert passage_spelling("сыны", ["син"]) == "сини"
    assert passage_spelling("Кривий", ["кривій і кривої"]) == "Кривий"


def test_an_unexplained_russian_letter_is_transliterated() -> None:
    assert passage_spelling("Это был ёжик.", [PASSAGE]) == "Ето бил ьожик."


def test_ambiguous_folds_are_not_guessed() -> None:
    # "син" and "сін" fold alike: with both in the passages, "сын" is only transliterated.
    assert passage_spelling("сын", ["син і сін"]) == "син"
    assert passage_spelling("Сынок", ["син і сін"]) == "Синок"


def test_case_follows_the_answer() -> None:
    assert passage_spelling("ПОЛТАВЫ", ["у Полтаві"]) == "ПОЛТАВІ"
    assert passage_spelling("ПОЛТАВЕ", ["у Полтаві"]) == "ПОЛТАВЕ"  # another ending, not a spelling: left alone
    assert passage_spelling("полтавы", ["у Полтаві"]) == "полтаві"


def test_only_ukrainian_questions_are_respelled() -> None:
    assert wants_ukrainian("Хто очолив делегацію?")
    assert wants_ukrainian("Хто був мером міста?")
    assert not wants_ukrainian("Кто был мэром города?")
    assert not wants_ukrainian("Who chaired the delegation?")


def test_fold_merges_the_letters_that_differ() -> None:
    assert fold("Об'єкт") == fold("объект")
    assert fold("Ґрунт") == fold("грунт")


# No deadline: the first example loads the Ukrainian dictionary, which takes a while on a busy machine.
@settings(deadline=None)
@given(st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ'ABC .,[]1", max_size=60))
def test_no_russian_only_letter_survives(answer: str) -> None:
    assert not RUSSIAN_ONLY.search(passage_spelling(answer, [PASSAGE]))


def test_finish_answer_respells_a_ukrainian_answer_from_its_cited_passage() -> None:
    from litopys.rag.answer import finish_answer
    from litopys.rag.retrieval import Passage

    passage = Passage(1, "a.txt", "Укрнафта", None, PASSAGE, 0, len(PASSAGE), 1.0)
    answer = finish_answer("Що оголосив уряд щодо «Укрнафти»?", "Националізацію объекта [1].", [passage])
    assert answer.text == "Націоналізацію об'єкта [1]."
    assert [c.n for c in answer.citations] == [1]
    russian = finish_answer("Что объявило правительство?", "Национализацию объекта [1].", [passage])
    assert russian.text == "Национализацию объекта [1]."  # a Russian question keeps its Russian answer
