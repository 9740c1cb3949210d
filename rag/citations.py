"""Answer text -> citations: parse ``[n]`` markers and map them to passages.

The small bundled LLM often states the right fact but drops the marker. When
an answer has no valid marker and is not a refusal, the passage that shares
the most content lemmas and numbers with it is attributed after the fact and
the citation is flagged ``attributed=True`` so the reader knows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from litopys.index.lemmatize import QUERY_STOPWORDS, lemmas
from litopys.rag.retrieval import Passage

MARKER = re.compile(
    r"\[\s*(?:фрагмент\s*|fragment\s*|passage\s*)?(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\s*\]", re.IGNORECASE
)
# Digits with decimal or grouping separators ("2,4", "1.250.000") make one number.
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_REFUSAL_HINTS = (
    "немає відповіді",
    "не містять відповіді",
    "не містить відповіді",
    "немає інформації",
    "do not contain the answer",
    "does not contain the answer",
    "no answer",
)


@dataclass(frozen=True)
class Citation:
    """Marker ``[n]`` in the answer, resolved to the passage it points to."""

    n: int
    passage: Passage
    attributed: bool = False  # the marker was added or moved after generation
    supported: bool | None = None  # set by rag.grounding after generation

    def as_dict(self) -> dict[str, object]:
        """The passage's fields, flat, between the marker number and the two flags."""
        return {"n": self.n, **self.passage.as_dict(), "attributed": self.attributed, "supported": self.supported}


def marker_numbers(answer: str) -> list[int]:
    """Every number cited in ``answer``, in order of first appearance (ranges expanded)."""
    found: dict[int, None] = {}
    for match in MARKER.finditer(answer):
        for part in re.split(r"\s*[,;]\s*", match.group(1)):
            bounds = re.split(r"\s*[–-]\s*", part)
            if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
                lo, hi = int(bounds[0]), int(bounds[1])
                numbers: Iterable[int] = range(lo, hi + 1) if 0 < hi - lo < 10 else (lo, hi)
            else:
                numbers = (int(bounds[0]),)
            for n in numbers:
                found.setdefault(n, None)
    return list(found)


# The refusal sentences, and the model's own words for them ("Відповідь на це запитання не можна
# знайти в статтях").
_REFUSAL = re.compile(
    "|".join(map(re.escape, _REFUSAL_HINTS)) + "|"
    r"\b(?:не можна|неможливо|не вдається|не вдалося)\s+(?:знайти|визначити|встановити)\b"
    r"|\b(?:не|немає)\s+(?:містять|містить|надають|наводять|згадують|подають)\s+(?:\w+\s+)?"
    r"(?:відповід\w*|інформаці\w*|даних|відомост\w*)"
    r"|\bнемає\s+(?:даних|відомостей|згадки|згадок)\b"
    r"|\b(?:not|no)\s+(?:mentioned|stated|found|information)\b",
    re.IGNORECASE,
)


def is_refusal(answer: str) -> bool:
    """Whether the answer says the articles do not contain the answer."""
    return bool(_REFUSAL.search(answer))


def resolve_citations(answer: str, passages: Sequence[Passage]) -> tuple[list[Citation], list[int]]:
    """Citations for valid markers, and the marker numbers that point to no passage."""
    valid, invalid = [], []
    for n in marker_numbers(answer):
        if 1 <= n <= len(passages):
            valid.append(Citation(n, passages[n - 1]))
        else:
            invalid.append(n)
    return valid, invalid


def numbers(text: str) -> set[str]:
    """The numbers written in ``text``; a decimal comma reads as a point, so "2,4" and "2.4" are one number."""
    return {n.replace(",", ".") for n in NUMBER.findall(text)}


def content_lemmas(text: str) -> set[str]:
    """Lemmas of ``text`` that carry content (no stopwords, no one-letter words)."""
    return {lem for lem in lemmas(text) if lem not in QUERY_STOPWORDS and len(lem) > 1}


def _evidence(text: str) -> set[str]:
    return content_lemmas(MARKER.sub(" ", text)) | numbers(text)


def support(claim: str, passage_text: str) -> float:
    """Share of the claim's content lemmas and numbers that the passage contains (0..1)."""
    want = _evidence(claim)
    return len(want & _evidence(passage_text)) / len(want) if want else 0.0


def best_supporting(answer: str, passages: Sequence[Passage], minimum: float = 0.3) -> tuple[int, float] | None:
    """1-based number and support of the passage that best supports ``answer``, if any reaches ``minimum``."""
    scored = [(support(answer, p.text), -n) for n, p in enumerate(passages, 1)]
    if not scored:
        return None
    score, neg_n = max(scored)
    return (-neg_n, score) if score >= minimum else None


_REMOVED = "\x00"


def strip_invalid_markers(answer: str, invalid: Sequence[int]) -> str:
    """Remove markers whose every number is invalid (they would mislead the reader)."""
    if not invalid:
        return answer
    bad = set(invalid)

    def fix(match: re.Match[str]) -> str:
        nums = [n for n in marker_numbers(match.group(0)) if n not in bad]
        return "[" + ", ".join(map(str, nums)) + "]" if nums else ""

    # A removed marker leaves a sentinel first: removing "[0]" from "[1[0]]" must not leave a new
    # marker "[1]" behind, so brackets around a sentinel go with it.
    text = MARKER.sub(lambda m: fix(m) or _REMOVED, answer)
    text = re.sub(rf"\[[^\[\]]*{_REMOVED}[^\[\]]*\]", "", text).replace(_REMOVED, "")
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def attribute_citations(text: str, citations: list[Citation], passages: list[Passage]) -> tuple[str, list[Citation]]:
    """Add a citation to an uncited answer, or move a citation to the passage that really supports it.

    The small LLM often drops markers or points at a neighbouring passage; the
    passage sharing most of the answer's lemmas and numbers is then cited
    instead, flagged ``attributed``.
    """
    best = best_supporting(text, passages)
    if best is None:
        return text, citations
    n, best_score = best
    if not citations:
        text = f"{text[:-1]} [{n}]." if text.endswith(".") else f"{text} [{n}]"
        return text, [Citation(n, passages[n - 1], attributed=True)]
    cited_score = max(support(text, c.passage.text) for c in citations)
    if n in {c.n for c in citations} or best_score < cited_score + 0.25:
        return text, citations
    if len(citations) == 1:
        text = re.sub(rf"\[\s*{citations[0].n}\s*\]", f"[{n}]", text)
        return text, [Citation(n, passages[n - 1], attributed=True)]
    text = f"{text[:-1]} [{n}]." if text.endswith(".") else f"{text} [{n}]"
    return text, citations + [Citation(n, passages[n - 1], attributed=True)]
