"""Question -> the date range it asks about ("14 листопада", "минулого тижня", "in November 2024").

Data flow: the question and a reference date (today, or the newest article's date) ->
the patterns below find date expressions and claim their words (longest, most specific
first) -> each becomes a [start, end] range of days: single days through dateparser
(month names in any language it knows, "3 дні тому", "yesterday"), months, weeks, years
and spans by calendar arithmetic -> one ``DateRange`` spanning them all, which
``Retriever.question_dates`` turns into a retrieval filter.

dateparser alone guesses: "листопад 2024" becomes one day, "2 людини" might become a
date, "2024 року" becomes today's day in 2024. So it only ever sees a span that a
pattern here has already read as a day, and its answer must agree with that day. A bare
number is never a date, nor a year said as a topic ("2024 рік"), nor "14.11" without a
year (too often an amount).
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import dateparser

# Every case form a month name takes in a question about dates; pymorphy3 misreads some
# ("у березні"), so they are listed, one month a line.
_UK_MONTHS = """
    січень січня січні січнем
    лютий лютого лютому лютім лютим
    березень березня березні березнем
    квітень квітня квітні квітнем
    травень травня травні травнем
    червень червня червні червнем
    липень липня липні липнем
    серпень серпня серпні серпнем
    вересень вересня вересні вереснем
    жовтень жовтня жовтні жовтнем
    листопад листопада листопаді листопадом
    грудень грудня грудні груднем
"""
_EN_MONTHS = """
    january jan
    february feb
    march mar
    april apr
    may
    june jun
    july jul
    august aug
    september sep sept
    october oct
    november nov
    december dec
"""
_UK_GENITIVE = {line.split()[1]: n for n, line in enumerate(_UK_MONTHS.split("\n")[1:-1], 1)}
_UK_LOCATIVE = {line.split()[2]: n for n, line in enumerate(_UK_MONTHS.split("\n")[1:-1], 1)} | {"лютім": 2}
_MONTH_OF = {form: n for text in (_UK_MONTHS, _EN_MONTHS) for n, line in enumerate(text.split("\n")[1:-1], 1)
             for form in line.split()}  # fmt: skip


def _alternatives(forms: Iterable[str]) -> str:
    return "(?:" + "|".join(sorted(forms, key=len, reverse=True)) + ")"


_MONTH = _alternatives(_MONTH_OF)  # any form, both languages
_DAY_MONTH = _alternatives(list(_UK_GENITIVE) + _EN_MONTHS.split())  # after a day: "14 листопада", "14 Nov"
_IN_MONTH = _alternatives(_UK_LOCATIVE)
_YEAR = r"(?:19|20)\d\d(?!\d)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])"
_ORD = r"(?:-?(?:го|е|ого)|st|nd|rd|th)?"  # "14-го", "14th"
_YEAR_TAIL = rf"(?:,?\s+(?P<year>{_YEAR})(?:\s*(?:року|р\.|р\b))?)?"
_B, _E = r"(?<![\w.,-])", r"(?![\w-]|[.,]\d)"  # a whole token: not part of a number or a word

_COUNTS = {
    **dict.fromkeys(("один", "одна", "одну", "одного", "одної", "one"), 1),
    **dict.fromkeys(("два", "дві", "двох", "two"), 2),
    **dict.fromkeys(("три", "трьох", "three"), 3),
    **dict.fromkeys(("чотири", "чотирьох", "four"), 4),
    **dict.fromkeys(("п'ять", "п'яти", "five"), 5),
    **dict.fromkeys(("шість", "шести", "six"), 6),
    **dict.fromkeys(("сім", "семи", "seven"), 7),
    **dict.fromkeys(("вісім", "восьми", "eight"), 8),
    **dict.fromkeys(("дев'ять", "дев'яти", "nine"), 9),
    **dict.fromkeys(("десять", "десяти", "ten"), 10),
}
_UNITS = {
    **dict.fromkeys(("день", "дні", "днів", "дня", "добу", "доби", "діб", "day", "days"), "day"),
    **dict.fromkeys(("тиждень", "тижні", "тижнів", "тижня", "week", "weeks"), "week"),
    **dict.fromkeys(("місяць", "місяці", "місяців", "місяця", "month", "months"), "month"),
    **dict.fromkeys(("рік", "роки", "років", "року", "році", "year", "years"), "year"),
}
# Parts of a month: "на початку листопада" is its first ten days, "наприкінці" its last.
_PARTS = {
    **dict.fromkeys(("на початку", "напочатку", "early"), (1, 10)),
    **dict.fromkeys(("в середині", "у середині", "посередині", "mid", "mid-"), (11, 20)),
    **dict.fromkeys(("наприкінці", "в кінці", "у кінці", "під кінець", "late"), (21, 31)),
}
_PART = rf"(?P<part>{_alternatives(_PARTS)})"


@dataclass(frozen=True)
class DateRange:
    """Days ``start``..``end`` (both inclusive) that a question asks about, and the words that say so.

    ``year_given`` is False when the year was filled in from the reference date ("14
    листопада"); ``event_time`` when the words often date an event rather than its news (whole
    years: "чемпіонат 2018 року"; "сьогодні" as "nowadays"); ``relative`` when it counts from
    the reference date.
    """

    start: date
    end: date
    text: str
    year_given: bool = True
    event_time: bool = False
    relative: bool = False

    @property
    def iso(self) -> tuple[str, str]:
        return self.start.isoformat(), self.end.isoformat()

    @property
    def span(self) -> str:
        """``YYYY-MM-DD``, or ``YYYY-MM-DD – YYYY-MM-DD`` for more than a day."""
        start, end = self.iso
        return start if start == end else f"{start} – {end}"

    def holds(self, iso_date: str | None) -> bool:
        """Whether a stored ``YYYY-MM-DD`` date is in the range (any year, when none was given)."""
        if not iso_date:
            return False
        start, end = self.iso
        if self.year_given or self.start.year != self.end.year:
            return start <= iso_date[:10] <= end
        return start[4:] <= iso_date[4:10] <= end[4:]

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "text": self.text}

    def years_back(self, years: int) -> DateRange | None:
        """The same days ``years`` earlier (None when a day does not exist then: 29 лютого; a month keeps its end)."""
        start = _safe(lambda: self.start.replace(year=self.start.year - years))
        end = _safe(lambda: self.end.replace(year=self.end.year - years))
        if self.end == _month_end(self.end.year, self.end.month):  # "у лютому" ends on that year's last day
            end = _month_end(self.end.year - years, self.end.month)
        if start is None or end is None:
            return None
        return replace(self, start=start, end=end)


@dataclass(frozen=True)
class _Found:
    """One date expression of a question: its span and range (None: words that are no time)."""

    span: tuple[int, int]
    range: DateRange | None


_Reader = Callable[[re.Match[str], date], "DateRange | None"]


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _past_year(month: int, day: int, ref: date) -> int:
    """The year of a day named without one: its latest occurrence up to the reference date."""
    return ref.year if (month, day) <= (ref.month, ref.day) else ref.year - 1


def _safe(make: Callable[[], date]) -> date | None:
    try:
        return make()
    except ValueError:  # 31 лютого, 30 February
        return None


@functools.lru_cache(maxsize=1024)
def _dateparser_day(text: str, ref: date) -> date | None:
    """One day written in words, by dateparser (the pattern already read it as a day)."""
    settings = {
        "RELATIVE_BASE": datetime(ref.year, ref.month, ref.day),
        "PREFER_DATES_FROM": "past",
        "DATE_ORDER": "DMY",
    }
    parsed = dateparser.parse(text, languages=["uk", "en"], settings=settings)
    return parsed.date() if parsed else None


def _day_month(m: re.Match[str], ref: date) -> DateRange | None:
    """Days of a month: "14 листопада [2024 року]", "з 10 по 14 листопада", "November 14th, 2024"."""
    word, last, year_text = m.group("month"), int(m.group("day")), m.group("year")
    month = _MONTH_OF[word.lower()]
    first = int(m.group("first") or last)
    year = int(year_text) if year_text else _past_year(month, last, ref)
    day = _dateparser_day(f"{last} {word} {year}", ref)
    if day is None or (day.month, day.day) != (month, last) or first > last:  # dateparser must agree
        return None
    return DateRange(date(year, month, first), day, m.group(0), year_given=bool(year_text))


def _two_months(m: re.Match[str], ref: date) -> DateRange | None:
    """Days across two months: "з 28 жовтня по 3 листопада [2024 року]"."""
    m1, m2 = _MONTH_OF[m.group("from_month").lower()], _MONTH_OF[m.group("month").lower()]
    d1, d2, year_text = int(m.group("from_day")), int(m.group("day")), m.group("year")
    year2 = int(year_text) if year_text else _past_year(m2, d2, ref)
    year1 = year2 if (m1, d1) <= (m2, d2) else year2 - 1
    start, end = _safe(lambda: date(year1, m1, d1)), _safe(lambda: date(year2, m2, d2))
    if start is None or end is None:
        return None
    return DateRange(start, end, m.group(0), year_given=bool(year_text))


def _numeric(m: re.Match[str], ref: date) -> DateRange | None:
    """A day in figures: "14.11.2024", "14/11/2024", "2024-11-14"."""
    year, month, day = (int(_g(m, name) or 0) for name in ("year", "month", "day"))
    found = _safe(lambda: date(year, month, day))
    return DateRange(found, found, m.group(0)) if found else None


def _month_year(m: re.Match[str], ref: date) -> DateRange | None:
    """A month or part of one: "у листопаді [2024 року]", "in November 2024", "наприкінці листопада"."""
    word, year_text = _g(m, "month") or "", _g(m, "year")
    month = _MONTH_OF[word.lower()]
    if not year_text and word.lower() == "may" and not word[0].isupper():
        return None  # "in may" is a verb more often than the month
    year = int(year_text) if year_text else (ref.year if month <= ref.month else ref.year - 1)
    first, last = _PARTS[m.group("part").lower()] if "part" in m.groupdict() else (1, 31)
    end = _month_end(year, month)
    return DateRange(date(year, month, first), end.replace(day=min(last, end.day)), m.group(0), bool(year_text))


def _year(m: re.Match[str], ref: date) -> DateRange:
    """Whole years: "2024 року", "у 2024 році", "in 2024", "з 2014 по 2018 рік"."""
    last = int(_g(m, "year") or 0)
    first = int(m.group("first_year") or last)
    return DateRange(date(min(first, last), 1, 1), date(max(first, last), 12, 31), m.group(0), event_time=True)


def _one_day(m: re.Match[str], ref: date) -> DateRange | None:
    """A day counted back: "вчора", "позавчора", "сьогодні", "3 дні тому", "yesterday", "two days ago"."""
    said = m.group(0).lower()
    day = _dateparser_day(said, ref)
    if day is None or day > ref:
        return None
    return DateRange(day, day, m.group(0), event_time=said in ("сьогодні", "today"), relative=True)


def _calendar(unit: str, back: int, ref: date) -> tuple[date, date]:
    """The calendar week/month/year ``back`` units before the reference one (0: the current one, to date)."""
    if unit == "week":
        monday = ref - timedelta(days=ref.weekday() + 7 * back)
        return monday, min(ref, monday + timedelta(days=6))
    if unit == "month":
        year, month = divmod(ref.year * 12 + ref.month - 1 - back, 12)
        return date(year, month + 1, 1), min(ref, _month_end(year, month + 1))
    return date(ref.year - back, 1, 1), min(ref, date(ref.year - back, 12, 31))


def _this_or_last(m: re.Match[str], ref: date) -> DateRange:
    """A calendar week, month or year: "цього тижня", "минулого місяця", "торік", "last week"."""
    said = m.group(0).lower()
    unit = "year" if said == "торік" else _UNITS[(_g(m, "unit") or "").lower()]
    back = 0 if re.search(r"ц(?:ього|ьому|ей)|поточн|this", said) else 1
    start, end = _calendar(unit, back, ref)
    return DateRange(start, end, m.group(0), event_time=unit == "year", relative=True)


def _last_n(m: re.Match[str], ref: date) -> DateRange | None:
    """Days up to the reference date: "за останні три дні", "за останню добу", "in the past 10 days"."""
    said = (m.group("count") or "1").lower().replace("’", "'").replace("ʼ", "'")
    count = int(said) if said.isdigit() else _COUNTS[said]
    unit = _UNITS[(_g(m, "unit") or "").lower()]
    if not 1 <= count <= 366:
        return None
    days = {"day": 1, "week": 7, "month": 30, "year": 365}[unit] * count
    return DateRange(ref - timedelta(days=days - 1), ref, m.group(0), relative=True)


def _g(m: re.Match[str], name: str) -> str | None:
    """Group ``name`` of the alternative that matched: alternatives name theirs ``name``, ``name2``, …"""
    found = m.groupdict()
    return next((v for k, v in found.items() if v and re.fullmatch(rf"{name}\d?", k)), None)


def _count(name: str) -> str:
    """A count in digits or words ("3", "три", "three"), as group ``name``."""
    words = _alternatives(_COUNTS).replace("'", "['’ʼ]")
    return rf"(?P<{name}>\d{{1,3}}|{words})"


_TO = r"(?:по|до|[-–—]|to|and|until)"
_FROM = r"(?:(?:з|із|від|from|between)\s+)"
_EN_MONTH = _alternatives(_EN_MONTHS.split())
_EN_FULL = _alternatives(line.split()[0] for line in _EN_MONTHS.split("\n")[1:-1])
_YEAR_WORD = r"(?:\s*(?:року|р\.|р\b))?"
# Most specific first: a later pattern never reads words an earlier one took.
_PATTERNS: list[tuple[str, _Reader]] = [
    (  # "з 28 жовтня по 3 листопада 2024 року"
        rf"{_B}{_FROM}?(?P<from_day>{_DAY}){_ORD}\s+(?P<from_month>{_DAY_MONTH})\s*{_TO}\s*"
        rf"(?P<day>{_DAY}){_ORD}\s+(?P<month>{_DAY_MONTH}){_E}{_YEAR_TAIL}",
        _two_months,
    ),
    (  # "14 листопада 2024 року", "з 10 по 14 листопада", "10-14 листопада", "14th of November"
        rf"{_B}(?:{_FROM}?(?P<first>{_DAY}){_ORD}\s*{_TO}\s*)?(?P<day>{_DAY}){_ORD}\s+(?:of\s+)?"
        rf"(?P<month>{_DAY_MONTH}){_E}{_YEAR_TAIL}",
        _day_month,
    ),
    (  # "November 14th, 2024", "November 10-14"
        rf"{_B}(?P<month>{_EN_MONTH})\s+(?:(?P<first>{_DAY}){_ORD}\s*(?:[-–—]|to|until)\s*)?(?P<day>{_DAY})"
        rf"{_ORD}{_E}{_YEAR_TAIL}",
        _day_month,
    ),
    (  # "14.11.2024", "14/11/2024", "2024-11-14"
        rf"{_B}(?:(?P<day>{_DAY})[./](?P<month>0?[1-9]|1[0-2])[./](?P<year>{_YEAR})"
        rf"|(?P<year2>{_YEAR})-(?P<month2>0[1-9]|1[0-2])-(?P<day2>{_DAY})){_E}",
        _numeric,
    ),
    (  # "наприкінці листопада", "early November 2024"
        rf"{_B}{_PART}\s*(?P<month>{_DAY_MONTH}){_E}{_YEAR_TAIL}",
        _month_year,
    ),
    (  # "листопада 2024 року", "у листопаді", "in November 2024"
        rf"{_B}(?:(?P<month>{_MONTH})\s+(?P<year>{_YEAR}){_YEAR_WORD}"
        rf"|(?:у|в|протягом|впродовж|упродовж)\s+(?P<month2>{_IN_MONTH})(?:\s+(?P<year2>{_YEAR}){_YEAR_WORD})?"
        rf"|(?:in|during)\s+(?P<month3>{_EN_FULL})(?:\s+(?P<year3>{_YEAR}))?){_E}",
        _month_year,
    ),
    (  # "2024 року", "у 2024 році", "in 2024", "з 2014 по 2018 рік"; not "2024 рік" (a topic)
        rf"{_B}(?:{_FROM}(?P<first_year>{_YEAR})\s+{_TO}\s+(?P<year>{_YEAR})\s*(?:рік|роки|року|роках)"
        rf"|(?:у|в)\s+(?P<year2>{_YEAR})(?:-?му)?\s*(?:році|р\.)|(?P<year3>{_YEAR})(?:-?го)?\s*(?:року|р\.)"
        rf"|(?:in|during)\s+(?P<year4>{_YEAR})){_E}",
        _year,
    ),
    (  # "вчора", "3 дні тому", "two days ago"
        rf"{_B}(?:позавчора|вчора|учора|сьогодні|the day before yesterday|yesterday|today"
        rf"|{_count('n')}\s+(?:день|дні|днів|доби|діб)\s+тому|{_count('n2')}\s+days?\s+ago){_E}",
        _one_day,
    ),
    (  # "за останні три дні", "за останню добу", "in the past 10 days", "the past week"
        rf"{_B}(?:(?:(?:за|протягом|впродовж|упродовж|in|over|during|for)\s+)?(?:the\s+)?"
        rf"(?:останні|останніх|last|past)\s+{_count('count')}\s+(?P<unit>{_alternatives(_UNITS)})"
        rf"|(?:за|протягом|впродовж|упродовж|in|over|during)\s+(?:the\s+)?(?:останню|останній|last|past)\s+"
        rf"(?P<unit2>добу|день|тиждень|місяць|рік|day|week|month|year)|(?:the\s+)?past\s+(?P<unit3>day|week|month|year)"
        rf"){_E}",
        _last_n,
    ),
    (  # "цього тижня", "на минулому тижні", "торік", "last month"
        rf"{_B}(?:(?:цього|поточного|минулого|попереднього)\s+(?P<unit>тижня|місяця|року)"
        rf"|(?:на|у|в)\s+(?:цьому|поточному|минулому|попередньому)\s+(?P<unit2>тижні|місяці|році)"
        rf"|(?:за\s+)?(?:цей|минулий|попередній)\s+(?P<unit3>тиждень|місяць|рік)|торік"
        rf"|(?:this|last)\s+(?P<unit4>week|month|year)){_E}",
        _this_or_last,
    ),
]
_COMPILED = [(re.compile(pattern, re.IGNORECASE), read) for pattern, read in _PATTERNS]


# A date that names a street or a square ("вулиця 8 Березня") is no time; "станом на 1 серпня"
# ("as of") is the time of a figure, not of its news.
_NOT_WHEN = re.compile(
    r"(?:вулиц\w*|вул\.|площ\w*|пл\.|проспект\w*|просп\.|бульвар\w*|street|square|станом\s+на|as\s+of)\s*$",
    re.IGNORECASE,
)
# A question that asks when ("Якого числа в грудні…?") dates the event with its other dates.
# These phrases ask for a time wherever they stand.
_WHEN_PHRASE = re.compile(
    r"\b(?:якого\s+(?:числа|дня|місяця|року)|якої\s+дати|о\s+котрій|(?:з|до)\s+якого\s+часу"
    r"|what\s+(?:date|day|time)|since\s+when|until\s+when)\b",
    re.IGNORECASE,
)
# "коли", "відколи" and "when" are also conjunctions ("Скільки людей загинуло, коли ракета
# влучила…?"), so they ask only as a sentence's question word: first, after a particle ("А коли",
# "То коли", "Ну і коли") or a request ("Скажіть, коли"), or last ("А вибори коли?").
_PARTICLES = r"(?:(?:а|і|й|та|то|так|тож|отже|ну|and|so|but|then|well)\s*,?\s+)*"
_REQUEST = (
    r"(?:(?:(?:скажіть|скажи|підкажіть|підкажи|нагадайте|нагадай|уточніть|уточни)(?:\s*,?\s*будь\s+ласка)?"
    r"|(?:чи\s+)?(?:відомо|знаєте|знаєш)|(?:please\s+)?tell\s+me|do\s+you\s+know)\s*,?\s+)?"
)
_WHEN_WORD = r"(?:коли|відколи|when)\b"
_LEADING_WHEN = re.compile(r"\W*" + _PARTICLES + _REQUEST + _WHEN_WORD, re.IGNORECASE)
_TRAILING_WHEN = re.compile(r"\b" + _WHEN_WORD + r"(?:\s+(?:саме|ж|же|exactly))?\s*\?", re.IGNORECASE)
# A leading "коли" clause the main question follows ("Коли ракета влучила в будинок, скільки людей
# загинуло?") is a conjunction's. Only words that start a direct question count: "що", "як", "чи"
# after a comma start an indirect one too ("Коли стало відомо, що…?" asks when).
_MAIN_QUESTION = re.compile(
    r",\s*(?:то\s+)?(?:скільки|хто|кого|кому|де|куди|звідки|чому|навіщо"
    r"|how|who|what|where|why|which)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?…;])\s+")


def find_dates(question: str, reference: date) -> list[tuple[tuple[int, int], DateRange]]:
    """Every date expression of ``question``: (its span, its range), in order."""
    taken: list[_Found] = []
    for pattern, read in _COMPILED:
        for m in pattern.finditer(question):
            if any(m.start() < f.span[1] and f.span[0] < m.end() for f in taken):
                continue
            # A date that is no time still takes its words: "серпня 2010" of "станом на 1 серпня 2010".
            no_time = bool(_NOT_WHEN.search(question[: m.start()]))
            found = None if no_time else read(m, reference)
            if found is not None or no_time:
                taken.append(_Found(m.span(), found))
    return [(f.span, f.range) for f in sorted(taken, key=lambda f: f.span) if f.range is not None]


def read_dates(question: str, reference: date) -> DateRange | None:
    """The days ``question`` asks about (all its date expressions, first to last), or None."""
    found = [r for _, r in find_dates(question, reference)]
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    return DateRange(
        min(r.start for r in found),
        max(r.end for r in found),
        " … ".join(r.text for r in found),
        year_given=all(r.year_given for r in found),
        event_time=all(r.event_time for r in found),
        relative=any(r.relative for r in found),
    )


def without_dates(text: str) -> str:
    """``text`` less its date expressions (what it is about, once the dates are a filter)."""
    out, pos = [], 0
    for (start, end), _ in find_dates(text, date.today()):
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    return " ".join("".join(out).split())


def met_dates(question: str, dates: Iterable[str | None]) -> list[str]:
    """The date expressions of ``question`` that one of ``dates`` (``YYYY-MM-DD``) meets.

    "14.11.2024" or "14 листопада" is met by an article dated 2024-11-14 though its text never
    writes the date; the count in "за останні 10 днів" is no fact to be found at all.
    """
    dates = list(dates)
    return [
        question[start:end]
        for (start, end), found in find_dates(question, date.today())
        if found.relative or any(found.holds(d) for d in dates)
    ]


def without_met_dates(question: str, dates: Iterable[str | None]) -> str:
    """``question`` less the date expressions that one of ``dates`` meets (see ``met_dates``)."""
    for said in met_dates(question, dates):
        question = question.replace(said, " ", 1)
    return " ".join(question.split()).replace(" ?", "?").replace(" ,", ",")


_LATEST = re.compile(
    r"\b(?:останн\w*\s+(?:новин\w*|події|подій|повідомлен\w*|дані|даних)|найсвіжіш\w*|свіж\w+\s+новин\w*"
    r"|що\s+нового|що\s+новенького|latest|most\s+recent|recent\s+news|what(?:'s|\s+is)\s+new)\b",
    re.IGNORECASE,
)


def without_latest(question: str) -> str:
    """``question`` less its words for the latest news: they ask for recent articles (the recency
    boost), not for articles that say "останні новини"."""
    return " ".join(_LATEST.sub(" ", question).split())


def asks_when(question: str) -> bool:
    """Whether ``question`` asks for a time ("Коли…?", "якого числа", "when"), not "коли" as a conjunction."""
    if _WHEN_PHRASE.search(question) or _TRAILING_WHEN.search(question):
        return True
    return any(_asks_when_first(sentence) for sentence in _SENTENCE_END.split(question))


def _asks_when_first(sentence: str) -> bool:
    """Whether ``sentence`` opens with "коли"/"when" as its question word, not a clause before the question."""
    lead = _LEADING_WHEN.match(sentence)
    return lead is not None and not _MAIN_QUESTION.search(sentence, lead.end())


def wants_latest(question: str) -> bool:
    """Whether ``question`` asks for the latest news ("останні новини про…", "що нового", "latest")."""
    return bool(_LATEST.search(question))


def warm_up() -> None:
    """Load dateparser's language data now rather than on the first question with a date."""
    _dateparser_day("14 листопада 2024", date.today())
