"""Parsed articles -> chunks: sentence-aware windows sized in embedder tokens.

Sentences come from ``tokenize-uk`` (LanguageTool's SRX rules for Ukrainian).
Sentences are packed until the next one would pass ``target_tokens``; the
next chunk starts with the last sentences of the previous one, up to
``overlap_tokens``. A single sentence longer than the target (a run-on live
blog, a file with no punctuation) is cut at whitespace. Every chunk keeps its
character span in the article body, so ``body[start:end] == text``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import tokenize_uk

from litopys.index.corpus import Article

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class Chunk:
    """A passage of an article with its span in the article body."""

    article_id: str
    ordinal: int
    start: int
    end: int
    text: str


def sentence_spans(body: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``body`` (Ukrainian rules)."""
    return [(start, end) for _, start, end in tokenize_uk.tokenize_sents_with_spans(body)]


def _split_long(body: str, start: int, end: int, max_tokens: int, count: TokenCounter) -> list[tuple[int, int]]:
    """Cut one over-long span at whitespace into pieces of at most ~max_tokens."""
    pieces: list[tuple[int, int]] = []
    text = body[start:end]
    chars_per_token = max(1.0, len(text) / max(1, count(text)))
    step = max(1, int(max_tokens * chars_per_token))
    pos = 0
    while pos < len(text):
        cut = min(len(text), pos + step)
        if cut < len(text):
            space = text.rfind(" ", pos + step // 2, cut)
            if space > pos:
                cut = space
        piece_start, piece_end = start + pos, start + cut
        # Trim whitespace so spans never start or end on blanks.
        while piece_start < piece_end and body[piece_start].isspace():
            piece_start += 1
        while piece_end > piece_start and body[piece_end - 1].isspace():
            piece_end -= 1
        if piece_end > piece_start:
            pieces.append((piece_start, piece_end))
        pos = cut
    return pieces


def chunk_article(article: Article, count_tokens: TokenCounter, target_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Split an article body into overlapping, sentence-aligned chunks."""
    units: list[tuple[int, int, int]] = []  # (start, end, tokens)
    for start, end in sentence_spans(article.body):
        tokens = count_tokens(article.body[start:end])
        if tokens > target_tokens:
            for s, e in _split_long(article.body, start, end, target_tokens, count_tokens):
                units.append((s, e, count_tokens(article.body[s:e])))
        else:
            units.append((start, end, tokens))
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j][2] <= target_tokens):
            total += units[j][2]
            j += 1
        spans.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        # Step back over trailing sentences for overlap, but always advance.
        back, k = 0, j
        while k - 1 > i and back + units[k - 1][2] <= overlap_tokens:
            k -= 1
            back += units[k][2]
        i = k
    return [Chunk(article.id, n, s, e, article.body[s:e]) for n, (s, e) in enumerate(spans)]
