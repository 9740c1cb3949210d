"""Ranked passages + question -> the passages the prompt carries, within a token budget.

Sits between retrieval (rag/retrieval.py, which ranks whole chunks) and the prompt
(rag/prompt.py, which numbers what it is given). Prompt evaluation is most of an
answer's wait on a small machine, so the passages get a budget in the answering
model's tokens instead of a chunk count. Retrieval's best passage claims the room first,
then the others in the order of how much of the question their best sentence carries
(names and numbers count double); each goes in whole when it fits the room left, else
cut to the sentences that carry the question's lemmas, numbers and names (each with a
neighbour), else not at all. The prompt numbers the kept ones in rank order. The best
passage always goes in, cut to a window of words if even one sentence is too long.

A cut passage keeps ``start``/``end`` in the article body: they span its first to its
last kept sentence, so the viewer highlights what the model saw (and the sentences
left out between, when the kept ones are not adjacent). Its ``text`` is what the model
saw, so the checks after generation (citations, grounding, withholding) judge against it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from litopys.index.chunking import sentence_spans
from litopys.index.lemmatize import CAPITALIZED, lemma, search_lemmas, with_region_adjectives, words
from litopys.rag.citations import numbers
from litopys.rag.prompt import passage_body
from litopys.rag.retrieval import Passage

log = logging.getLogger(__name__)

TokenCounter = Callable[[str], int]

GAP = " … "  # stands for the sentences left out between two kept ones
# A name or a number of the question in a sentence says more than a common word does.
NAME_WEIGHT = 2
NUMBER_WEIGHT = 2


def estimate_tokens(text: str) -> int:
    """Tokens of ``text`` when no tokenizer is at hand: one per 3 UTF-8 bytes.

    Qwen and Llama vocabularies spend about 2 characters (4 bytes) of Cyrillic per
    token, so the estimate errs on the long side and a budget it fills is not exceeded.
    """
    return len(text.encode("utf-8")) // 3 + 1


@dataclass(frozen=True)
class Asked:
    """What a sentence must carry to be worth keeping: the question's lemmas, names and numbers."""

    lemmas: frozenset[str]
    names: frozenset[str]
    numbers: frozenset[str]

    @classmethod
    def of(cls, question: str) -> Asked:
        names = {
            lemma(m.group(0).lower()) for m in CAPITALIZED.finditer(question) if m.start() > 0
        }  # past the first word: a name
        return cls(
            frozenset(search_lemmas(question)), frozenset(with_region_adjectives(names)), frozenset(numbers(question))
        )

    def score(self, sentence: str) -> int:
        """How much of the question ``sentence`` carries (0: nothing)."""
        have = {lemma(w) for w in words(sentence)}
        return (
            len(self.lemmas & have)
            + NAME_WEIGHT * len(self.names & have)
            + NUMBER_WEIGHT * len(self.numbers & numbers(sentence))
        )


@dataclass(frozen=True)
class Sentence:
    """A sentence of a passage: its span in the passage text and how much of the question it carries."""

    start: int
    end: int
    score: int


def fit_passages(
    question: str, passages: Sequence[Passage], max_tokens: int, count: TokenCounter = estimate_tokens
) -> list[Passage]:
    """The best ``passages`` whose prompt blocks fit ``max_tokens`` together, in rank order.

    Retrieval's best passage claims the room first, then the others by how much of the
    question they carry (``selection_order``). ``count`` is the answering model's tokenizer
    (``ChatModel.count_tokens``); without one, ``estimate_tokens``. A budget of 0 or less
    keeps every passage whole.
    """
    if max_tokens <= 0 or not passages:
        return list(passages)
    asked = Asked.of(question)
    rank = {p.chunk_id: n for n, p in enumerate(passages)}
    kept: dict[int, Passage] = {}

    def in_rank_order(*extra: Passage) -> list[Passage]:
        return sorted([*kept.values(), *extra], key=lambda p: rank[p.chunk_id])

    def fits(candidate: Passage) -> bool:
        # The blocks are counted as the prompt numbers them: in rank order, the candidate in its place.
        return blocks_tokens(in_rank_order(candidate), count) <= max_tokens

    for passage in selection_order(passages, asked):
        fitted = _fit_one(passage, asked, fits)
        if fitted is None and not kept:
            fitted = _word_window(passage, asked, max_tokens, count)
        if fitted is not None:
            kept[passage.chunk_id] = fitted
    chosen = in_rank_order()
    whole = {p.chunk_id: p.text for p in passages}
    cut = sum(1 for p in chosen if p.text != whole[p.chunk_id])
    log.debug("passage budget %d tokens: %d of %d passages kept, %d cut", max_tokens, len(chosen), len(passages), cut)
    return chosen


def selection_order(passages: Sequence[Passage], asked: Asked) -> list[Passage]:
    """The order in which ``passages`` claim the room: retrieval's best first, then the others by
    how much of the question their best sentence carries, rank breaking ties.

    Where retrieval is unsure (the 3rd to 5th passages stay only when nothing stands out), its
    order among the weaker passages says little, and a passage that shares no word with the
    question rarely holds the answer: the room goes to the one that names what was asked.
    """
    first, *others = passages
    carried = {p.chunk_id: max(s.score for s in _sentences(p, asked)) for p in others}
    return [first, *sorted(others, key=lambda p: -carried[p.chunk_id])]  # sorted() is stable: rank breaks ties


def blocks_tokens(passages: Sequence[Passage], count: TokenCounter) -> int:
    """Tokens of the passages as the prompt writes them (numbered blocks, blank lines between)."""
    return count(passage_body(passages)) if passages else 0


def _fit_one(passage: Passage, asked: Asked, fits: Callable[[Passage], bool]) -> Passage | None:
    """``passage`` whole if it ``fits`` beside the passages kept, else its question-bearing
    sentences that fit, else None."""
    if fits(passage):
        return passage
    sentences = _sentences(passage, asked)
    chosen: set[int] = set()
    for i, anchor in _priority(sentences):
        if anchor is not None and anchor not in chosen:
            continue  # a neighbour goes in only with the sentence it neighbours
        if fits(_cut(passage, [sentences[j] for j in sorted(chosen | {i})])):
            chosen.add(i)
    return _cut(passage, [sentences[j] for j in sorted(chosen)]) if chosen else None


def _sentences(passage: Passage, asked: Asked) -> list[Sentence]:
    spans = sentence_spans(passage.text) or [(0, len(passage.text))]
    return [Sentence(s, e, asked.score(passage.text[s:e])) for s, e in spans]


def _priority(sentences: list[Sentence]) -> list[tuple[int, int | None]]:
    """The sentences worth keeping, most wanted first, each with the sentence it neighbours (None
    for one that carries the question): each carrying sentence, then its next one (the one before,
    for the last); then the other neighbours."""
    hits = sorted((i for i, s in enumerate(sentences) if s.score > 0), key=lambda i: (-sentences[i].score, i))
    order: dict[int, int | None] = {}

    def add(i: int, anchor: int) -> None:
        order.setdefault(i, None if sentences[i].score > 0 else anchor)

    for i in hits:
        order.setdefault(i, None)
        if len(sentences) > 1:
            add(i + 1 if i + 1 < len(sentences) else i - 1, i)
    for i in hits:
        for n in (i - 1, i + 1):
            if 0 <= n < len(sentences):
                add(n, i)
    return list(order.items())


def _cut(passage: Passage, chosen: Sequence[Sentence]) -> Passage:
    """``passage`` reduced to the ``chosen`` sentences (in order): adjacent ones keep the text
    between them, others are joined by ``GAP``; ``start``/``end`` span them in the article."""
    if not chosen:
        raise ValueError("a cut passage needs at least one sentence")
    text = passage.text[chosen[0].start : chosen[0].end]
    for before, sentence in pairwise(chosen):
        between = passage.text[before.end : sentence.start]
        # Only whitespace lies between adjacent sentences: anything else is left-out sentences.
        joint = between if not between.strip() else GAP
        text += joint + passage.text[sentence.start : sentence.end]
    if chosen[0].start == 0 and chosen[-1].end == len(passage.text) and GAP not in text:
        return passage
    return replace(passage, text=text, start=passage.start + chosen[0].start, end=passage.start + chosen[-1].end)


def _word_window(passage: Passage, asked: Asked, max_tokens: int, count: TokenCounter) -> Passage | None:
    """The best passage alone, as the longest run of whole words around its best sentence's
    first question word that fits the budget (a sentence longer than the budget)."""
    text = passage.text
    spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    if not spans:
        return None
    best = max(_sentences(passage, asked), key=lambda s: (s.score, -s.start))
    inside = [i for i, (s, e) in enumerate(spans) if best.start <= s < best.end] or [0]
    hit = next((i for i in inside if asked.score(text[spans[i][0] : spans[i][1]]) > 0), inside[0])
    lo = hi = hit

    def fits(lo: int, hi: int) -> bool:
        return blocks_tokens([_span(passage, spans[lo][0], spans[hi][1])], count) <= max_tokens

    if not fits(lo, hi):
        return None
    while True:  # grow by a word on the shorter side (else the other) while the window still fits
        after = (lo, hi + 1) if hi + 1 < len(spans) else None
        before = (lo - 1, hi) if lo > 0 else None
        tries = [after, before] if hi - hit <= hit - lo else [before, after]
        grown = next(
            (t for t in tries if t and fits(*t)),
            None,
        )
        if grown is None:
            break
        lo, hi = grown
    return _span(passage, spans[lo][0], spans[hi][1])


def _span(passage: Passage, start: int, end: int) -> Passage:
    """The contiguous piece ``passage.text[start:end]``, located in the article."""
    return replace(passage, text=passage.text[start:end], start=passage.start + start, end=passage.start + end)
