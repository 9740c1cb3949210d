"""CMS and scraper exports (``.jsonl``, ``.csv``) -> one article per line or row.

``ExportSettings`` says which keys (JSONL) or header names (CSV) hold the title,
date, text, URL, author, outlet, section and tags. An article's id is
``<file>#<id field>``, or ``<file>#<line number>`` when the line has no id, so
the same line keeps its id from one run to the next: editing one line embeds
only that article again, and a deleted line leaves the index. A bad line
(invalid JSON, no text, a date that cannot be read, a duplicate id) is skipped
with ``file:line: reason`` and the rest of the file is read.
"""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import functools
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import dateparser
import lxml.etree
import lxml.html

from litopys.core.config import ExportSettings
from litopys.index.corpus import (
    MAX_TITLE_CHARS,
    Article,
    ArticleFormatError,
    FileIssue,
    decode_text,
    with_stored_hash,
)

# A record (line number, the line's fields) or why the line is unusable (line number, reason).
Record = tuple[int, dict[str, Any] | str]

_DATEPARSER_SETTINGS: Any = {
    # A written date with day, month and year ("15 березня 2024", "March 15, 2024", "15.03.2024");
    # relative ones ("вчора", "2 days ago") would change meaning from one run to the next.
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PARSERS": ["timestamp", "custom-formats", "absolute-time"],
    "DATE_ORDER": "DMY",
    "RETURN_AS_TIMEZONE_AWARE": False,
}
_DATE_LANGUAGES = ["uk", "en", "ru"]  # named, not detected: detection is slow and guesses wrong on short strings
_EPOCH = re.compile(r"^\d{9,13}(?:\.\d+)?$")
_HTML_BLOCK = re.compile(r"<(?:p|br|div|li|h[1-6]|blockquote|table|tr)\b", re.IGNORECASE)
_BLOCK_TAGS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "tr", "ul", "ol")
_TAG_SPLIT = re.compile(r"[,;|]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadLine(ValueError):
    """One line or row that is not a usable article."""


def read_export(rel: str, data: bytes, max_bytes: int, fields: ExportSettings) -> tuple[list[Article], list[FileIssue]]:
    """The articles of one export file (its path ``rel`` relative to the corpus) and its bad lines.

    Raises ArticleFormatError when the file as a whole is unusable (not UTF-8 text, empty,
    no text field anywhere).
    """
    text, _ = decode_text(data)
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ArticleFormatError("empty file")
    records = _csv_records(text, max_bytes, fields) if rel.lower().endswith(".csv") else _jsonl_records(text)
    articles: list[Article] = []
    issues: list[FileIssue] = []
    id_lines: dict[str, int] = {}
    objects = 0
    for line, record in records:
        try:
            if isinstance(record, str):
                raise BadLine(record)
            objects += 1
            article = _article(rel, line, record, max_bytes, fields)
            if article.id in id_lines:
                raise BadLine(f"duplicate id {article.id.partition('#')[2]!r} (first on line {id_lines[article.id]})")
            id_lines[article.id] = line
            articles.append(article)
        except BadLine as exc:
            issues.append(FileIssue(f"{rel}:{line}", str(exc)))
    if not articles and objects and all(i.reason.startswith("no text") for i in issues):
        raise ArticleFormatError(
            f"not an article file: no line has a text field (one of {', '.join(fields.text)}; "
            "set [exports] text = [...] for other names)"
        )
    return articles, issues


def _jsonl_records(text: str) -> Iterator[Record]:
    """One JSON object per line; blank lines are passed over."""
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, f"invalid JSON ({exc.msg} at column {exc.colno})"
            continue
        if not isinstance(value, dict):
            yield n, f"a JSON {_kind(value)}, not an object"
            continue
        yield n, value


def _csv_records(text: str, max_bytes: int, fields: ExportSettings) -> Iterator[Record]:
    """Rows under a header line; the delimiter (comma, semicolon or tab) is the header's commonest.

    A row's line number is the line it starts on: a quoted field may span lines.
    """
    header_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header_line.count)
    # The default limit (128 KiB a field) is smaller than an article may be.
    csv.field_size_limit(max(csv.field_size_limit(), max_bytes))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        names = [name.strip() for name in next(reader)]
    except csv.Error as exc:
        raise ArticleFormatError(f"unreadable CSV header ({exc})") from None
    if not _pick({n.lower(): n for n in names}, fields.text):
        raise ArticleFormatError(
            f"not an article file: the CSV header ({', '.join(names[:8])}) has no text column "
            f"(one of {', '.join(fields.text)}; set [exports] text = [...] for other names)"
        )
    end = reader.line_num
    try:
        for row in reader:
            start, end = end + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                yield (
                    start,
                    f"{len(row)} fields where the header has {len(names)} (an unquoted {delimiter!r} in a field?)",
                )
                continue
            yield start, dict(zip(names, row, strict=True))
    except csv.Error as exc:
        yield end + 1, f"unreadable CSV ({exc}); the rest of the file is not read"


def _kind(value: Any) -> str:
    """The JSON name of a parsed value's type."""
    if isinstance(value, bool):
        return "boolean"
    names = {dict: "object", list: "array", str: "string", int: "number", float: "number"}
    return names.get(type(value), "null")


def _pick(record: dict[str, Any], names: list[str]) -> Any:
    """The value of the first of ``names`` present and not empty in ``record`` (keys lower-cased)."""
    for name in names:
        value = record.get(name.lower())
        if value not in (None, "", [], {}):
            return value
    return None


def _article(rel: str, line: int, raw: dict[str, Any], max_bytes: int, fields: ExportSettings) -> Article:
    record = {str(k).strip().lower(): v for k, v in raw.items()}
    body = _body(_pick(record, fields.text))
    if len(body.encode("utf-8")) > max_bytes:
        raise BadLine(f"the text is {len(body.encode('utf-8'))} bytes, over the {max_bytes}-byte limit")
    key = _pick(record, fields.id)
    if key is not None and (isinstance(key, bool) or not isinstance(key, str | int)):
        raise BadLine(f"the id is a JSON {_kind(key)}, not a string or number")
    key = " ".join(str(key).split()) if key is not None else ""
    title = _one_line(_pick(record, fields.title), "title") or body.split("\n", 1)[0].strip()
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    raw_date = _pick(record, fields.date)
    try:
        date = export_date(raw_date)
    except ValueError:
        raise BadLine(f"cannot read the date {raw_date!r}") from None
    article = Article(
        f"{rel}#{key or line}",
        title,
        date,
        body,
        "",
        url=_one_line(_pick(record, fields.url), "url"),
        author=_names(_pick(record, fields.author), "author"),
        outlet=_names(_pick(record, fields.outlet), "outlet"),
        section=_names(_pick(record, fields.section), "section"),
        tags=_tags(_pick(record, fields.tags)),
    )
    return with_stored_hash(article)


def _body(value: Any) -> str:
    """The article text: a string (HTML reduced to paragraphs) or a list of paragraphs."""
    if value is None:
        raise BadLine("no text (the text field is missing or empty)")
    if isinstance(value, list) and all(isinstance(p, str) for p in value):
        value = "\n\n".join(p.strip() for p in value if p.strip())
    if not isinstance(value, str):
        raise BadLine(f"the text is a JSON {_kind(value)}, not a string")
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if _HTML_BLOCK.search(text):
        text = html_to_text(text)
    text = text.strip()
    if not text:
        raise BadLine("no text (the text field is blank)")
    return text


def html_to_text(fragment: str) -> str:
    """An HTML fragment (a CMS body) as plain paragraphs separated by blank lines."""
    # lxml refuses control characters (they are not allowed in HTML either).
    fragment = _CONTROL.sub("", fragment)
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return ""  # nothing lxml can read as text: the caller reports no text
    for el in list(root.iter("script", "style")):
        el.drop_tree()
    for el in root.iter("br"):
        el.tail = "\n" + (el.tail or "")
    for el in root.iter(*_BLOCK_TAGS):
        el.text = "\n" + (el.text or "")
        el.tail = "\n" + (el.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    return "\n\n".join(line for line in lines if line)


def _one_line(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise BadLine(f"the {what} is a JSON {_kind(value)}, not a string")
    return " ".join(str(value).split()) or None


def _names(value: Any, what: str) -> str | None:
    """A name, or several joined by commas: strings, or objects with a ``name`` (JSON-LD style)."""
    items = value if isinstance(value, list) else [value]
    names = [_one_line(v.get("name") if isinstance(v, dict) else v, what) for v in items]
    return ", ".join(n for n in names if n) or None


def _tags(value: Any) -> tuple[str, ...]:
    """A list of tags, or one string split at commas, semicolons or bars; duplicates dropped."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else _TAG_SPLIT.split(str(value))
    tags = (_one_line(v.get("name") if isinstance(v, dict) else v, "tag") for v in items)
    return tuple(dict.fromkeys(t for t in tags if t))


def export_date(value: Any) -> str | None:
    """A date field as ``YYYY-MM-DD`` (None when empty); ValueError when it cannot be read.

    ISO 8601 and RFC 2822 (RSS ``pubDate``) are read exactly, Unix seconds or milliseconds as
    UTC, written dates by dateparser. A date keeps the day it was written with: the local date
    of ``2024-03-15T00:30:00+02:00`` is the 15th.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        return _epoch(float(value))
    text = " ".join(str(value).split())
    if not text:
        return None
    if _EPOCH.match(text):
        return _epoch(float(text))
    return _text_date(text)


@functools.lru_cache(maxsize=4096)  # the rows of an export share dates; dateparser takes milliseconds
def _text_date(text: str) -> str:
    try:
        return dt.datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    parsed = dateparser.parse(text, languages=_DATE_LANGUAGES, settings=_DATEPARSER_SETTINGS)
    if parsed is None:
        raise ValueError(text)
    return parsed.date().isoformat()


def _epoch(seconds: float) -> str:
    if seconds > 1e11:  # milliseconds (JavaScript timestamps)
        seconds /= 1000
    if seconds < 1e8:  # before 1973: a year or a count, not a timestamp
        raise ValueError(seconds)
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        raise ValueError(seconds) from None
