"""The answerability check: the draft's evidence sentences, and a draft withheld when the model says they do not answer."""

from __future__ import annotations

import pytest

from litopys.core.config import load_settings
from litopys.rag.answer import finish_answer
from litopys.rag.answerable import (
    NOT_ANSWERED,
    SLOT,
    answerable_probability,
    check_messages,
    evidence_sentences,
    is_open_question,
)
from litopys.rag.llm import Sampling, complete, open_chat_model
from litopys.rag.prompt import REFUSAL_UK
from litopys.rag.retrieval import Passage

PASSAGE = (
    "Міськрада уклала договір з ТОВ «Альфа» на ремонт даху ліцею. Ремонт коштуватиме 2,4 млн грн. "
    "Комісію з перевірки робіт очолив заступник міського голови Петро Коваленко. Роботи почнуться навесні."
)
QUESTION = "Хто очолив комісію з перевірки робіт?"
DRAFT = "Комісію очолив Петро Коваленко [1]."


def _passages() -> list[Passage]:
    return [Passage(1, "0001.txt", "Ремонт ліцею", "2024-11-13", PASSAGE, 0, len(PASSAGE), 1.0)]


def test_the_evidence_is_the_sentences_sharing_most_with_the_draft_in_text_order():
    assert evidence_sentences(DRAFT, [PASSAGE], keep=1) == (
        "Комісію з перевірки робіт очолив заступник міського голови Петро Коваленко."
    )
    # A figure counts as much as a word; two sentences come back in the order the passage has them.
    two = evidence_sentences("2,4 млн грн на ремонт даху ліцею [1].", [PASSAGE], keep=2)
    assert two == "Міськрада уклала договір з ТОВ «Альфа» на ремонт даху ліцею. Ремонт коштуватиме 2,4 млн грн."
    assert evidence_sentences("Зовсім інше [1].", [PASSAGE]) == ""


def test_the_check_prompt_holds_the_evidence_as_data_and_the_question():
    system, user = check_messages(QUESTION, "Речення.")
    assert system["role"] == "system" and "yes" in system["content"] and "no" in system["content"]
    assert "<<<\nРечення.\n>>>" in user["content"] and QUESTION in user["content"]


def _answer(probability: float | None, threshold: float = 0.5, seen: list | None = None):
    def answerable(question: str, draft: str, texts: list[str]) -> float | None:
        if seen is not None:
            seen.append((question, draft, texts))
        return probability

    return finish_answer(QUESTION, DRAFT, _passages(), answerable=answerable, min_answerable_p=threshold)


def test_a_draft_the_model_says_is_not_answered_is_withheld_with_its_score():
    seen: list = []
    answer = _answer(0.2, seen=seen)
    assert answer.refused and answer.text == REFUSAL_UK
    assert answer.withheld is not None and answer.withheld.reason == NOT_ANSWERED
    assert answer.withheld.draft == DRAFT and answer.answerable_p == 0.2
    assert seen == [(QUESTION, DRAFT, [PASSAGE])]  # the draft as cited, and the cited passages' texts


def test_a_draft_above_the_bar_or_without_a_score_is_shown():
    for probability in (0.8, None):
        answer = _answer(probability)
        assert not answer.refused and answer.text == DRAFT and answer.withheld is None
        assert answer.answerable_p == probability
    assert not _answer(0.2, threshold=0.0).refused  # the bar at 0 withholds nothing


def test_the_check_is_asked_without_the_dates_the_cited_article_meets():
    """The check shows no article dates: "59 безпілотників [4]", cited to an article of 2024-11-14, scored
    0.14 for "…в ніч на 14 листопада 2024 року?" and was withheld (eval/news_kinds.jsonl)."""
    seen: list = []
    answer = lambda *a: seen.append(a[0]) or 0.9  # noqa: E731
    finish_answer("Хто очолив комісію 13 листопада 2024 року?", DRAFT, _passages(), answerable=answer)
    assert seen == ["Хто очолив комісію?"]  # the passage is dated 2024-11-13


def test_the_model_is_not_asked_about_a_draft_a_lexical_rule_withholds():
    seen: list = []
    answer = finish_answer(
        QUESTION, "Комісію очолив Іван Франко [1].", _passages(), answerable=lambda *a: seen.append(a) or 0.9
    )
    assert answer.withheld is not None and answer.withheld.reason != NOT_ANSWERED
    assert seen == [] and answer.answerable_p is None


# --- the small bundled model: the check's probability, and an answer it never changes ----------

SMALL = "bundled:qwen2.5-coder-0.5b"
PREFIX = [
    {"role": "system", "content": "Відповідай одним реченням, лише за фрагментом."},
    {"role": "user", "content": ""},
]
ASK = [*PREFIX[:-1], {"role": "user", "content": f"Фрагмент: {PASSAGE}\nЗапитання: {QUESTION}"}]


@pytest.fixture(scope="module")
def chat(tmp_path_factory, model_cache):
    folder = tmp_path_factory.mktemp("cache")
    (folder / "models").symlink_to(model_cache / "models", target_is_directory=True)
    settings = load_settings(None, cache_dir=folder, llm={"model": SMALL, "n_ctx": 1024})
    return open_chat_model(settings.llm, settings.cache_dir)


@pytest.mark.slow
def test_the_check_reads_a_probability_and_leaves_the_answer_slot_as_it_was(chat, counting_evals):
    sampling = Sampling(max_tokens=24, temperature=0.8, seed=7)
    chat.prime("answer", PREFIX)
    text = complete(chat, ASK, sampling, slot="answer")
    messages = check_messages(QUESTION, evidence_sentences(DRAFT, [PASSAGE]))
    first = chat.yes_probability(messages, slot=SLOT)
    assert first is not None and 0.0 < first < 1.0
    assert chat.yes_probability(messages, slot=SLOT) == pytest.approx(first)  # greedy: the same pass
    # The answer slot gets its KV cache back: only the end of the answer prompt is evaluated again,
    # and the same seed writes the same text.
    with counting_evals(chat.llama) as evals:
        assert complete(chat, ASK, sampling, slot="answer") == text
    assert evals and evals[0] < chat.count_tokens(ASK[-1]["content"])


def test_open_questions_are_not_checked():
    # From eval/news_kinds.jsonl: the model said "no" (p 0.17) to a draft holding the expected answer.
    opened = [
        "Про що домовлялася Україна з Британією щодо студентів 13 листопада 2024 року?",
        "Що писали у листопаді 2024 року про графіки відключень у Києві?",
        "А що відомо про реванш Усик – Ф'юрі?",
        "What did the Pentagon worry about on November 14, 2024?",
    ]
    # The near misses the check catches ask for one fact.
    factual = [
        "Скільки коштувало будівництво терміналу D аеропорту «Бориспіль»?",
        "Коли компанія Repkon почне будувати завод тротилу для армії США?",
        "Чому «Альпін» не обрала двигуни «Хонди»?",
        "What year did the plant open?",
        "Хто подарував будинок, що стоїть у Борщагівці?",
    ]
    assert all(is_open_question(q) for q in opened)
    assert not any(is_open_question(q) for q in factual)

    class Unasked:
        def yes_probability(self, messages, slot=None):
            raise AssertionError("an open question must not reach the model-read check")

    draft = "Україна веде переговори з Британією щодо навчання 5-7 тисяч студентів на рік [1]."
    assert answerable_probability(Unasked(), opened[0], draft, [draft]) is None
