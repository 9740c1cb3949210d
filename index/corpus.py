"""Article files -> parsed articles.

A ``.txt``/``.md`` file is one article with one of two header formats:
``date YYYY-MM-DD <title>`` (the seed format) or a plain title line; the body is
everything after the first line. A saved web page (``.html``/``.htm``) is one
article too (``index.webpage``), and a CMS export (``.jsonl``/``.csv``) holds one
article per line or row (``index.exports``). Files are read as UTF-8; a UTF-16
or UTF-32 file is read too when it starts with a byte-order mark (with a
warning). Anything that is not a usable article is skipped with a per-file (or
per-line) reason and the scan always goes on: it never follows a link out of
the corpus folder and never opens a pipe or a device.
"""

from __future__ import annotations

import codecs
import datetime as dt
import errno
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, replace
from pathlib import Path

from litopys.core.config import ExportSettings
from litopys.core.errors import CorpusError

TEXT_SUFFIXES = (".txt", ".md")
HTML_SUFFIXES = (".html", ".htm")
EXPORT_SUFFIXES = (".jsonl", ".csv")
ARTICLE_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + EXPORT_SUFFIXES
MAX_TITLE_CHARS = 300
_DATE_LINE = re.compile(r"^date\s+(\S+)\s*(.*)$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# UTF-32 first: its little-endian mark starts with the UTF-16 one.
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BINARY_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive, e.g. .docx or .odt"),
    (b"\xd0\xcf\x11\xe0", "an old Word/Office document"),
    (b"\x1f\x8b", "gzip-compressed data"),
)


@dataclass(frozen=True)
class Article:
    """One parsed article; ``id`` is its path relative to the corpus root (POSIX style).

    An article from an export file has the id ``<path>#<id field or line number>``. The
    metadata (original ``url``, ``author``, ``outlet``, ``section``, ``tags``) comes from
    web pages and exports; a ``.txt``/``.md`` file has none.
    """

    id: str
    title: str
    date: str | None
    body: str
    content_hash: str
    url: str | None = None
    author: str | None = None
    outlet: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()


def with_stored_hash(article: Article) -> Article:
    """``article`` with its content hash taken over everything it stores (pages and exports).

    Hashing what is stored, not the file's bytes, means that a page saved again with other
    ads, or an export written again with its keys in another order, is not embedded again,
    while a corrected author or date is stored anew.
    """
    a = article
    fields = [a.title, a.date, a.body, a.url, a.author, a.outlet, a.section, list(a.tags)]
    digest = hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode("utf-8")).hexdigest()
    return replace(article, content_hash=digest)


@dataclass(frozen=True)
class FileIssue:
    """A file that was skipped, or indexed with a warning, and why."""

    path: str
    reason: str
    skipped: bool = True


class ArticleFormatError(ValueError):
    """The file's content is not a usable article."""


class NotUtf8Error(ArticleFormatError):
    """Text in an 8-bit encoding: an HTML page may still say which one (``<meta charset>``)."""


def parse_article(article_id: str, text: str) -> tuple[Article, list[str]]:
    """Parse decoded file text into an Article; returns it with non-fatal warnings."""
    warnings: list[str] = []
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
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
        date = iso_date(raw_date)
        if date is None:
            warnings.append(f"impossible date {raw_date!r} ignored")
        if not title:
            raise ArticleFormatError("date line has no title")
    body = rest.strip("\n").rstrip()
    # Keep leading spaces of the body's first line out: spans index this exact string.
    body = body.lstrip()
    if not body:
        raise ArticleFormatError("only a title line, no body")
    if len(title) > MAX_TITLE_CHARS:
        # Such a "title" is usually a paragraph without a line break: keep its text searchable.
        warnings.append(
            f"title line is {len(title)} characters: title cut to {MAX_TITLE_CHARS}, "
            "the whole line kept as the first paragraph of the body"
        )
        body = f"{title}\n\n{body}"
        title = title[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    content_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Article(article_id, title, date, body, content_hash), warnings


def iso_date(raw: str) -> str | None:
    """``raw`` as a ``YYYY-MM-DD`` date, or None when it is not one (or is impossible, like 2024-02-30)."""
    if not _ISO_DATE.match(raw):
        return None
    try:
        return dt.date.fromisoformat(raw).isoformat()
    except ValueError:
        return None


def decode_text(data: bytes) -> tuple[str, list[str]]:
    """File bytes -> text and warnings: UTF-8, or UTF-16/32 when a byte-order mark says so.

    Raises ArticleFormatError for binary data and other encodings, with how to fix it.
    """
    for bom, codec in _WIDE_BOMS:
        if data.startswith(bom):
            name = codec.upper()
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                raise ArticleFormatError(
                    f"starts with a {name} byte-order mark but is not valid {name}; re-save the file as UTF-8"
                ) from None
            return text, [f"read as {name} (byte-order mark); re-save the file as UTF-8 to silence this warning"]
    for magic, kind in _BINARY_MAGIC:
        if data.startswith(magic):
            raise ArticleFormatError(f"binary content ({kind}), not UTF-8 text")
    if b"\x00" in data:
        raise ArticleFormatError("binary content (NUL bytes); expected UTF-8 text (UTF-16 needs a byte-order mark)")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        raise NotUtf8Error(_not_utf8_reason(data, exc.start)) from None


def _not_utf8_reason(data: bytes, start: int) -> str:
    """Name the likely 8-bit encoding and say how to convert the file."""
    sample = data[:65536]
    high = sum(1 for b in sample if b >= 0x80)
    ascii_letters = sum(1 for b in sample if b < 0x80 and chr(b).isalpha())
    # Cyrillic in an 8-bit code page is mostly high bytes; Latin-1 text is mostly ASCII.
    if high > ascii_letters:
        guess, codec = "a Cyrillic 8-bit encoding such as Windows-1251", "cp1251"
    else:
        guess, codec = "Latin-1 or another 8-bit encoding", "latin1"
    return (
        f"not valid UTF-8 text (byte {start}); it looks like {guess}. Re-save the file as UTF-8 "
        f'(e.g. `iconv -f {codec} -t utf-8 OLD > NEW`, or "Save as… UTF-8" in an editor)'
    )


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _check_file(root: Path, path: Path) -> None:
    """Refuse broken or looping links, links out of ``root`` and anything but regular files.

    Only ``stat`` is used here: nothing is opened, so a pipe or a device cannot block.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ArticleFormatError("not a regular file: symlink loop") from None
        if exc.errno == errno.ENOENT and path.is_symlink():
            raise ArticleFormatError(f"not a regular file: broken symlink to {os.readlink(path)}") from None
        raise
    if path.is_symlink():
        # The corpus is what the user put in the folder: a link out of it could pull any file
        # on the machine (private notes, other users' files) into the index and so into the
        # chat's quoted passages, and the index would change when unrelated files change.
        root_real, target = os.path.realpath(root), os.path.realpath(path)
        if os.path.commonpath([root_real, target]) != root_real:
            raise ArticleFormatError(
                f"symlink points outside the corpus folder (to {target}); copy the file in instead"
            )
    if not stat.S_ISREG(st.st_mode):
        raise ArticleFormatError(f"not a regular file: {_file_kind(st.st_mode)}")


def read_regular(path: Path, max_bytes: int, *, follow_links: bool = True) -> bytes:
    """The bytes of a regular file within the size limit.

    Opened non-blocking and checked again with fstat, so a pipe swapped in after
    the scan cannot block either; never reads more than ``max_bytes`` + 1 bytes.
    With ``follow_links=False`` a symlink is refused instead of read through.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_links else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_links:
            raise ArticleFormatError("a symlink, not a file; links are not followed here") from None
        raise
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ArticleFormatError(f"not a regular file: {_file_kind(st.st_mode)}")
        if st.st_size > max_bytes:
            raise ArticleFormatError(f"file is {st.st_size} bytes, over the {max_bytes}-byte limit")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ArticleFormatError(f"file is over the {max_bytes}-byte limit")
    return data


def parse_article_file(root: Path, path: Path, max_bytes: int) -> tuple[Article, list[str]]:
    """Read and parse one single-article file (text or web page) under ``root``.

    Raises ArticleFormatError or OSError.
    """
    _check_file(root, path)
    data = read_regular(path, max_bytes)
    article_id = path.relative_to(root).as_posix()
    if path.name.lower().endswith(HTML_SUFFIXES):
        # Imported on first use: trafilatura takes about a second to import, and most
        # corpora have no web pages.
        from litopys.index.webpage import parse_page

        return parse_page(article_id, data)
    text, warnings = decode_text(data)
    article, parse_warnings = parse_article(article_id, text)
    return article, warnings + parse_warnings


def read_article_file(
    root: Path, path: Path, max_bytes: int, exports: ExportSettings | None = None
) -> tuple[list[Article], list[FileIssue]]:
    """The articles of one file under ``root`` and its issues (per line for an export).

    Raises ArticleFormatError or OSError when the file as a whole is unusable.
    """
    rel = path.relative_to(root).as_posix()
    if path.name.lower().endswith(EXPORT_SUFFIXES):
        from litopys.index.exports import read_export  # first use only, as for web pages

        exports = exports or ExportSettings()
        _check_file(root, path)
        return read_export(rel, read_regular(path, exports.max_file_bytes), max_bytes, exports)
    article, warnings = parse_article_file(root, path, max_bytes)
    return [article], [FileIssue(rel, w, skipped=False) for w in warnings]


def is_ignored_name(name: str) -> bool:
    """Hidden files and editor leftovers (``.x``, ``x~``, ``~$x``, ``#x#``), passed over silently."""
    return name.startswith((".", "~$")) or name.endswith("~") or (name.startswith("#") and name.endswith("#"))


def iter_article_paths(root: Path) -> tuple[list[Path], list[FileIssue]]:
    """Article files below ``root`` (sorted by relative path), plus files passed over with a reason.

    Hidden files and folders and editor leftovers are ignored silently;
    symlinked folders are not followed (loops); a folder named like an article
    file is walked like any folder.
    """
    paths: list[Path] = []
    issues: list[FileIssue] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if is_ignored_name(name):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if not name.lower().endswith(ARTICLE_SUFFIXES):
                issues.append(FileIssue(rel, f"not an article file (expected {', '.join(ARTICLE_SUFFIXES)})"))
                continue
            paths.append(path)
        for name in dirnames:
            if (Path(dirpath) / name).is_symlink():
                issues.append(
                    FileIssue((Path(dirpath) / name).relative_to(root).as_posix(), "symlinked folder not followed")
                )
    paths.sort(key=lambda p: p.relative_to(root).as_posix())
    return paths, issues


def load_corpus(
    root: Path, max_bytes: int, exports: ExportSettings | None = None
) -> tuple[list[Article], list[FileIssue]]:
    """Parse every article file below ``root``; bad files and lines become FileIssues, never exceptions.

    Of articles with the same content only the first (in path order) is indexed. ``exports``
    maps the fields of JSONL and CSV files (defaults when None).
    """
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"corpus folder not found: {root} (set --corpus or LITOPYS_CORPUS_DIR)")
    paths, issues = iter_article_paths(root)
    articles: list[Article] = []
    first_with_hash: dict[str, str] = {}
    for path in paths:
        rel = path.relative_to(root).as_posix()
        try:
            found, file_issues = read_article_file(root, path, max_bytes, exports)
        except ArticleFormatError as exc:
            issues.append(FileIssue(rel, str(exc)))
            continue
        except OSError as exc:
            issues.append(FileIssue(rel, f"cannot read: {exc.strerror or exc}"))
            continue
        duplicates = []
        for article in found:
            first = first_with_hash.setdefault(article.content_hash, article.id)
            if first != article.id:
                duplicates.append(FileIssue(article.id, f"same content as {first}"))
            else:
                articles.append(article)
        # A duplicate single-article file is skipped whole: its warnings would only be noise.
        if not (duplicates and len(found) == 1):
            issues.extend(file_issues)
        issues.extend(duplicates)
    issues.sort(key=_issue_order)
    return articles, issues


def _issue_order(issue: FileIssue) -> tuple[str, int]:
    """By path, and the lines of one export file by number (``a.csv:9`` before ``a.csv:10``)."""
    path, _, line = issue.path.rpartition(":")
    return (path, int(line)) if path and line.isdigit() else (issue.path, 0)
