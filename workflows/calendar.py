"""Vietnam's working-day calendar and BLDS art. 147–148 day counting.

Working days are Monday–Friday (QĐ 188/1999) minus public holidays, plus Saturdays the government
swaps into working days. The `holidays` package (country VN) supplies holidays, observed days and
swapped Saturdays (`weekend_workdays`); admins add overrides (extra days off, extra working days).
"""

from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum

import holidays


class Basis(StrEnum):
    calendar = "calendar"  # "ngày"
    working = "working"  # "ngày làm việc"


class WorkCalendar:
    def __init__(self, extra_days_off: Iterable[date] = (), extra_working_days: Iterable[date] = ()) -> None:
        self._holidays = holidays.country_holidays("VN", language="vi")
        self.extra_days_off = frozenset(extra_days_off)
        self.extra_working_days = frozenset(extra_working_days)
        self._memo: dict[date, bool] = {}

    def holiday_name(self, day: date) -> str | None:
        name = self._holidays.get(day)
        return str(name) if name else None

    def _swapped_saturday(self, day: date) -> bool:
        _ = day in self._holidays  # populates the year, including its swapped working days
        return day in self._holidays.weekend_workdays

    def is_working_day(self, day: date) -> bool:
        known = self._memo.get(day)
        if known is None:
            known = self._memo[day] = self._is_working_day(day)
        return known

    def _is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.extra_days_off:
            return False
        if day in self._holidays:
            return False
        if day.weekday() >= 5:
            return self._swapped_saturday(day)
        return True

    def roll_forward(self, day: date) -> date:
        """The day itself if it is a working day, else the next working day."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (the start day itself is not counted)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def subtract_working_days(self, end: date, n: int) -> date:
        """The day from which `end` is n working days away (so working_days_between(result, end) == n)."""
        day = end
        counted = 0
        while counted < n:
            if self.is_working_day(day):
                counted += 1
            day -= timedelta(days=1)
        return day

    def add_calendar_days(self, start: date, n: int) -> date:
        """start + n days; a period ending on a day off ends on the next working day (BLDS art. 148)."""
        if n < 0:
            raise ValueError("n must not be negative")
        return self.roll_forward(start + timedelta(days=n))

    def add(self, start: date, n: int, basis: Basis) -> date:
        return self.add_working_days(start, n) if basis is Basis.working else self.add_calendar_days(start, n)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(1 for i in range(1, (end - start).days + 1) if self.is_working_day(start + timedelta(days=i)))

    def days_off(self, year: int) -> list[tuple[date, str]]:
        """Days off that fall on Monday–Friday (holidays, observed days, overrides) in a year."""
        out = []
        day = date(year, 1, 1)
        while day.year == year:
            if day.weekday() < 5 and not self.is_working_day(day):
                out.append((day, self.holiday_name(day) or "Ngày nghỉ bổ sung"))
            day += timedelta(days=1)
        return out

    def swapped_working_days(self, year: int) -> list[date]:
        """Saturdays and Sundays that are working days in a year."""
        out = []
        day = date(year, 1, 1)
        while day.year == year:
            if day.weekday() >= 5 and self.is_working_day(day):
                out.append(day)
            day += timedelta(days=1)
        return out
