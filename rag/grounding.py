"""Answer + cited passages -> is each claim really in the passage it cites?

After generation, every sentence of the answer is checked against the
passages it cites (or, for a sentence without a marker, against all the
passages the answer cites): its numbers and names must occur there, and
most of its content lemmas must. A number found in no cited passage is the
strongest red flag, because small models most often invent figures.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tokenize_uk import tokenize_sents

from litopys.index.lemmatize import lemma, lemmas, words
from litopys.rag.citations import MARKER, content_lemmas, marker_numbers, numbers

MIN_OVERLAP = 0.5  # share of a claim's content lemmas that its passages must contain
# A capitalized word that is not the tail of a compound ("Прайм-Девелопмент" is one name).
_NAME = re.compile(r"(?<![\w'’ʼ-])([A-ZА-ЯІЇЄҐ][\w'’ʼ-]*\w)")


@dataclass(frozen=True)
class ClaimCheck:
    """One sentence of an answer and what its cited passages do and do not back up."""

    sentence: str
    cited: tuple[int, ...]
    supported: bool
    overlap: float
    missing_numbers: tuple[str, ...] = ()
    missing_names: tuple[str, ...] = ()

    @property
    def missing(self) -> tuple[str, ...]:
        """Numbers and names of the claim that no cited passage contains."""
        return self.missing_numbers + self.missing_names

    def as_dict(self) -> dict[str, object]:
        return {
            "sentence": self.sentence,
            "cited": list(self.cited),
            "supported": self.supported,
            "overlap": round(self.overlap, 3),
            "missing_numbers": list(self.missing_numbers),
            "missing_names": list(self.missing_names),
        }


@dataclass(frozen=True)
class Grounding:
    """The claims of one answer; ``score`` is the share of claims that are supported."""

    claims: tuple[ClaimCheck, ...]
    score: float
    supported_citations: frozenset[int]

    @property
    def flagged(self) -> bool:
        return any(not c.supported for c in self.claims)


def split_claims(answer: str) -> list[tuple[str, tuple[int, ...]]]:
    """Sentences of ``answer`` with the passage numbers each cites.

    A marker that starts a sentence (``Дмитрієв. [1]``) belongs to the one before.
    """
    # "Дмитрієв.[1] Далі" -> "Дмитрієв [1]. Далі": the marker goes with the sentence it ends.
    answer = re.sub(r"([.!?…])\s*((?:\[[^\]]*\]\s*)+)", lambda m: f" {m.group(2).strip()}{m.group(1)} ", answer)
    out: list[tuple[str, list[int]]] = []
    for sent in tokenize_sents(answer.strip()):
        sent = sent.strip()
        if not sent:
            continue
        lead = re.match(r"^(?:\s*\[[^\]]*\]\s*[.,;]?)+", sent)
        if lead and out and MARKER.search(lead.group(0)):
            out[-1][1].extend(marker_numbers(lead.group(0)))
            sent = sent[lead.end() :].strip()
            if not sent:
                continue
        out.append((sent, marker_numbers(sent)))
    return [(s, tuple(dict.fromkeys(nums))) for s, nums in out]


def _names(sentence: str) -> set[str]:
    """Lemmas of capitalized words that do not start the sentence (names, places, firms)."""
    found = set()
    for match in _NAME.finditer(sentence):
        if match.start() == len(sentence) - len(sentence.lstrip()):
            continue
        found.add(lemma(match.group(1).lower()))
    return found


def claimed_lemmas(claim: str, given: set[str]) -> set[str]:
    """The content lemmas ``claim`` adds to the ``given`` ones (the question's); numbers are checked apart."""
    return {lem for lem in content_lemmas(MARKER.sub(" ", claim)) - given if not lem.isdigit()}


def check_claim(sentence: str, cited: Sequence[int], passage_texts: Sequence[str], question: str = "") -> ClaimCheck:
    """Whether ``passage_texts`` back up ``sentence`` (numbers, names and most content lemmas).

    Words of the question are given, not claimed: an answer may repeat them freely.
    """
    given = set(lemmas(question))
    claim = MARKER.sub(" ", sentence)
    evidence = " \n ".join(passage_texts)
    have_words = set(words(evidence))
    have_lemmas = {lemma(w) for w in have_words}
    want = claimed_lemmas(claim, given)
    overlap = len(want & have_lemmas) / len(want) if want else 1.0
    have_numbers = numbers(evidence) | {w for w in have_words if w.isdigit()}
    missing_numbers = tuple(sorted(n for n in numbers(claim) - numbers(question) if n not in have_numbers))
    missing_names = tuple(sorted(n for n in _names(claim) - given if n not in have_lemmas and n not in have_words))
    supported = bool(passage_texts) and overlap >= MIN_OVERLAP and not missing_numbers and not missing_names
    return ClaimCheck(sentence, tuple(cited), supported, overlap, missing_numbers, missing_names)


def check_answer(answer: str, cited_texts: dict[int, str], question: str = "") -> Grounding:
    """Check every sentence of ``answer`` against the passages it cites (``n`` -> passage text)."""
    claims = []
    supported_citations: set[int] = set()
    every_cited = sorted(cited_texts)
    for sentence, nums in split_claims(answer):
        if not MARKER.sub("", sentence).strip(" .,;:—-"):
            continue
        use = [n for n in nums if n in cited_texts] or every_cited
        check = check_claim(sentence, use, [cited_texts[n] for n in use], question)
        claims.append(check)
        if check.supported:
            supported_citations.update(use)
    score = sum(c.supported for c in claims) / len(claims) if claims else 0.0
    return Grounding(tuple(claims), score, frozenset(supported_citations))


def recite(answer: str, passage_texts: Sequence[str], question: str = "") -> str:
    """``answer`` with each sentence that its cited passages do not back re-cited to one passage that does.

    The small model often puts the right fact after the wrong marker ("Дмитрієв [1]" where
    passage 2 names him). A sentence whose numbers or names its cited passages lack is
    pointed at the first other passage (``passage_texts[n-1]`` is passage ``n``) that backs
    the whole claim; a fact found in no passage stays as it is, for the withholding rules.
    """
    texts = dict(enumerate(passage_texts, 1))
    pieces = re.split(r"((?<=[.!?…])\s+)", answer)
    for i, sentence in enumerate(pieces):
        cited = [n for n in marker_numbers(sentence) if n in texts]
        if not cited or not check_claim(sentence, cited, [texts[n] for n in cited], question).missing:
            continue
        for n, text in texts.items():
            if n not in cited and check_claim(sentence, [n], [text], question).supported:
                pieces[i] = _one_marker(sentence, n)
                break
    return "".join(pieces)


def _one_marker(sentence: str, n: int) -> str:
    """``sentence`` with its first marker made ``[n]`` and the others removed."""
    first = MARKER.search(sentence)
    assert first is not None
    rest = MARKER.sub("", sentence[first.end() :])
    return re.sub(r"[ \t]+([.,;:!?…])", r"\1", f"{sentence[: first.start()]}[{n}]{rest}")


def unmet_question_numbers(question: str, evidence: Sequence[str]) -> tuple[str, ...]:
    """Numbers of two or more digits in the question (years, sums) that no evidence text contains.

    A question about "the 2018 world cup" is not answered by a passage that never mentions
    2018, however well its other words match; small models happily answer from such a
    passage. Short numbers are left out: "2 медалі" may be written "дві медалі".
    """
    asked = {n for n in numbers(question) if sum(ch.isdigit() for ch in n) >= 2}
    if not asked:
        return ()
    text = " \n ".join(evidence)
    have = numbers(text) | set(re.findall(r"\d+", text))
    return tuple(sorted(asked - have))


def warm_up() -> None:
    """Run a check once: tokenize-uk compiles its patterns and the lemmatizer loads on first use (~1 s)."""
    check_answer("Делегацію очолив Кирило Дмитрієв [1]. Він прибув у вівторок [1].", {1: "Делегацію очолив Кирило."})
