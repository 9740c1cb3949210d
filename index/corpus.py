"""Article files -> parsed articles.

Two header formats are accepted: ``date YYYY-MM-DD <title>`` (the seed format)
and a plain title line. The body is everything after the first line. Files
that cannot be read as UTF-8 text are skipped with a per-file reason; the
scan always goes on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from litopys.errors import CorpusError

ARTICLE_SUFFIXES = (".txt", ".md")
_DATE_LINE = re.compile(r"^date\s+(\S+)\s*(.*)$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Article:
    """One parsed article; ``id`` is its path relative to the corpus root (POSIX style)."""

    id: str
    title: str
    date: str | None
    body: str
    content_hash: str


@dataclass(frozen=True)
class FileIssue:
    """A file that was skipped, or indexed with a warning, and why."""

    path: str
    reason: str
    skipped: bool = True


class ArticleFormatError(ValueError):
    """The file's content is not a usable article."""


def parse_article(article_id: str, text: str) -> tuple[Article, list[str]]:
    """Parse decoded file text into an Article; returns it with non-fatal warnings."""
    warnings: list[str] = []
    text = text.lstrip("\ufeff")
    if "\x00" in text:
        raise ArticleFormatError("binary content (NUL bytes)")
    stripped = text.strip()
    if not stripped:
        raise ArticleFormatError("empty file")
    first_line, _, rest = stripped.partition("\n")
    first_line = first_line.strip()
    date: str | None = None
    title = first_line
    match = _DATE_LINE.match(first_line)
    if match:
        raw_date, title = match.group(1), match.group(2).strip()
        date = _valid_date(raw_date)
        if date is None:
            warnings.append(f"impossible date {raw_date!r} ignored")
        if not title:
            raise ArticleFormatError("date line has no title")
    body = rest.strip("\n").rstrip()
    # Keep leading spaces of the body's first line out: spans index this exact string.
    body = body.lstrip()
    if not body:
        raise ArticleFormatError("only a title line, no body")
    content_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Article(article_id, title, date, body, content_hash), warnings


def _valid_date(raw: str) -> str | None:
    if not _ISO_DATE.match(raw):
        return None
    try:
        return dt.date.fromisoformat(raw).isoformat()
    except ValueError:
        return None


def read_article(root: Path, path: Path, max_bytes: int) -> tuple[Article, list[str]]:
    """Read and parse one file under ``root``; raises ArticleFormatError or OSError."""
    size = path.stat().st_size
    if size > max_bytes:
        raise ArticleFormatError(f"file is {size} bytes, over the {max_bytes}-byte limit")
    data = path.read_bytes()
    if b"\x00" in data:
        raise ArticleFormatError("binary content (NUL bytes); expected UTF-8 text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArticleFormatError(
            f"not valid UTF-8 text (byte {exc.start}); re-save the file as UTF-8"
        ) from None
    article_id = path.relative_to(root).as_posix()
    return parse_article(article_id, text)


def iter_article_paths(root: Path) -> tuple[list[Path], list[FileIssue]]:
    """Article files below ``root`` (sorted), plus files passed over with a reason.

    Hidden files and folders are ignored silently; symlinked folders are not
    followed (loops), symlinked files are read if they resolve to a file.
    """
    paths: list[Path] = []
    issues: list[FileIssue] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if not name.lower().endswith(ARTICLE_SUFFIXES):
                issues.append(FileIssue(rel, f"not an article file (expected {', '.join(ARTICLE_SUFFIXES)})"))
                continue
            paths.append(path)
        for name in dirnames:
            if (Path(dirpath) / name).is_symlink():
                issues.append(FileIssue((Path(dirpath) / name).relative_to(root).as_posix(), "symlinked folder not followed"))
    return paths, issues


def load_corpus(root: Path, max_bytes: int) -> tuple[list[Article], list[FileIssue]]:
    """Parse every article file below ``root``; bad files become FileIssues, never exceptions."""
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"corpus folder not found: {root} (set --corpus or LITOPYS_CORPUS_DIR)")
    paths, issues = iter_article_paths(root)
    articles: list[Article] = []
    for path in paths:
        rel = path.relative_to(root).as_posix()
        try:
            if not path.is_file():
                raise ArticleFormatError("not a regular file (broken link or folder)")
            article, warnings = read_article(root, path, max_bytes)
        except ArticleFormatError as exc:
            issues.append(FileIssue(rel, str(exc)))
            continue
        except OSError as exc:
            issues.append(FileIssue(rel, f"cannot read: {exc.strerror or exc}"))
            continue
        issues.extend(FileIssue(rel, w, skipped=False) for w in warnings)
        articles.append(article)
    return articles, issues
