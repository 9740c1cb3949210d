"""The post-generation grounding check: claims must be backed by the passages they cite."""

from __future__ import annotations

from litopys.rag.answer import finish_answer
from litopys.rag.grounding import check_answer, check_claim, split_claims, unmet_question_numbers
from litopys.rag.prompt import REFUSAL_UK
from litopys.rag.retrieval import Passage

SEED = (
    "Російську делегацію на переговорах у Майамі може очолити Кирило Дмитрієв, глава РФПІ. "
    "Американську сторону ймовірно представлятимуть Стів Віткофф і Джаред Кушнер."
)
FINE = "Харківське відділення АМКУ оштрафувало «Мегаметалгруп» і «Донремтехмаш» на 544 тис. грн."


def test_split_claims_attaches_markers_to_their_sentence():
    assert split_claims("Очолить Дмитрієв [1]. Штраф — 544 тис. грн [2].") == [
        ("Очолить Дмитрієв [1].", (1,)),
        ("Штраф — 544 тис. грн [2].", (2,)),
    ]
    # A marker after the full stop belongs to the sentence before it.
    assert split_claims("Очолить Дмитрієв.[1] Далі [2, 3].") == [
        ("Очолить Дмитрієв [1].", (1,)),
        ("Далі [2, 3].", (2, 3)),
    ]


def test_a_faithful_claim_is_supported():
    check = check_claim("Делегацію може очолити Кирило Дмитрієв [1].", [1], [SEED])
    assert check.supported and not check.missing_names and not check.missing_numbers


def test_an_invented_name_or_number_is_flagged():
    name = check_claim("Делегацію може очолити Сергій Лавров [1].", [1], [SEED])
    assert not name.supported and "лавров" in name.missing_names
    question = "Який загальний штраф наклало харківське відділення АМКУ?"
    number = check_claim("Загальний штраф склав 554 тис. грн [1].", [1], [FINE], question)
    assert not number.supported and number.missing_numbers == ("554",)
    assert check_claim("Загальний штраф склав 544 тис. грн [1].", [1], [FINE], question).supported


def test_words_of_the_question_are_given_not_claimed():
    question = "Хто з боку Кремля може очолити делегацію в Майамі?"
    assert check_claim("З боку Кремля делегацію може очолити Кирило Дмитрієв [1].", [1], [SEED], question).supported
    assert not check_claim("З боку Кремля делегацію може очолити Кирило Дмитрієв [1].", [1], [SEED]).supported


def test_a_claim_citing_the_wrong_passage_is_flagged_per_citation():
    grounding = check_answer("Делегацію очолить Кирило Дмитрієв [2].", {1: SEED, 2: FINE})
    assert grounding.flagged and grounding.score == 0.0
    assert grounding.supported_citations == frozenset()


def test_unmarked_sentences_are_checked_against_all_cited_passages():
    grounding = check_answer(
        "Делегацію може очолити Кирило Дмитрієв [1]. Американську сторону представлятимуть Віткофф і Кушнер.",
        {1: SEED},
    )
    assert [c.supported for c in grounding.claims] == [True, True] and grounding.score == 1.0


def _passage(n: int, text: str, article: str) -> Passage:
    return Passage(n, article, "Заголовок", None, text, 0, len(text), 1.0)


def test_finish_answer_carries_flags_into_json():
    passages = [_passage(1, SEED, "seed.txt"), _passage(2, FINE, "0368.txt")]
    good = finish_answer("Хто?", "Делегацію може очолити Кирило Дмитрієв [1].", passages).as_dict()
    assert good["grounding"]["score"] == 1.0 and not good["grounding"]["flagged"]
    assert good["citations"][0]["supported"] is True
    # A claim short of the passage's words (no invented figure or name) is shown, flagged.
    weak = finish_answer("Хто?", "Делегацію очолить досвідчений переговірник із великим стажем [1].", passages)
    assert not weak.refused and weak.withheld is None
    weak_json = weak.as_dict()
    assert weak_json["grounding"]["flagged"] and weak_json["citations"][0]["supported"] is False
    # An invented name is never shown as the answer: the draft is withheld, with what it lacks.
    bad = finish_answer("Хто?", "Делегацію може очолити Сергій Лавров [1].", passages).as_dict()
    assert bad["refused"] and bad["answer"] == REFUSAL_UK and not bad["citations"]
    assert bad["withheld"] == "Делегацію може очолити Сергій Лавров [1]."
    assert bad["withheld_reason"] == "unsupported" and "лавров" in bad["withheld_missing"]
    assert bad["withheld_citations"][0]["article_id"] == "seed.txt"
    refusal = finish_answer("Хто?", "У статтях немає відповіді на це запитання.", passages).as_dict()
    assert refusal["refused"] and refusal["grounding"]["score"] is None


def test_compound_and_quoted_names_are_checked_whole():
    passage = "Скасування рішення вимагала фірма «Прайм-Девелопмент» (раніше називалася «Сфера-Сіті»)."
    question = "Як раніше називалася фірма «Прайм-Девелопмент»?"
    assert check_claim(
        "Фірма «Прайм-Девелопмент» раніше називалася «Сфера-Сіті» [1].", [1], [passage], question
    ).supported
    invented = check_claim("Фірма «Прайм-Девелопмент» раніше називалася «Ведмідь-М» [1].", [1], [passage], question)
    assert not invented.supported and invented.missing_names == ("ведмідь-м",)


def test_question_numbers_must_be_in_the_evidence():
    football = "Відбулися фінальні змагання чемпіонату області з міні-футболу серед чоловіків."
    assert unmet_question_numbers("Хто виграв чемпіонат світу з футболу 2018 року?", [football]) == ("2018",)
    assert unmet_question_numbers("Хто виграв чемпіонат 2018 року?", [football + " Сезон 2018 завершено."]) == ()
    # Short numbers may be spelled out in the article; formats of decimals are unified.
    assert unmet_question_numbers("Хто виграв 2 медалі?", [football]) == ()
    assert unmet_question_numbers("Кому дали 2,4 млн грн?", ["Договір на 2.4 млн грн."]) == ()


def test_an_answer_whose_citations_miss_the_questions_year_becomes_a_refusal():
    p = Passage(
        1,
        "0143.txt",
        "Міні-футбол",
        "2012-03-01",
        "Відбулися фінальні змагання чемпіонату Полтавської області з міні-футболу.",
        0,
        60,
        1.0,
    )
    answer = finish_answer(
        "Хто виграв чемпіонат світу з футболу 2018 року?",
        "Відбулися фінальні змагання чемпіонату з міні-футболу [1].",
        [p],
    )
    assert answer.refused and not answer.citations
    assert answer.text == REFUSAL_UK
    assert answer.withheld.draft.startswith("Відбулися") and answer.withheld.missing == ("2018",)
    assert answer.withheld.reason == "question_numbers"
    # The same draft is kept when the article is dated that year.
    dated = Passage(1, "0143.txt", "Міні-футбол", "2018-03-01", p.text, 0, 60, 1.0)
    kept = finish_answer("Хто виграв чемпіонат 2018 року?", "Фінал чемпіонату з міні-футболу [1].", [dated])
    assert not kept.refused and kept.citations and kept.withheld is None
