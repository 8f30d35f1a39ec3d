"""Dates as schools count them: the day in Japan (JST), weeks from Monday, the school year
(年度, April to March) and school days (weekdays that are not national holidays).

School days are a national convention here, not each school's own timetable: boards compare
regions on the same calendar. A school day is a weekday that is not a national holiday (from the
`holidays` package) and not in the usual breaks: summer 21 July - 31 August, winter
26 December - 6 January, spring 25 March - 5 April.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache

import holidays

JST = timezone(timedelta(hours=9))


def jst_day(moment: datetime) -> date:
    """The date in Japan of a moment (a naive moment is read as UTC, as SQLite returns it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(JST).date()


def day_start(day: date) -> datetime:
    """Midnight in Japan at the start of `day`, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=JST).astimezone(UTC)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def school_year(day: date) -> int:
    """The 年度 a date belongs to (April 2026 - March 2027 is 2026)."""
    return day.year if day.month >= 4 else day.year - 1


@cache
def _national_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("JP", years=year).keys())


def on_break(day: date) -> bool:
    """In the summer, winter or spring break (the national convention above)."""
    summer = date(day.year, 7, 21) <= day <= date(day.year, 8, 31)
    winter = day >= date(day.year, 12, 26) or day <= date(day.year, 1, 6)
    spring = date(day.year, 3, 25) <= day <= date(day.year, 4, 5)
    return summer or winter or spring


def is_school_day(day: date) -> bool:
    return day.weekday() < 5 and not on_break(day) and day not in _national_holidays(day.year)


def school_days(first: date, last: date) -> list[date]:
    """School days from first to last, both included."""
    days = []
    day = first
    while day <= last:
        if is_school_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days
