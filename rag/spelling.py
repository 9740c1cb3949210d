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

import os
import re
from collections.abc import Iterable

from litopys.index.lemmatize import is_ukrainian_word

RUSSIAN_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")
_UKRAINIAN_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_CYRILLIC = re.compile(r"[а-яА-Я]")
_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ][^\W\d_]+)*")
# Letters the two alphabets spell the same sounds with, folded to one form; apostrophes and
# the hard sign go (Russian "объект" is Ukrainian "об'єкт").
_FOLD = str.maketrans(
    {"ы": "и", "і": "и", "ї": "и", "э": "е", "є": "е", "ё": "е", "ґ": "г", "ъ": None, "'": None, "’": None, "ʼ": None}
)
# A stem shared with a passage word is this long at least, and the endings that differ this short
# at most: Ukrainian endings are 1-3 letters, and a shorter stem would join unrelated words.
_MIN_STEM, _MAX_ENDING = 5, 3
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


def _folded_prefix(word: str, n: int) -> str:
    """The letters of ``word`` that fold to its first ``n`` folded letters."""
    taken = 0
    for i, char in enumerate(word):
        if taken == n:
            return word[:i]
        taken += len(char.lower().translate(_FOLD))
    return word


def _stem_respelling(word: str, vocabulary: dict[str, set[str]]) -> str | None:
    """``word`` with its stem in the spelling of a passage word that differs only in the ending.

    The model often writes another case of the passage's word, misspelled ("Националізація" for the
    passage's "націоналізацію"): the stem takes the passage's letters, the ending stays the model's.
    """
    folded = fold(word)
    if len(folded) < _MIN_STEM + 1:
        return None
    stems = set()
    for other, spellings in vocabulary.items():
        n = len(os.path.commonprefix([folded, other]))  # noqa: RUF071 (characters are wanted: a shared stem)
        if n >= _MIN_STEM and len(folded) - n <= _MAX_ENDING and len(other) - n <= _MAX_ENDING:
            stems |= {_folded_prefix(s, n) for s in spellings}
    if len(stems) != 1:
        return None  # no passage word, or several spelled differently: not guessed
    stem = next(iter(stems))
    n = len(fold(stem))
    mine = _folded_prefix(word, n)
    if mine.lower() == stem:
        return None  # the same stem: only the ending differs, which is grammar, not spelling
    return _match_case(word, stem + word[len(mine) :].lower())


def passage_spelling(answer: str, passages: Iterable[str]) -> str:
    """``answer`` with each misspelled word replaced by the one passage word it folds to.

    A word that folds to no passage word but shares a stem with one ("Националізація" beside
    "націоналізацію") takes that word's stem. Words the passages contain, words the Ukrainian
    dictionary knows, and words that fold to several different ones are left as they are (apart
    from the transliteration of Russian-only letters).
    """
    vocabulary: dict[str, set[str]] = {}
    known: set[str] = set()
    for text in passages:
        for word in _WORD.findall(text):
            known.add(word.lower())
            vocabulary.setdefault(fold(word), set()).add(word.lower())

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        # A word the Ukrainian dictionary knows is a spelling, not a misspelling ("кривий" beside "кривій").
        if word.lower() not in known and not is_ukrainian_word(word):
            candidates = vocabulary.get(fold(word), set())
            if len(candidates) == 1:
                word = _match_case(word, next(iter(candidates)))
            elif not candidates:
                word = _stem_respelling(word, vocabulary) or word
        return word.translate(_TRANSLIT)

    return _WORD.sub(fix, answer)
