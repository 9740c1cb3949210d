"""Uploaded files -> article files in the corpus folder.

Each upload is checked the way the indexer will read it (suffix, size,
encoding, article format) before it lands in the corpus; names are reduced
to one safe file name so nothing can be written outside the corpus folder,
and an existing article is never overwritten by a different one.
"""

from __future__ import annotations

import os
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from litopys.core.config import ExportSettings
from litopys.core.integrity import fsync_dir
from litopys.index.corpus import (
    ARTICLE_SUFFIXES,
    ArticleFormatError,
    FileIssue,
    read_article_file,
    read_regular,
)

UPLOAD_FOLDER = "uploads"
STAGING_FOLDER = ".incoming"  # hidden: the corpus scan never sees half-written files
MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w.\- ()]+", re.UNICODE)


@dataclass
class UploadResult:
    """What happened to one batch of uploads."""

    saved: list[str] = field(default_factory=list)  # article ids (paths relative to the corpus)
    unchanged: list[str] = field(default_factory=list)  # identical file already in the corpus
    rejected: list[FileIssue] = field(default_factory=list)


def safe_name(name: str) -> str:
    """One safe file name from an uploaded name: no folders, no dot-files, no odd characters.

    Raises ValueError when nothing usable is left.
    """
    base = unicodedata.normalize("NFC", name.replace("\\", "/").split("/")[-1])
    base = _UNSAFE.sub("_", base).strip(" ._")
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem.strip(" ._"):
        raise ValueError(f"unusable file name {name!r}")
    stem = stem[: MAX_NAME_CHARS - len(suffix) - 1]
    return f"{stem}.{suffix.lower()}"


def accept_uploads(
    corpus_dir: Path,
    files: list[Path],
    max_bytes: int,
    max_files: int | None = None,
    exports: ExportSettings | None = None,
) -> UploadResult:
    """Validate uploaded files and save the good ones under ``corpus_dir/uploads``.

    ``files`` are local paths (as Gradio hands them over) whose base names are
    the names the user chose. A rejected file never touches the corpus; more
    than ``max_files`` files are all rejected (nothing is saved from such a batch).
    An export (``exports`` maps its fields) is saved when at least one of its lines
    is an article; the indexer reports the bad lines.
    """
    corpus_dir = Path(corpus_dir)
    target_dir = corpus_dir / UPLOAD_FOLDER
    staging = corpus_dir / STAGING_FOLDER
    result = UploadResult()
    if max_files is not None and len(files) > max_files:
        reason = f"{len(files)} files in one upload, over the limit of {max_files}; upload them in smaller batches"
        result.rejected = [FileIssue(Path(f).name, reason) for f in files]
        return result
    for src in files:
        src = Path(src)
        shown = src.name
        try:
            name = safe_name(shown)
            if not name.endswith(ARTICLE_SUFFIXES):
                raise ArticleFormatError(f"not an article file (expected {', '.join(ARTICLE_SUFFIXES)})")
            for folder in (target_dir, staging):
                _ensure_own_folder(corpus_dir, folder)
            staged = staging / f"{uuid.uuid4().hex}-{name}"
            try:
                _copy_limited(src, staged, max_bytes)
                # Parsed exactly as the indexer will parse it.
                articles, issues = read_article_file(staging, staged, max_bytes, exports)
                if not articles:
                    first = next((i for i in issues if i.skipped), None)
                    why = f" (first bad line {first.path.rpartition(':')[2]}: {first.reason})" if first else ""
                    raise ArticleFormatError(f"no usable article in it{why}")
                _publish(staged, target_dir / name, result, corpus_dir)
            finally:
                staged.unlink(missing_ok=True)
        except (ArticleFormatError, ValueError) as exc:
            result.rejected.append(FileIssue(shown, str(exc)))
        except OSError as exc:
            result.rejected.append(FileIssue(shown, f"cannot save: {exc.strerror or exc}"))
    return result


def _ensure_own_folder(corpus_dir: Path, folder: Path) -> None:
    """Create ``folder`` inside the corpus; refuse one that is a link (it could lead anywhere)."""
    folder.mkdir(parents=True, exist_ok=True)
    if folder.is_symlink() or folder.resolve().parent != corpus_dir.resolve():
        raise ArticleFormatError(f"{folder.name}/ in the corpus folder is a link; uploads are not saved through links")


def _copy_limited(src: Path, dst: Path, max_bytes: int) -> None:
    """Copy a regular file of at most ``max_bytes``; a link as the source is refused, never followed."""
    data = read_regular(src, max_bytes, follow_links=False)
    with open(dst, "xb") as out:  # "x": never write through a name that appeared meanwhile
        out.write(data)


def _publish(staged: Path, target: Path, result: UploadResult, corpus_dir: Path) -> None:
    """Move a checked file into place; an existing different article is never replaced."""
    rel = target.relative_to(corpus_dir).as_posix()
    if target.exists():
        if target.read_bytes() == staged.read_bytes():
            result.unchanged.append(rel)
            return
        raise ArticleFormatError(
            f"{rel} already exists with different content; rename the file or delete the old one first"
        )
    with open(staged, "rb") as fh:
        os.fsync(fh.fileno())
    # link() fails if the name appeared meanwhile, so a concurrent upload cannot be overwritten.
    try:
        os.link(staged, target)
    except FileExistsError:
        raise ArticleFormatError(f"{rel} was just created by another upload; try again") from None
    # The new name must survive a crash too, not only the file's bytes.
    fsync_dir(target.parent)
    result.saved.append(rel)
