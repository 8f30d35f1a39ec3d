"""Report periods: a school year (年度, "2026" = April 2026 to March 2027), a month ("2026-05")
or an ISO week ("2026-W23"). Reports read school weeks; a week belongs to the period its
Monday falls in, so months and years are whole weeks and add up without overlap."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from records.school_calendar import monday, school_year

_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class PeriodError(ValueError):
    """A period that is not one of the accepted forms."""


@dataclass(frozen=True, slots=True)
class Period:
    id: str
    kind: str  # year | month | week
    first: date
    last: date

    @property
    def first_week(self) -> date:
        start = monday(self.first)
        return start if start >= self.first else start + timedelta(days=7)

    @property
    def last_week(self) -> date:
        return monday(self.last)


def parse_period(text: str) -> Period:
    text = text.strip()
    try:
        if found := _YEAR.match(text):
            year = int(found.group(1))
            return Period(text, "year", date(year, 4, 1), date(year + 1, 3, 31))
        if found := _MONTH.match(text):
            year, month = int(found.group(1)), int(found.group(2))
            first = date(year, month, 1)
            following = date(year + month // 12, month % 12 + 1, 1)
            return Period(text, "month", first, following - timedelta(days=1))
        if found := _WEEK.match(text):
            first = date.fromisocalendar(int(found.group(1)), int(found.group(2)), 1)
            return Period(text, "week", first, first + timedelta(days=6))
    except ValueError as exc:
        raise PeriodError(f"period {text!r} is not a real year, month or week: {exc}") from None
    raise PeriodError(
        f"period {text!r} must be a school year (2026), a month (2026-05) or a week (2026-W23)"
    )


def current_school_year(today: date) -> Period:
    return parse_period(str(school_year(today)))
