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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from litopys.index.lemmatize import (
    CAPITALIZED,
    QUERY_STOPWORDS,
    is_numeral,
    lemma,
    lemmas,
    may_be_a_name,
    may_name_a_person,
    mostly_latin,
    region_variant,
    words,
)
from litopys.rag.citations import MARKER, Citation, numbers
from litopys.rag.grounding import ClaimCheck, unmet_question_numbers
from litopys.rag.prompt import in_english
from litopys.rag.retrieval import Passage
from litopys.rag.when import met_dates

# Why a draft was withheld. Each has a sentence in ui/strings.py and in the CLI.
QUESTION_NUMBERS = "question_numbers"  # the cited passages lack a number the question asks about
UNSUPPORTED = "unsupported"  # a number or name of the draft is in no passage it cites
ECHO = "echo"  # the draft adds nothing to the question's own words
WRONG_TYPE = "wrong_type"  # "скільки" answered without an amount, "коли" without a time, ...
UNCITED = "uncited"  # the draft cites no passage, so nothing in it can be checked
OFF_TOPIC = "off_topic"  # the cited articles name none of the names the question asks about

# The type is read from the question's first words only: "Яка фірма ... і за яку суму?" asks
# for a firm first, and an answer naming only the firm is still an answer.
_LEAD = r"^\W*(?:(?:а|і|й|and)\s+)?(?:(?:на|за|до|з|із|від|у|в|in|for|by)\s+)?"
_AMOUNT_QUESTION = re.compile(
    _LEAD + r"(?:скільк\w*|як(?:а|у|ій|ої)\s+(?:кількість|кількості|сума|суму|сумі|суми)\b|який відсоток\b"
    r"|how (?:many|much)\b|what (?:percentage|amount|number)\b)",
    re.IGNORECASE,
)
_DAY_QUESTION = re.compile(_LEAD + r"(?:якого\s+числа|якої\s+дати|(?:what|which)\s+(?:date|day)\b)", re.IGNORECASE)
_PLACE_QUESTION = re.compile(
    _LEAD
    + r"(?:якому|якій|яке|яку|яка|який)\s+(?:місті|місто|селі|село|містечку|країні|країна|країну|області|районі|штаті|регіоні)\b"
    r"|(?:which|what)\s+(?:city|town|village|country|state|region)\b",
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
# Word lists are kept as text, one theme a line.
_AMOUNT_TEXT = """
    тисяча мільйон мільярд трильйон кілька декілька багато мало небагато чимало
    половина третина чверть десяток сотня дюжина жоден жодний ніхто більшість меншість пара
    двічі тричі вдвічі удвічі вдвоє втричі відсоток процент
    none zero dozen hundred thousand million billion percent half once twice
"""
_TIME_TEXT = """
    рік століття сторіччя десятиліття тиждень день доба місяць квартал година хвилина ранок вечір ніч
    зима весна літо осінь вчора учора сьогодні завтра позавчора нині зараз тоді незабаром згодом раніше
    пізніше початок кінець середина наприкінці напочатку період епоха ера час момент після перед під
    коли поки доки відтоді
    january february march april may june july august september october november december
    year century decade week day month today yesterday tomorrow before after during when since until ago
    spring summer autumn fall winter morning evening night
"""
# Lemmas that state an amount in words ("кілька", "половина", "двічі"); number words proper
# are recognised by their part of speech.
_AMOUNT_WORDS = frozenset(_AMOUNT_TEXT.split())
# Lemmas that place something in time without digits ("минулого тижня", "після війни").
_TIME_WORDS = frozenset(_TIME_TEXT.split())
# Month names in any case form: pymorphy3 reads some ("у березні") as other words.
_MONTH_STEMS = ("січ", "лют", "берез", "квіт", "трав", "черв", "лип", "серп", "верес", "жовт", "листопад", "груд")
_MONTH = re.compile(rf"^({'|'.join(_MONTH_STEMS)})(?:ень|ня|ні|нем|ий|ого|ому|им|а|і|ом)?$")
_MONTH_WORD = rf"(?:{'|'.join(_MONTH_STEMS)})[а-яіїє]*"
_DAY_OF_MONTH = re.compile(rf"\b(\d{{1,2}})\s+{_MONTH_WORD}", re.IGNORECASE)
_DAY = re.compile(
    rf"\b\d{{1,2}}\s+{_MONTH_WORD}|\b\d{{1,2}}\.\d{{1,2}}\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b"
    r"|\b(?:january|february|march|april|may|june|july|august|september|october|november|december)\s+\d{1,2}\b",
    re.IGNORECASE,
)
_YEAR_SAID = re.compile(
    r"\b(?:1[89]|20)\d\d(?:\s*[-–]\s*(?:1[89]|20)\d\d)?\s*(?:рік|року|роки|році|роках|рр|р)\b", re.IGNORECASE
)
# A sum of money in the answer, and words by which a question asks about money.
_MONEY = re.compile(
    r"\b(?:грн|гривень|гривні|гривня|доларів|долари|долар|дол|євро|usd|eur|uah|руб\w*|dollars?|euros?)\b|[$€₴£]",
    re.IGNORECASE,
)
# A sum or a share in the answer ("$425 млн", "2,4 млн грн", "15%"): its figures place nothing in time.
_SUM_OR_SHARE = re.compile(
    r"[$€₴£]\s*\d[\d\s.,]*(?:\s*(?:тис|млн|млрд|мільйон\w*|мільярд\w*|million|billion)\b\.?)?"
    r"|\d[\d\s.,]*(?:\s*(?:тис|млн|млрд|мільйон\w*|мільярд\w*|million|billion)\b\.?)?\s*"
    r"(?:грн|гривень|гривні|гривня|доларів|долари|долар|дол|євро|usd|eur|uah|dollars?|euros?)\b"
    r"|\d+(?:[.,]\d+)?\s*(?:%|відсот\w*|процент\w*|percent)",
    re.IGNORECASE,
)
_MONEY_QUESTION = re.compile(
    r"кошт|варт|сум|цін|грош|плат|бюджет|витрат|видат|зарплат|штраф|дох[оі]д|прибут|інвест|виділ|отрима|"
    r"заробі|збит|борг|кредит|позик|податк|компенсац|премі|виплат|грн|гривень|долар|євро|"
    r"cost|price|pay|paid|spend|spent|worth|budget|fine|salary|money|earn|how\s+much|\$|€|₴",
    re.IGNORECASE,
)
# A question asking for a name ("Як звати…?", "Яке прізвище…?").
_NAME_QUESTION = re.compile(
    _LEAD + r"(?:як\s+(?:звати|звуть|прізвище)\b|яке\s+(?:прізвище|ім['’ʼ]я)\b|what is the name\b|who is named\b)",
    re.IGNORECASE,
)
# A question asking who: a person or an organisation, named. "Хто такий X?" asks what X is, and
# "Ким працював X?" what X did: a description answers them.
_WHO_QUESTION = re.compile(
    _LEAD + r"(?:хто|кого|кому|who|whom)\b(?!\s+(?:так(?:ий|а|е|і)|це|він|вона|вони|воно|is|are|was|were)\b)",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"[«\"“„]([^»\"”“]+)[»\"”“]")
_YEARS_ASKED = re.compile(r"\bрок|\bліт\b|\byears?\b", re.IGNORECASE)
_ONE_LETTER_FUNCTION_WORDS = frozenset(["в", "у", "з", "і", "й", "а", "о", "я"])
# A legal form or "фірма" added to the question's own firm names no new firm: "ПАТ «Укртрансгаз»"
# answers "Яка фірма виграла тендер «Укртрансгазу»?" with the customer the question already named.
_GENERIC_ORGANISATION_TEXT = """
    тов тзов пат прат ат дп кп пп фоп нвп зат ват
    компанія фірма товариство підприємство організація корпорація концерн холдинг
"""
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


ArticleTexts = Callable[[Sequence[str]], list[str]]  # article ids -> their titles and full texts


def judge(
    question: str,
    draft: str,
    citations: Sequence[Citation],
    claims: Sequence[ClaimCheck],
    article_texts: ArticleTexts | None = None,
) -> tuple[str, tuple[str, ...]] | None:
    """The reason to withhold ``draft`` and what is missing, or None when it may be shown.

    ``claims`` is the grounding check of the draft against the passages it cites;
    ``article_texts`` reads the cited articles whole (without it, the passages stand for them).
    """
    if not citations:
        # Neither a marker nor a sentence matched to a passage: the model wrote from elsewhere.
        return UNCITED, ()
    absent = names_absent(question, [evidence_text(c.passage) for c in citations])
    if absent and article_texts is not None:
        # A name may sit in another chunk of the cited article: the article as a whole decides.
        absent = names_absent(question, article_texts(list(dict.fromkeys(c.passage.article_id for c in citations))))
    if absent:
        return OFF_TOPIC, absent
    unmet = unmet_question_numbers(question, [evidence_text(c.passage) for c in citations])
    if unmet:  # "14.11.2024" in the question is met by an article dated 2024-11-14, whatever its text says
        met = {n for said in met_dates(question, [c.passage.date for c in citations]) for n in numbers(said)}
        unmet = tuple(n for n in unmet if n not in met)
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


def question_names(question: str) -> list[str]:
    """The capitalized words of ``question`` after its first word: the names it asks about.

    Acronyms are left out: an article often spells them out ("США" as "американська сторона").
    """
    return [
        m.group(0) for m in CAPITALIZED.finditer(question) if question[: m.start()].strip() and _may_be_name(m.group(0))
    ]


def _may_be_name(word: str) -> bool:
    return len(word) > 2 and not word.isupper() and word.lower() not in QUERY_STOPWORDS


def names_absent(question: str, texts: Sequence[str]) -> tuple[str, ...]:
    """The question's names when ``texts`` mention none of them (in any case form); else ().

    One name found is enough: a question about "Анахайм – Вегас" answered from an article
    that names neither is about another match, but a question naming a firm and a region
    may be answered by an article that spells the region differently ("Полтавщина" is the
    "Полтавська область" too). An English question's Latin names are not looked for in
    Cyrillic texts: they are translated there ("Pentagon" is "Пентагон").
    """
    names = question_names(question)
    if names and in_english(question) and not mostly_latin(" ".join(texts)):
        names = [name for name in names if not mostly_latin(name)]
    if not names:
        return ()
    lowered = [t.lower() for t in texts]
    if any(_stem(name) in text for name in names for text in lowered):
        return ()
    said = {lemma(w) for text in lowered for w in words(text)}
    for name in names:
        lem = lemma(name.lower())
        if lem in said or region_variant(lem) in said:
            return ()
    return tuple(names)


def _stem(name: str) -> str:
    """A name's stem for a substring match: a long name loses up to three letters of ending, a short one one."""
    word = name.lower()
    if len(word) > 5:
        return word[: max(4, len(word) - 3)]
    return word[:-1] if len(word) > 3 else word


def is_echo(question: str, answer: str) -> bool:
    """Whether ``answer`` says nothing beyond the question's own words ("Проєкт презентували на заході.")."""
    said = MARKER.sub(" ", answer)
    if _YES_NO_QUESTION.search(question) and _YES_NO & {w for w in words(said)}:
        return False
    # One-letter words count ("Клас P", "Множина L"), except the one-letter prepositions and conjunctions.
    new = {lemma(w) for w in words(said)} - set(lemmas(question)) - QUERY_STOPWORDS - _ONE_LETTER_FUNCTION_WORDS
    new -= _generic_organisation_words()
    return not new and not (numbers(said) - numbers(question))


@lru_cache(maxsize=1)
def _generic_organisation_words() -> frozenset[str]:
    return frozenset(lemma(w) for w in _GENERIC_ORGANISATION_TEXT.split())


def wrong_type(question: str, answer: str) -> str | None:
    """What the question asks for when ``answer`` plainly does not give it, else None.

    One of "amount", "count", "time", "day", "name", "place", "who"; the question's own figures and
    words answer nothing.
    """
    said = MARKER.sub(" ", answer)
    found = words(said)
    figures = numbers(said) - numbers(question)
    if _AMOUNT_QUESTION.search(question):
        return _amount_missing(question, said, found, figures)
    if _TIME_QUESTION.search(question):
        return _time_missing(question, said, found, figures)
    if _NAME_QUESTION.search(question) and not any(may_name_a_person(w) for w in _new_names(question, said)):
        return "name"
    if _PLACE_QUESTION.search(question) and not _new_names(question, said):
        return "place"
    if _WHO_QUESTION.search(question) and not _names_someone(question, said):
        return "who"
    return None


def _names_someone(question: str, said: str) -> bool:
    """Whether ``said`` names a person or body the question does not: a capitalized word or a quoted name.

    A sentence's first word is capitalized anyway, so it counts only when it may be a name.
    """
    asked = set(lemmas(question))
    for match in CAPITALIZED.finditer(said):
        word = match.group(0).lower()
        if lemma(word) in asked or word in QUERY_STOPWORDS:
            continue
        before = said[: match.start()].rstrip()
        if (before and before[-1] not in ".!?:") or may_be_a_name(word):
            return True
    return any(not set(lemmas(q.group(1))) <= asked for q in _QUOTED.finditer(said))


def _amount_missing(question: str, said: str, found: list[str], figures: set[str]) -> str | None:
    if not figures:
        # The question's own number words answer nothing ("…засудив до восьми років?" -> "вісім років").
        asked = set(lemmas(question))
        said_amounts = (w for w in found if is_numeral(w) or lemma(w) in _AMOUNT_WORDS)
        return None if any(lemma(w) not in asked for w in said_amounts) else "amount"
    # "Скільки років їй?" answered "2013 роки", "Скільки коштував ремонт?" answered "27 листопада":
    # a date is not an amount. Two years may be a span ("з 2014 по 2018 рік").
    if figures <= _date_numbers(said) and (len(figures) < 2 or not _YEARS_ASKED.search(question)):
        return "amount"
    if _MONEY.search(said) and not _MONEY_QUESTION.search(question):
        return "count"  # "Скільки парт…?" answered with a sum of money
    return None


def _time_missing(question: str, said: str, found: list[str], figures: set[str]) -> str | None:
    asked_months, said_months = _months(question), _months(said)
    if asked_months and said_months and not asked_months & said_months:
        return "time"  # "Якого числа в грудні…?" answered "12 листопада"
    if _DAY_QUESTION.search(question):
        return None if _DAY.search(said) else "day"
    # "Коли почнуть будувати завод?" answered "за $425 млн": a sum's figures are no time.
    timed = numbers(_SUM_OR_SHARE.sub(" ", said)) - numbers(question)
    if not timed and not said_months and not any(lemma(w) in _TIME_WORDS for w in found):
        return "time"
    return None


def _months(text: str) -> set[int]:
    """The months (1-12) ``text`` names."""
    return {_MONTH_STEMS.index(m.group(1)) + 1 for w in words(text) if (m := _MONTH.match(w))}


def _date_numbers(text: str) -> set[str]:
    """The figures of ``text`` that are parts of dates: years said as years, days of named months, dotted dates."""
    found = {n for n in numbers(text) if n.count(".") == 2}
    found |= {year for m in _YEAR_SAID.finditer(text) for year in re.findall(r"\d{4}", m.group(0))}
    found |= {m.group(1) for m in _DAY_OF_MONTH.finditer(text)}
    return found


def _new_names(question: str, answer: str) -> list[str]:
    """Capitalized words of ``answer`` (not function words) whose lemma the question does not have."""
    asked = set(lemmas(question))
    out = []
    for match in CAPITALIZED.finditer(answer):
        word = match.group(0).lower()
        if len(word) > 1 and word not in QUERY_STOPWORDS and lemma(word) not in asked:
            out.append(word)
    return out
