"""Sentence-aware chunking with spans into the article body."""

import itertools

from litopys.index.chunking import chunk_article
from litopys.index.corpus import parse_article


def words(text: str) -> int:
    return len(text.split())


def make(body: str):
    article, _ = parse_article("a.txt", "Заголовок\n\n" + body)
    return article


# Each sentence is 7 words long.
BODY = " ".join(f"Речення номер {i} має рівно сім слів." for i in range(1, 21))


def test_spans_point_into_the_body():
    article = make(BODY)
    chunks = chunk_article(article, words, target_tokens=20, overlap_tokens=6)
    assert len(chunks) > 3
    for c in chunks:
        assert article.body[c.start : c.end] == c.text
        assert c.article_id == "a.txt"


def test_chunks_respect_target_and_sentence_boundaries():
    article = make(BODY)
    for c in chunk_article(article, words, target_tokens=20, overlap_tokens=6):
        assert words(c.text) <= 20
        assert c.text.startswith("Речення") and c.text.endswith(".")


def test_overlap_repeats_last_sentence_and_covers_everything():
    article = make(BODY)
    chunks = chunk_article(article, words, target_tokens=22, overlap_tokens=7)
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start < prev.end  # overlapping
        assert nxt.start > prev.start  # always advancing
    assert chunks[0].start == 0 and chunks[-1].end == len(article.body)


def test_no_overlap_tiles_the_text():
    article = make(BODY)
    chunks = chunk_article(article, words, target_tokens=18, overlap_tokens=0)
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start >= prev.end


def test_a_run_on_sentence_is_cut_at_whitespace():
    article = make(" ".join(["безкінечне"] * 500))
    chunks = chunk_article(article, words, target_tokens=40, overlap_tokens=0)
    assert len(chunks) >= 12
    for c in chunks:
        assert words(c.text) <= 40
        assert article.body[c.start : c.end] == c.text
        assert not c.text.startswith(" ") and not c.text.endswith(" ")


def test_ukrainian_abbreviations_do_not_split_sentences():
    article = make("Президент Д. Трамп заявив про це 5 грудня. Інше речення.")
    chunks = chunk_article(article, words, target_tokens=9, overlap_tokens=0)
    assert chunks[0].text == "Президент Д. Трамп заявив про це 5 грудня."
