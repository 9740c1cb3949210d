"""Retrieved passages -> the same passages, the short ones with the article's sentences before them.

Sits between retrieval (rag/retrieval.py) and the passage budget (rag/budget.py). A chunk of
one short sentence ("Майбутній держсекретар наступного року має бути затверджений
Конгресом.") matches a question well and tells the model nothing about whom it speaks of:
the name is in the sentences before it. A passage shorter than ``min_chars`` grows back, a
whole sentence at a time, until it holds ``to_chars`` characters or meets the article's start
or the text another passage of the same article in the prompt shows (the model sees it
anyway). ``start`` moves with it, so the viewer highlights what the model saw and the checks
judge against it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from litopys.index.chunking import sentence_spans
from litopys.rag.retrieval import Passage

log = logging.getLogger(__name__)

BodyOf = Callable[[str], str | None]  # article id -> its full body (None: no longer indexed)


def with_context(passages: Sequence[Passage], body_of: BodyOf, min_chars: int, to_chars: int) -> list[Passage]:
    """``passages`` in order, each shorter than ``min_chars`` grown back to ``to_chars``."""
    if min_chars <= 0:
        return list(passages)
    bodies: dict[str, str | None] = {}
    widened = []
    for passage in passages:
        if len(passage.text) < min_chars:
            if passage.article_id not in bodies:
                bodies[passage.article_id] = body_of(passage.article_id)
            body = bodies[passage.article_id]
            if body is not None:
                passage = _widened(passage, body, _floor(passage, passages), to_chars)
        widened.append(passage)
    return widened


def _floor(passage: Passage, passages: Sequence[Passage]) -> int:
    """Where ``passage`` may grow back to: the end of the text that the passages of its article
    starting before it show (chunks overlap: one may reach past its start, leaving nothing to add)."""
    shown = [
        min(p.end, passage.start) for p in passages if p.article_id == passage.article_id and p.start < passage.start
    ]
    return max(shown, default=0)


def _widened(passage: Passage, body: str, floor: int, to_chars: int) -> Passage:
    """``passage`` grown back a sentence at a time (none starting before ``floor``) until it
    holds ``to_chars`` characters."""
    if body[passage.start : passage.end] != passage.text:
        return passage  # the article changed since this chunk was indexed: its offsets mean nothing
    start = passage.start
    for sentence_start, _ in reversed(sentence_spans(body)):
        if sentence_start >= passage.start:
            continue
        if sentence_start < floor or passage.end - start >= to_chars:
            break
        start = sentence_start
    if start == passage.start:
        return passage
    log.debug("short passage %s:%d widened by %d characters", passage.article_id, passage.start, passage.start - start)
    return replace(passage, text=body[start : passage.end], start=start)
