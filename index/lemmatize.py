"""Ukrainian lemmatization for the lexical (BM25) index and for queries.

Words are found with a regular expression rather than ``tokenize_uk.tokenize_words``:
only word characters matter for BM25, and the regex is much faster on a full
corpus (docs/performance.md). Lemmas come from pymorphy3's Ukrainian dictionary;
lookups are cached because news vocabulary repeats heavily.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import pymorphy3

_WORD = re.compile(r"[^\W_]+(?:['’ʼ-][^\W_]+)*")
# A capitalized word (a name, an abbreviation, or a sentence's first word), apostrophes and hyphens kept.
CAPITALIZED = re.compile(r"(?<![\w'’ʼ-])[A-ZА-ЯІЇЄҐ][\w'’ʼ-]*")

# Function words that carry no topic; dropped from queries only (the index keeps them).
QUERY_STOPWORDS = frozenset(
    [
        "і",
        "й",
        "та",
        "а",
        "але",
        "або",
        "чи",
        "що",
        "як",
        "хто",
        "який",
        "яка",
        "яке",
        "які",
        "якого",
        "якій",
        "яким",
        "якому",
        "якою",
        "чому",
        "де",
        "коли",
        "куди",
        "звідки",
        "скільки",
        "котрий",
        "чий",
        "в",
        "у",
        "на",
        "з",
        "із",
        "зі",
        "до",
        "від",
        "по",
        "за",
        "під",
        "над",
        "про",
        "при",
        "для",
        "без",
        "через",
        "між",
        "біля",
        "після",
        "перед",
        "же",
        "ж",
        "би",
        "б",
        "не",
        "ні",
        "так",
        "є",
        "був",
        "була",
        "було",
        "були",
        "бути",
        "цей",
        "ця",
        "це",
        "ці",
        "той",
        "та",
        "те",
        "ті",
        "його",
        "її",
        "їх",
        "їхній",
        "він",
        "вона",
        "воно",
        "вони",
        "ми",
        "ви",
        "я",
        "ти",
        "свій",
        "себе",
        "також",
        "ще",
        "вже",
        "лише",
        "тільки",
        "усі",
        "всі",
        "весь",
        "вся",
        "все",
    ]
)


@lru_cache(maxsize=1)
def _analyzer() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="uk")


@lru_cache(maxsize=500_000)
def lemma(word: str) -> str:
    """Normal form of one lower-cased word (the word itself if unknown)."""
    word = word.replace("’", "'").replace("ʼ", "'")
    if word.isdigit():
        return word
    try:
        return _analyzer().parse(word)[0].normal_form
    except ValueError:  # pymorphy3 looks up each letter's Unicode name; some letters (Tangut) have none
        return word


@lru_cache(maxsize=50_000)
def is_numeral(word: str) -> bool:
    """Whether the lower-cased ``word`` is a number word ("два", "п'ятьох", "сорок")."""
    word = word.replace("’", "'").replace("ʼ", "'")
    try:
        return any("NUMR" in p.tag for p in _analyzer().parse(word))
    except ValueError:
        return False


@lru_cache(maxsize=50_000)
def is_ukrainian_word(word: str) -> bool:
    """Whether the Ukrainian dictionary knows ``word`` (in any case form)."""
    word = word.lower().replace("’", "'").replace("ʼ", "'")
    try:
        return bool(_analyzer().word_is_known(word))
    except ValueError:
        return False


# pymorphy3's grammemes of proper names: people, places, organisations, abbreviations, trademarks.
_PROPER = frozenset({"Name", "Surn", "Patr", "Geox", "Orgn", "Abbr", "Trad"})


@lru_cache(maxsize=50_000)
def may_name_a_person(word: str) -> bool:
    """Whether ``word`` may be a person's name: a first name, surname or patronymic, or a word the dictionary lacks."""
    word = word.lower().replace("’", "'").replace("ʼ", "'")
    try:
        analyzer = _analyzer()
        if not analyzer.word_is_known(word):
            return True
        return any({"Name", "Surn", "Patr"} & set(p.tag.grammemes) for p in analyzer.parse(word))
    except ValueError:
        return False


@lru_cache(maxsize=50_000)
def may_be_a_name(word: str) -> bool:
    """Whether ``word`` may name someone or something: a noun (clubs are "Шахтар", "Динамо"), or a word the dictionary lacks.

    Pronouns, adverbs, adjectives and the like are not names.
    """
    word = word.lower().replace("’", "'").replace("ʼ", "'")
    try:
        analyzer = _analyzer()
        if not analyzer.word_is_known(word):
            return True
        return any(p.tag.POS == "NOUN" or _PROPER & set(p.tag.grammemes) for p in analyzer.parse(word))
    except ValueError:
        return False


_CYRILLIC_LETTER = re.compile(r"[а-яіїєґА-ЯІЇЄҐ]")
_LATIN_LETTER = re.compile(r"[a-zA-Z]")


def mostly_latin(text: str) -> bool:
    """Whether ``text`` has more Latin letters than Cyrillic ones (an English question, say)."""
    return len(_LATIN_LETTER.findall(text)) > len(_CYRILLIC_LETTER.findall(text))


def words(text: str) -> list[str]:
    """Lower-cased word tokens of ``text``."""
    return [w.lower() for w in _WORD.findall(text)]


def lemmas(text: str) -> list[str]:
    """Lemmas of every word of ``text``, in order."""
    return [lemma(w) for w in words(text)]


# A Ukrainian news report names a region both ways, "на Полтавщині" and "у Полтавській області",
# and the two share no lemma. A search for the region's noun also looks for its adjective
# (``search_lemmas``); not the other way round: "житомирська команда" is the city's, mostly.
REGIONS = {
    "вінниччина": "вінницький",
    "волинь": "волинський",
    "дніпропетровщина": "дніпропетровський",
    "донеччина": "донецький",
    "житомирщина": "житомирський",
    "закарпаття": "закарпатський",
    "запоріжжя": "запорізький",
    "івано-франківщина": "івано-франківський",
    "прикарпаття": "івано-франківський",
    "київщина": "київський",
    "кіровоградщина": "кіровоградський",
    "луганщина": "луганський",
    "львівщина": "львівський",
    "миколаївщина": "миколаївський",
    "одещина": "одеський",
    "полтавщина": "полтавський",
    "рівненщина": "рівненський",
    "сумщина": "сумський",
    "тернопільщина": "тернопільський",
    "харківщина": "харківський",
    "херсонщина": "херсонський",
    "хмельниччина": "хмельницький",
    "черкащина": "черкаський",
    "буковина": "чернівецький",
    "чернігівщина": "чернігівський",
}
_REGION_NOUNS: dict[str, str] = {}
for _noun, _adjective in REGIONS.items():
    _REGION_NOUNS.setdefault(_adjective, _noun)


def region_variant(lem: str) -> str | None:
    """The other name of the region ``lem`` names ("полтавщина" <-> "полтавський"), if it names one."""
    return REGIONS.get(lem) or _REGION_NOUNS.get(lem)


def with_region_adjectives(lems: Iterable[str]) -> list[str]:
    """``lems`` (distinct, in order), a region's noun ("полтавщина") followed by its adjective (``REGIONS``)."""
    seen: dict[str, None] = {}
    for lem in lems:
        seen.setdefault(lem, None)
        if lem in REGIONS:
            seen.setdefault(REGIONS[lem], None)
    return list(seen)


def search_lemmas(text: str) -> list[str]:
    """``query_lemmas`` of ``text`` as a search looks for them (``with_region_adjectives``)."""
    return with_region_adjectives(query_lemmas(text))


def query_lemmas(text: str) -> list[str]:
    """Distinct content lemmas of a question, in order (stopwords dropped)."""
    seen: dict[str, None] = {}
    for w in words(text):
        if w in QUERY_STOPWORDS:
            continue
        lem = lemma(w)
        if lem not in QUERY_STOPWORDS:
            seen.setdefault(lem, None)
    return list(seen)
