"""Citation markers in answers -> passages."""

from litopys.rag.answer import finish_answer
from litopys.rag.citations import is_refusal, marker_numbers, resolve_citations, strip_invalid_markers
from litopys.rag.prompt import REFUSAL_UK
from litopys.rag.retrieval import Passage


def passage(n: int, text: str, article: str = "a.txt") -> Passage:
    return Passage(n, article, f"T{n}", None, text, 0, len(text), 1.0)


PASSAGES = [
    passage(1, "Російську делегацію може очолити Кирило Дмитрієв."),
    passage(2, "З боку США братимуть участь Стів Віткофф та Джаред Кушнер.", "b.txt"),
]


def test_marker_forms():
    assert marker_numbers("Дмитрієв [1]. Віткофф [2][1].") == [1, 2]
    assert marker_numbers("Так [1, 3] і [2; 4]") == [1, 3, 2, 4]
    assert marker_numbers("Так [2-4]") == [2, 3, 4]
    assert marker_numbers("[Фрагмент 2] каже") == [2]
    assert marker_numbers("без посилань, 2024 рік [a]") == []


def test_resolve_maps_numbers_and_reports_invalid():
    cites, invalid = resolve_citations("Дмитрієв [1], також [7].", PASSAGES)
    assert [(c.n, c.passage.article_id) for c in cites] == [(1, "a.txt")]
    assert invalid == [7]


def test_invalid_markers_are_removed_from_the_text():
    assert strip_invalid_markers("Дмитрієв [1][7].", [7]) == "Дмитрієв [1]."
    assert strip_invalid_markers("Дмитрієв [1, 7].", [7]) == "Дмитрієв [1]."
    assert strip_invalid_markers("Дмитрієв [9] .", [9]) == "Дмитрієв."


def test_refusal_detection():
    assert is_refusal("У статтях немає відповіді на це запитання.")
    assert is_refusal("The articles do not contain the answer to this question.")
    assert not is_refusal("Кирило Дмитрієв [1].")
    # The model's own wording of the refusal, seen in eval runs.
    assert is_refusal("Відповідь на це запитання не можна знайти в статтях.")
    assert is_refusal("Фрагменти не містять інформації про це.")
    assert is_refusal("У фрагментах немає даних про зарплату.")
    assert is_refusal("The salary is not mentioned in the passages.")
    assert not is_refusal("Суд не вдовольнив позов [1].")
    assert not is_refusal("Компанія не надала документів [2].")


def test_answer_without_marker_is_attributed_to_the_supporting_passage():
    answer = finish_answer("Хто?", "Кирило Дмитрієв.", PASSAGES)
    assert answer.text == "Кирило Дмитрієв [1]."
    assert answer.citations[0].n == 1 and answer.citations[0].attributed


def test_unsupported_answer_gets_no_citation_and_is_withheld():
    answer = finish_answer("Хто?", "Барак Обама.", PASSAGES)
    # Nothing matches it to a passage, so it cannot be checked: the refusal is shown instead.
    assert answer.citations == [] and answer.refused and answer.text == REFUSAL_UK
    assert answer.withheld and answer.withheld.reason == "uncited" and answer.withheld.draft == "Барак Обама."


def test_refusal_has_no_citations():
    answer = finish_answer("Хто?", "У статтях немає відповіді на це запитання.", PASSAGES)
    assert answer.refused and answer.citations == []


def test_as_dict_has_the_documented_fields():
    answer = finish_answer("Хто?", "Віткофф і Кушнер [2].", PASSAGES)
    d = answer.as_dict()
    assert set(d) >= {"answer", "citations", "passages", "timings"}
    assert set(d["citations"][0]) >= {"n", "article_id", "title", "date", "text"}
    assert set(d["passages"][0]) >= {"n", "article_id", "title", "date", "text", "score"}


def test_citation_of_the_wrong_passage_is_moved_to_the_supporting_one():
    answer = finish_answer("Хто з боку США?", "Стів Віткофф та Джаред Кушнер [1].", PASSAGES)
    assert answer.text == "Стів Віткофф та Джаред Кушнер [2]."
    assert [(c.n, c.attributed) for c in answer.citations] == [(2, True)]


def test_a_supported_citation_is_kept():
    answer = finish_answer("Хто?", "Кирило Дмитрієв [1].", PASSAGES)
    assert [(c.n, c.attributed) for c in answer.citations] == [(1, False)]


def test_citations_and_grounding_read_numbers_alike():
    # "2,4" in the answer is the passage's "2.4", not "2" and "4": attribution must pick the
    # passage that grounding then finds the number in.
    budget = [
        passage(1, "Бюджет міста становить 2 млн грн, 4 школи отримають ремонт."),
        passage(2, "Бюджет міста становить 2.4 млн грн.", "b.txt"),
    ]
    answer = finish_answer("Який бюджет?", "Бюджет становить 2,4 млн грн.", budget)
    assert [(c.n, c.attributed, c.supported) for c in answer.citations] == [(2, True, True)]
    assert answer.grounding == 1.0


def test_stripping_a_nested_invalid_marker_leaves_no_marker_behind():
    # Found by test_fuzz: removing the inner "[0]" of "[0[0]]" used to leave a new "[0]".
    cleaned = strip_invalid_markers("Так [0[0]].", [0])
    assert resolve_citations(cleaned, [])[1] == []
    assert cleaned == "Так."
    assert strip_invalid_markers("Так [1[0]] і [2].", [0]) == "Так і [2]."
