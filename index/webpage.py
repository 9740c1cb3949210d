"""A saved web page (``.html``/``.htm``) -> one article, by trafilatura.

trafilatura keeps the main text and leaves menus, sidebars, comments, share
buttons and footers out; it also reads the title, author, canonical URL, site
name, section and tags from the page's metadata (OpenGraph, JSON-LD, microdata,
``<meta>``). Its date search is held to the markup (meta tags, JSON-LD,
``<time>``, the URL); only when that finds nothing does htmldate also read the
dates written in the page's text. "Read also" lines inside the text and lines
without a letter are dropped. A page without article text is skipped with the
reason.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

import htmldate
import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import Document
from trafilatura.utils import decode_file

from litopys.index.corpus import (
    MAX_TITLE_CHARS,
    Article,
    ArticleFormatError,
    NotUtf8Error,
    decode_text,
    iso_date,
    with_stored_hash,
)

# A line that points to other articles or asks to subscribe: site furniture inside the text.
_FURNITURE = re.compile(
    r"^[\W_]*(?:читайте\s+(?:також|більше|нас)|дивіться\s+також|див\.\s*також|також\s+читайте"
    r"|підписуй(?:те)?с[ья]\s+на|читайте\s+также|смотрите\s+также|подписывайтесь\s+на"
    r"|read\s+(?:also|more)|also\s+read|see\s+also|related\s*:|subscribe\s+to|sign\s+up\s+for)\b",
    re.IGNORECASE,
)
_LETTER = re.compile(r"[^\W\d_]")
# Their warnings ("discarding data: None") only repeat, less clearly, the reason a page is skipped.
for _name in ("trafilatura", "htmldate"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def parse_page(article_id: str, data: bytes) -> tuple[Article, list[str]]:
    """Page bytes -> an Article with its metadata, and warnings; raises ArticleFormatError."""
    try:
        html, warnings = decode_text(data)
    except NotUtf8Error:
        # Pages often declare another charset (<meta charset="windows-1251">): trafilatura honours it.
        html, warnings = decode_file(data), []
    if "\x00" in html:
        raise ArticleFormatError("binary content (NUL bytes)")
    today = dt.date.today().isoformat()
    found = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,
        favor_precision=True,  # a listing of headlines is not an article
        date_extraction_params={"original_date": True, "extensive_search": False, "max_date": today},
    )
    doc = found if isinstance(found, Document) else Document()  # None: nothing found
    title = _clean(doc.title)
    lines = _text_lines(doc.text, title)
    if not any(_is_sentence(line) for line in lines):
        raise ArticleFormatError(_why_no_text(html))
    if not title:
        title = lines[0]
        warnings.append("no title in the page: the first line of the text is the title")
    if len(title) > MAX_TITLE_CHARS:
        warnings.append(f"title is {len(title)} characters: cut to {MAX_TITLE_CHARS}")
        title = title[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    date = iso_date(doc.date or "")
    if date is None:
        date = _date_from_text(html, today)
    article = Article(
        article_id,
        title,
        date,
        "\n\n".join(lines),
        "",
        url=_clean(doc.url),
        author=_clean(doc.author),
        outlet=_clean(doc.sitename),
        section=_clean(doc.categories[0]) if doc.categories else None,
        tags=tuple(t for t in (_clean(t) for t in doc.tags or []) if t),
    )
    return with_stored_hash(article), warnings


def _clean(value: str | None) -> str | None:
    """One line of text, or None when nothing is left."""
    text = " ".join((value or "").split())
    return text or None


def _text_lines(text: str | None, title: str | None) -> list[str]:
    """The paragraphs of the extracted text, without the headline and the site furniture."""
    # A table cell comes as "| text |": the bars are layout, not text.
    lines = [" ".join(line.split()).strip(" |") for line in (text or "").splitlines()]
    lines = [line for line in lines if _LETTER.search(line) and not _FURNITURE.match(line)]
    if lines and title and lines[0] == title:
        lines = lines[1:]  # the headline, kept as the title
    return lines


def _is_sentence(line: str) -> bool:
    """Prose, not a menu or a headline: six words or more, ending as a sentence ends.

    On a page with no article, trafilatura's fallback extractors return what text there is
    (a menu, a list of headlines); an article has at least one such sentence.
    """
    return len(line.split()) >= 6 and line.rstrip('»"”’)').endswith((".", "!", "?", "…"))


def _why_no_text(html: str) -> str:
    """The reason a page gave no article text: an empty page, or one of only links and headings."""
    tree = trafilatura.load_html(html)
    words: list[str] = []
    if isinstance(tree, HtmlElement):
        words = " ".join(tree.xpath("//body//text()[not(ancestor::script or ancestor::style)]")).split()
    if not words:
        return "empty page: its <body> has no text"
    return (
        f"no article text found: the page's {len(words)} words are menus, links or headings "
        "(a list of headlines, a front page); save the article itself"
    )


def _date_from_text(html: str, today: str) -> str | None:
    """htmldate's wider search: dates written in the text (``7 вересня 2021``, ``2021/09/07``).

    htmldate falls back to a month or a year alone (often the footer's copyright year) as
    the 1st of it; such a guess is refused unless the page gives that day in digits.
    """
    found = htmldate.find_date(html, extensive_search=True, original_date=True, max_date=today)
    date = iso_date(found or "")
    if date is None or not date.endswith("-01"):
        return date
    y, m = date[:4], date[5:7]
    day_one = rf"(?<!\d)(?:{y}[-/.]{m}[-/.]0?1|0?1[-/.]{m}[-/.]{y}|{y}{m}01)(?!\d)"
    return date if re.search(day_one, html) else None
