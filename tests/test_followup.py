"""Follow-up questions are detected and rewritten into standalone ones (LLM output validated)."""

from __future__ import annotations

from litopys.rag.followup import Turn, clean_rewrite, needs_history, rewrite_messages

HISTORY = [
    Turn(
        "Хто може очолити російську делегацію на переговорах у Майамі?",
        "Керівник Російського фонду прямих інвестицій Кирило Дмитрієв [2].",
    )
]


def test_follow_ups_are_detected_and_standalone_questions_are_not():
    assert needs_history("А хто з боку США?", HISTORY)
    assert needs_history("Коли він туди поїде?", HISTORY)
    assert needs_history("What about them?", HISTORY)
    assert not needs_history("Скільки населення має Австралія?", HISTORY)
    assert not needs_history("А хто з боку США?", [])


def test_a_good_rewrite_is_kept():
    good = "Хто з боку США представлятиме сторону на переговорах у Майамі?"
    assert clean_rewrite(f"Запитання: «{good}»\nзайвий рядок", "А хто з боку США?", HISTORY) == good


def test_an_answer_instead_of_a_rewrite_falls_back_to_joined_questions():
    joined = f"{HISTORY[0].question} А хто з боку США?"
    # The model answered (and invented a name) instead of rewriting: the follow-up's "США" is lost.
    assert clean_rewrite("Кирило Сергієв [1].", "А хто з боку США?", HISTORY) == joined
    # A rewrite that adds nothing from the conversation gains nothing.
    assert clean_rewrite("Хто з боку США?", "А хто з боку США?", HISTORY) == joined
    assert clean_rewrite("", "А хто з боку США?", HISTORY) == joined


def test_rewrite_prompt_holds_the_last_turns_without_markers():
    messages = rewrite_messages("А хто з боку США?", HISTORY)
    last = messages[-1]["content"]
    assert "Кирило Дмитрієв" in last and "[2]" not in last and last.endswith("А хто з боку США?")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]


def test_a_statement_is_not_a_rewritten_question():
    joined = f"{HISTORY[0].question} А коли вони зустрінуться?"
    said = "Коли вони зустрінуться, Кирило Дмитрієв очолить делегацію у Майамі."
    assert clean_rewrite(said, "А коли вони зустрінуться?", HISTORY) == joined
