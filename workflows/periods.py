"""Reporting periods as data: the labels the API takes (`YYYY-MM`, `YYYY-Qn`, `YYYY-H1`, `YYYY-9M`, `YYYY`) and
the dates they cover — either calendar dates (reception compliance: requirements are per month) or the
inspectorate's statutory data cut-offs (Circulars 02/2021 and 01/2024 of the Government Inspectorate; LEGAL.md
"Reporting to the inspectorate"), which are configuration here because 06/2025's own are unconfirmed."""

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date


class PeriodError(ValueError):
    """A period label that is not one of the accepted forms (or names a month / quarter that does not exist)."""


@dataclass(frozen=True)
class Period:
    label: str
    start: date  # first day covered
    end: date  # last day covered (inclusive)

    def months(self) -> list[date]:
        """First days of the calendar months the period touches."""
        out, month = [], self.start.replace(day=1)
        while month <= self.end:
            out.append(month)
            month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        return out


@dataclass(frozen=True)
class CutOffs:
    """A report's data run from `day` of the month before its first month to `day - 1` of its last month;
    e.g. with day 15, Q1 = 15 Dec of the previous year → 14 Mar."""

    day: int = 15

    def span(self, first_month: date, last_month: date) -> tuple[date, date]:
        prev = date(first_month.year - (first_month.month == 1), (first_month.month - 2) % 12 + 1, 1)
        return prev.replace(day=self.day), last_month.replace(day=self.day - 1)


STATUTORY = CutOffs(day=15)

_LABEL = re.compile(r"(\d{4})(?:-(\d{2})|-Q(\d)|-(H1)|-(9M))?", re.ASCII)  # whole label (fullmatch), ASCII digits
MIN_YEAR, MAX_YEAR = 2000, 2100


def _month_span(year: int, first: int, last: int) -> tuple[date, date]:
    return date(year, first, 1), date(year, last, monthrange(year, last)[1])


def parse(label: str, *, cutoffs: CutOffs | None = None, allow: frozenset[str] | None = None) -> Period:
    """The period a label names. With `cutoffs`, quarters, half-years, nine months and years use the statutory
    data cut-offs; months are always calendar months. `allow` limits the forms ("month", "quarter", "half",
    "nine", "year"). Whitespace around the label is ignored, and the period's `label` is always the canonical one
    rebuilt from what was parsed (it goes into cache keys, file names and response headers as it is)."""
    m = _LABEL.fullmatch(label.strip())
    if not m:
        raise PeriodError("expected YYYY-MM, YYYY-Qn, YYYY-H1, YYYY-9M or YYYY")
    year = int(m.group(1))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(f"year must be between {MIN_YEAR} and {MAX_YEAR}")
    month, quarter, half, nine = m.group(2), m.group(3), m.group(4), m.group(5)
    form = "month" if month else "quarter" if quarter else "half" if half else "nine" if nine else "year"
    if allow is not None and form not in allow:
        raise PeriodError(f"a {form} period is not accepted here")
    if month:
        n = int(month)
        if not 1 <= n <= 12:
            raise PeriodError("month must be 01–12")
        start, end = _month_span(year, n, n)
        return Period(f"{year}-{n:02d}", start, end)
    if quarter:
        q = int(quarter)
        if not 1 <= q <= 4:
            raise PeriodError("quarter must be Q1–Q4")
        first, last, canonical = 3 * q - 2, 3 * q, f"{year}-Q{q}"
    elif half:
        first, last, canonical = 1, 6, f"{year}-H1"
    elif nine:
        first, last, canonical = 1, 9, f"{year}-9M"
    else:
        first, last, canonical = 1, 12, str(year)
    if cutoffs is None:
        start, end = _month_span(year, first, last)
    else:
        start, end = cutoffs.span(date(year, first, 1), date(year, last, 1))
    return Period(canonical, start, end)


def between(start: date, end: date) -> Period:
    if end < start:
        raise PeriodError("'to' is before 'from'")
    return Period(f"{start.isoformat()}..{end.isoformat()}", start, end)


# When reports are due (the plan: the 6-month report before 10 June, the annual report before 5 December). Months
# have no due date; quarters and nine months are due a week after their cut-off (configurable data, unconfirmed).
REPORT_DUE: dict[str, tuple[int, int] | int] = {"half": (6, 10), "year": (12, 5), "quarter": 7, "nine": 7}


def form_of(label: str) -> str | None:
    m = _LABEL.fullmatch(label)
    if not m:
        return None
    return (
        "month"
        if m.group(2)
        else "quarter"
        if m.group(3)
        else "half"
        if m.group(4)
        else "nine"
        if m.group(5)
        else "year"
    )


def report_due(period: Period, rules: dict[str, tuple[int, int] | int] = REPORT_DUE) -> date | None:
    rule = rules.get(form_of(period.label) or "")
    if rule is None:
        return None
    if isinstance(rule, tuple):
        return date(period.end.year, rule[0], rule[1])
    return date.fromordinal(period.end.toordinal() + rule)
