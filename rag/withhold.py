"""Draft answer + question + its cited passages -> shown, or withheld with the reason.

A small model writes fluent text that is not an answer: a sentence that
restates the question, a figure from its own memory, a company where a date
was asked. The reader cannot tell such a draft from a real answer, so each
rule below turns it into the refusal. The draft, what it cited and why it
was withheld stay inspectable behind the refusal (``Answer.withheld``).

The rules are lexical and cheap; each one was measured on the answerable
eval sets before it was kept (docs/quality.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from litopys.index.lemmatize import QUERY_STOPWORDS, is_numeral, lemma, lemmas, words
from litopys.rag.citations import MARKER, Citation, numbers
from litopys.rag.grounding import ClaimCheck, unmet_question_numbers
from litopys.rag.retrieval import Passage

# Why a draft was withheld. Each has a sentence in ui/strings.py and in the CLI.
QUESTION_NUMBERS = "question_numbers"  # the cited passages lack a number the question asks about
UNSUPPORTED = "unsupported"  # a number or name of the draft is in no passage it cites
ECHO = "echo"  # the draft adds nothing to the question's own words
WRONG_TYPE = "wrong_type"  # "скільки" answered without an amount, "коли" without a time

# The type is read from the question's first words only: "Яка фірма ... і за яку суму?" asks
# for a firm first, and an answer naming only the firm is still an answer.
_LEAD = r"^\W*(?:(?:а|і|й|and)\s+)?(?:(?:на|за|до|з|із|від|у|в|in|for|by)\s+)?"
_AMOUNT_QUESTION = re.compile(
    _LEAD + r"(?:скільк\w*|як(?:а|у|ій|ої)\s+(?:кількість|кількості|сума|суму|сумі|суми)\b|який відсоток\b"
    r"|how (?:many|much)\b|what (?:percentage|amount|number)\b)",
    re.IGNORECASE,
)
_TIME_QUESTION = re.compile(
    _LEAD + r"(?:коли\b|(?:якому|який)\s+(?:році|рік|місяці|столітті|день)\b|якого\s+(?:року|місяця|числа|дня)\b"
    r"|якої\s+дати\b|when\b|(?:what|which) (?:year|date|month|day)\b)",
    re.IGNORECASE,
)
_YES_NO_QUESTION = re.compile(
    r"^\W*(?:чи|(?:is|are|was|were|do|does|did|can|could|has|have|had|will|would|should)\b)", re.IGNORECASE
)
# Lemmas that state an amount in words ("кілька", "половина", "двічі"); number words proper
# are recognised by their part of speech.
_AMOUNT_WORDS = frozenset(
    [
        "тисяча",
        "мільйон",
        "мільярд",
        "трильйон",
        "кілька",
        "декілька",
        "багато",
        "мало",
        "небагато",
        "чимало",
        "половина",
        "третина",
        "чверть",
        "десяток",
        "сотня",
        "дюжина",
        "жоден",
        "жодний",
        "ніхто",
        "більшість",
        "меншість",
        "пара",
        "двічі",
        "тричі",
        "вдвічі",
        "удвічі",
        "вдвоє",
        "втричі",
        "відсоток",
        "процент",
        "none",
        "zero",
        "dozen",
        "hundred",
        "thousand",
        "million",
        "billion",
        "percent",
        "half",
        "once",
        "twice",
    ]
)
# Lemmas that place something in time without digits ("у березні", "минулого тижня", "після війни").
_TIME_WORDS = frozenset(
    [
        "рік",
        "століття",
        "сторіччя",
        "десятиліття",
        "тиждень",
        "день",
        "доба",
        "місяць",
        "квартал",
        "година",
        "хвилина",
        "ранок",
        "вечір",
        "ніч",
        "зима",
        "весна",
        "літо",
        "осінь",
        "вчора",
        "учора",
        "сьогодні",
        "завтра",
        "позавчора",
        "нині",
        "зараз",
        "тоді",
        "незабаром",
        "згодом",
        "раніше",
        "пізніше",
        "початок",
        "кінець",
        "середина",
        "наприкінці",
        "напочатку",
        "період",
        "епоха",
        "ера",
        "час",
        "момент",
        "після",
        "перед",
        "під",
        "коли",
        "поки",
        "доки",
        "відтоді",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "year",
        "century",
        "decade",
        "week",
        "day",
        "month",
        "today",
        "yesterday",
        "tomorrow",
        "before",
        "after",
        "during",
        "when",
        "since",
        "until",
        "ago",
        "spring",
        "summer",
        "autumn",
        "fall",
        "winter",
        "morning",
        "evening",
        "night",
    ]
)
# Month names in any case form: pymorphy3 reads some ("у березні") as other words.
_MONTH = re.compile(
    r"^(?:січ|лют|берез|квіт|трав|черв|лип|серп|верес|жовт|листопад|груд)(?:ень|ня|ні|нем|ий|ого|ому|им|а|і|ом)?$"
)
_ONE_LETTER_FUNCTION_WORDS = frozenset(["в", "у", "з", "і", "й", "а", "о", "я"])
_YES_NO = frozenset(["так", "ні", "yes", "no"])


@dataclass(frozen=True)
class Withheld:
    """A draft answer replaced by the refusal: the draft, what it cited, and why."""

    draft: str
    citations: list[Citation]
    reason: str
    missing: tuple[str, ...] = ()


def evidence_text(passage: Passage) -> str:
    """What a cited passage says, title and date included (a question's year may be only in the date)."""
    return f"{passage.title} {passage.date or ''} {passage.text}"


def judge(
    question: str, draft: str, citations: Sequence[Citation], claims: Sequence[ClaimCheck]
) -> tuple[str, tuple[str, ...]] | None:
    """The reason to withhold ``draft`` and what is missing, or None when it may be shown.

    ``claims`` is the grounding check of the draft against the passages it cites.
    """
    unmet = unmet_question_numbers(question, [evidence_text(c.passage) for c in citations])
    if unmet:
        # The cited passages do not even mention what the question is about.
        return QUESTION_NUMBERS, unmet
    missing = tuple(dict.fromkeys(m for c in claims for m in c.missing))
    if missing:
        return UNSUPPORTED, missing
    if is_echo(question, draft):
        return ECHO, ()
    wanted = wrong_type(question, draft)
    if wanted:
        return WRONG_TYPE, (wanted,)
    return None


def is_echo(question: str, answer: str) -> bool:
    """Whether ``answer`` says nothing beyond the question's own words ("Проєкт презентували на заході.")."""
    said = MARKER.sub(" ", answer)
    if _YES_NO_QUESTION.search(question) and _YES_NO & {w for w in words(said)}:
        return False
    # One-letter words count ("Клас P", "Множина L"), except the one-letter prepositions and conjunctions.
    new = {lemma(w) for w in words(said)} - set(lemmas(question)) - QUERY_STOPWORDS - _ONE_LETTER_FUNCTION_WORDS
    return not new and not (numbers(said) - numbers(question))


def wrong_type(question: str, answer: str) -> str | None:
    """What the question asks for ("amount", "time") when ``answer`` plainly does not give it."""
    said = MARKER.sub(" ", answer)
    if re.search(r"\d", said):
        return None  # a figure or a date: type checks cannot tell more without parsing
    found = words(said)
    if _AMOUNT_QUESTION.search(question) and not any(is_numeral(w) or lemma(w) in _AMOUNT_WORDS for w in found):
        return "amount"
    if _TIME_QUESTION.search(question) and not any(_MONTH.match(w) or lemma(w) in _TIME_WORDS for w in found):
        return "time"
    return None
