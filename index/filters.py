"""Which articles a search may return: a date range, articles and folders, sections and tags.

A ``RetrievalFilter`` is built from user input once and read by every index backend: the
local one as an SQL condition over the article row (``sql``), the Milvus one as a boolean
expression over the chunk row's copies of the same fields (``litopys.index.milvus``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from litopys.core.errors import FilterError
from litopys.index.corpus import iso_date
from litopys.index.store import SqlFilter


def parse_date(text: str | None, field: str) -> str | None:
    """``YYYY-MM-DD`` (or empty -> None); anything else is a FilterError for ``field``."""
    text = (text or "").strip()
    if not text:
        return None
    date = iso_date(text)
    if date is None:
        what = field.replace("_", " ")
        raise FilterError(f"{what}: {text!r} is not a date in the form YYYY-MM-DD (e.g. 2024-11-14)", field, text)
    return date


SECTION_PREFIX, TAG_PREFIX = "section:", "tag:"
_NAMED = (SECTION_PREFIX, TAG_PREFIX)


@dataclass(frozen=True)
class RetrievalFilter:
    """Search only articles dated within [date_from, date_to] and/or among ``articles``/``folders``.

    Article ids are paths relative to the corpus folder; a folder matches every id under
    it, and an export file every article of its lines (``FILE#...``). Articles and
    folders combine with OR, the date range with AND. ``sections`` and ``tags`` (from
    web pages and exports) combine with OR among themselves, with AND with the rest.
    An article without a date never matches a date range (its date is unknown).
    """

    date_from: str | None = None
    date_to: str | None = None
    articles: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @classmethod
    def build(
        cls, date_from: str | None = None, date_to: str | None = None, paths: Iterable[str] = ()
    ) -> RetrievalFilter:
        """Validate user input; ``paths`` ending in ``/`` are folders, ``section:NAME`` and
        ``tag:NAME`` a section or tag, the others article ids (or export files)."""
        start, end = parse_date(date_from, "date_from"), parse_date(date_to, "date_to")
        if start and end and start > end:
            raise FilterError(f"the date range is empty: {start} is after {end}", "range", f"{start} > {end}")
        cleaned = [p.strip().lstrip("/") for p in paths if p and p.strip().strip("/")]
        named = {prefix: {p[len(prefix) :].strip() for p in cleaned if p.startswith(prefix)} for prefix in _NAMED}
        cleaned = [p for p in cleaned if not p.startswith(_NAMED)]
        folders = tuple(sorted({p.rstrip("/") + "/" for p in cleaned if p.endswith("/")}))
        articles = tuple(sorted({p for p in cleaned if not p.endswith("/")}))
        sections, tags = (tuple(sorted(named[prefix] - {""})) for prefix in _NAMED)
        return cls(start, end, articles, folders, sections, tags)

    @property
    def active(self) -> bool:
        return bool(self.date_from or self.date_to or self.articles or self.folders or self.sections or self.tags)

    def sql(self) -> SqlFilter:
        """The condition over the article row ``a`` that this filter means."""
        conds: list[str] = []
        params: list[object] = []
        if self.date_from:
            conds.append("a.date >= ?")
            params.append(self.date_from)
        if self.date_to:
            conds.append("a.date <= ?")
            params.append(self.date_to)
        which = ["a.id = ?" for _ in self.articles] + ["substr(a.id, 1, ?) = ?" for _ in self.articles + self.folders]
        if which:
            conds.append("(" + " OR ".join(which) + ")")
            params += list(self.articles)
            # An article path that is an export file matches its lines' articles (FILE#...).
            for prefix in [f"{a}#" for a in self.articles] + list(self.folders):
                params += [len(prefix), prefix]
        named = []
        if self.sections:
            named.append(f"a.section IN ({','.join('?' * len(self.sections))})")
            params += list(self.sections)
        if self.tags:
            named.append(
                f"EXISTS (SELECT 1 FROM json_each(a.tags) t WHERE t.value IN ({','.join('?' * len(self.tags))}))"
            )
            params += list(self.tags)
        if named:
            conds.append("(" + " OR ".join(named) + ")")
        return (" AND ".join(conds) or "1", params)
