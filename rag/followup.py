"""Follow-up question + conversation -> a standalone question for retrieval.

"А хто з боку США?" retrieves nothing useful on its own. When a question
looks like it leans on the conversation (pronouns, a leading "А/І/And", too
few content words), the LLM rewrites it once into a standalone question with
a tiny prompt; self-contained questions skip the LLM entirely. If the rewrite
comes back unusable, the previous question is prepended instead, which still
gives retrieval the missing topic words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from litopys.index.lemmatize import query_lemmas, words
from litopys.rag.citations import MARKER
from litopys.rag.llm import ChatModel, Sampling, complete

MAX_REWRITE_TOKENS = 48
_ANAPHORA = frozenset(
    [
        "він",
        "вона",
        "воно",
        "вони",
        "його",
        "її",
        "їх",
        "їм",
        "йому",
        "їй",
        "ним",
        "нею",
        "ними",
        "нього",
        "неї",
        "них",
        "цей",
        "ця",
        "це",
        "ці",
        "цього",
        "цієї",
        "цих",
        "той",
        "та",
        "те",
        "ті",
        "того",
        "тієї",
        "тих",
        "там",
        "тоді",
        "тут",
        "такий",
        "така",
        "таке",
        "такі",
        "звідти",
        "he",
        "she",
        "it",
        "they",
        "him",
        "her",
        "them",
        "his",
        "its",
        "their",
        "this",
        "that",
        "these",
        "those",
        "there",
        "then",
    ]
)
_LEADING = re.compile(r"^\s*(?:а|і|й|та|але|ну|ще|and|but|also|what about|how about)\b", re.IGNORECASE)

REWRITE_SYSTEM = (
    "Ти переписуєш запитання так, щоб вони були зрозумілі без попередньої розмови. Ти не відповідаєш на них."
)
_INSTRUCTION = (
    "Перепиши останнє запитання так, щоб воно було зрозуміле без розмови: заміни займенники й додай "
    "пропущені слова з розмови. Не відповідай на нього. Напиши лише одне запитання тією ж мовою."
)
# Two worked rewrites: a pronoun replaced by a name, and a contrast ("А з боку ...?").
_EXAMPLES = [
    (
        "Розмова:\nКористувач: Хто переміг на виборах мера Києва?\nАсистент: Переміг Віталій Кличко.\n"
        "Останнє запитання: А скільки голосів він отримав?",
        "Скільки голосів отримав Віталій Кличко на виборах мера Києва?",
    ),
    (
        "Розмова:\nКористувач: Хто очолив делегацію України на переговорах у Стамбулі?\n"
        "Асистент: Делегацію очолив Рустем Умєров.\nОстаннє запитання: А з боку Росії?",
        "Хто очолив делегацію Росії на переговорах у Стамбулі?",
    ),
]


@dataclass(frozen=True)
class Turn:
    """One finished exchange of the conversation."""

    question: str
    answer: str


def needs_history(question: str, history: Sequence[Turn]) -> bool:
    """Whether ``question`` probably depends on the conversation before it."""
    if not history:
        return False
    tokens = set(words(question))
    return bool(tokens & _ANAPHORA) or bool(_LEADING.match(question)) or len(query_lemmas(question)) <= 2


def rewrite_messages(question: str, history: Sequence[Turn], max_turns: int = 2) -> list[dict[str, str]]:
    """The chat messages that ask the LLM for a standalone question."""
    lines = []
    for turn in history[-max_turns:]:
        answer = MARKER.sub("", turn.answer).strip()
        lines.append(f"Користувач: {turn.question.strip()}\nАсистент: {answer[:400]}")
    convo = "\n".join(lines)
    messages = [{"role": "system", "content": REWRITE_SYSTEM}]
    for shown, rewritten in _EXAMPLES:
        messages.append({"role": "user", "content": f"{_INSTRUCTION}\n\n{shown}"})
        messages.append({"role": "assistant", "content": rewritten})
    messages.append(
        {"role": "user", "content": f"{_INSTRUCTION}\n\nРозмова:\n{convo}\nОстаннє запитання: {question.strip()}"}
    )
    return messages


def rewrite_prefix() -> list[dict[str, str]]:
    """The fixed part of every rewrite prompt, then an empty conversation: what ``ChatModel.prime`` evaluates once."""
    return rewrite_messages("", [])


def clean_rewrite(raw: str, question: str, history: Sequence[Turn]) -> str:
    """The model's rewrite if usable, else the previous question joined with this one.

    Usable means: one line, no citation markers, still a question, it keeps most of the follow-up's
    own content words (a small model sometimes answers instead of rewriting) and
    adds at least one word from the conversation (otherwise nothing was gained).
    """
    text = raw.strip().splitlines()[0].strip() if raw.strip() else ""
    text = re.sub(r"^(?:переписане запитання|самостійне запитання|запитання|question)\s*:\s*", "", text, flags=re.I)
    text = text.strip(" «»\"'")
    own = [lem for lem in query_lemmas(question) if lem not in _ANAPHORA]
    got = set(query_lemmas(text))
    context = {lem for turn in history for lem in query_lemmas(f"{turn.question} {turn.answer}")}
    usable = (
        3 <= len(text) <= 4 * max(len(question), 60)
        and not MARKER.search(text)
        and (text.endswith("?") or not question.strip().endswith("?"))
        and sum(lem in got for lem in own) >= len(own) / 2
        and bool((got - set(own)) & context)
    )
    if usable:
        return text
    return f"{history[-1].question.strip()} {question.strip()}"


def rewrite_question(llm: ChatModel, question: str, history: Sequence[Turn], seed: int = 0) -> str:
    """A standalone version of ``question`` (one short, greedy LLM call)."""
    sampling = Sampling(max_tokens=MAX_REWRITE_TOKENS, temperature=0.0, seed=seed)
    llm.prime("rewrite", rewrite_prefix())
    text = complete(llm, rewrite_messages(question, history), sampling, slot="rewrite")
    return clean_rewrite(text, question, history)
