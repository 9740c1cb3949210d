"""Answer text + cited passages -> the answer in the passages' Ukrainian spelling.

Small models learned far more Russian than Ukrainian and slip Russian letters
(ы э ъ ё) and Russian spellings ("Националізацію") into Ukrainian answers. The
fact may be right, but a reader, and a string match, see a word that is not
Ukrainian. A word the passages do not contain, which becomes one of the
passages' words once the letters that differ between the two alphabets are
folded together, takes the passages' spelling. A Russian-only letter left
after that is transliterated, so a Ukrainian answer never carries one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

RUSSIAN_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")
_UKRAINIAN_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_CYRILLIC = re.compile(r"[а-яА-Я]")
_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ][^\W\d_]+)*")
# Letters the two alphabets spell the same sounds with, folded to one form; apostrophes and
# the hard sign go (Russian "объект" is Ukrainian "об'єкт").
_FOLD = str.maketrans(
    {"ы": "и", "і": "и", "ї": "и", "э": "е", "є": "е", "ё": "е", "ґ": "г", "ъ": None, "'": None, "’": None, "ʼ": None}
)
_TRANSLIT = str.maketrans({"ы": "и", "э": "е", "ё": "ьо", "ъ": "'", "Ы": "И", "Э": "Е", "Ё": "Йо", "Ъ": "'"})


def fold(word: str) -> str:
    """``word`` lower-cased with the letters that differ between Russian and Ukrainian spelling merged."""
    return word.lower().translate(_FOLD)


def wants_ukrainian(question: str) -> bool:
    """True for a Cyrillic question that is not Russian (a Russian one may get a Russian answer)."""
    if not _CYRILLIC.search(question):
        return False
    return bool(_UKRAINIAN_ONLY.search(question)) or not RUSSIAN_ONLY.search(question)


def _match_case(model: str, word: str) -> str:
    if model.isupper() and len(model) > 1:
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def passage_spelling(answer: str, passages: Iterable[str]) -> str:
    """``answer`` with each misspelled word replaced by the one passage word it folds to.

    Words the passages contain, and words that fold to no passage word or to
    several different ones, are left as they are (apart from the transliteration
    of Russian-only letters).
    """
    vocabulary: dict[str, set[str]] = {}
    known: set[str] = set()
    for text in passages:
        for word in _WORD.findall(text):
            known.add(word.lower())
            vocabulary.setdefault(fold(word), set()).add(word.lower())

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        if word.lower() not in known:
            candidates = vocabulary.get(fold(word), set())
            if len(candidates) == 1:
                word = _match_case(word, next(iter(candidates)))
        return word.translate(_TRANSLIT)

    return _WORD.sub(fix, answer)
