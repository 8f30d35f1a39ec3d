"""School weeks: the additive sums reports aggregate, from learning_days and enrollments.

For a school and a week (Monday to Sunday, JST):
- enrolled pupils are people with an active student enrollment (or a student membership) in the
  school on that day; `pupils` counts those enrolled on any school day of the week, or on any
  day when the week has no school day;
- `enrolled_days` and `active_days` count pupil-school-days (the active ones among the enrolled);
- `active3` counts enrolled pupils with activity on 3 or more days of the week (any day);
- minutes, attempted and completed sum the enrolled pupils' days of the week;
- the score histogram counts enrolled pupils by their mean scaled score of the week, in bins
  of 0.1 (h0 = [0, 0.1) ... h9 = [0.9, 1.0]).
Learning by someone not enrolled in the school that week counts nowhere.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from records.analytics_models import SCORE_BINS, LearningDay, SchoolWeek
from records.identity.models import Enrollment, OrgMembership
from records.school_calendar import monday, school_days

Interval = tuple[int, date | None, date | None]  # person, begin, end


def refresh_school_weeks(
    session: Session, keys: Iterable[tuple[int, date]], until: date | None = None
) -> int:
    """Recompute the school_weeks rows of these (school, Monday) pairs; returns rows written.
    School days after `until` (today) do not count yet: the current week is counted so far."""
    by_school: dict[int, set[date]] = defaultdict(set)
    for school, week in keys:
        by_school[school].add(week)
    written = 0
    for school, weeks in sorted(by_school.items()):
        enrolled = _enrolled(session, school)
        days = _learning_days(session, school, min(weeks), max(weeks) + timedelta(days=6))
        rows = [_week_row(school, week, enrolled, days, until) for week in sorted(weeks)]
        session.execute(
            delete(SchoolWeek).where(SchoolWeek.school_id == school, SchoolWeek.week.in_(weeks))
        )
        kept = [row for row in rows if row is not None]
        if kept:
            session.execute(insert(SchoolWeek), kept)
        written += len(kept)
    return written


def missing_weeks(session: Session, first: date, last: date) -> set[tuple[int, date]]:
    """(school, week) pairs from first to last of schools with enrolled pupils that have no
    school_weeks row yet (weeks without any activity still need their denominators)."""
    weeks = []
    week = monday(first)
    while week <= last:
        weeks.append(week)
        week += timedelta(days=7)
    schools = schools_with_pupils(session)
    have = {
        (school, week)
        for school, week in session.execute(
            select(SchoolWeek.school_id, SchoolWeek.week).where(
                SchoolWeek.week >= weeks[0] if weeks else SchoolWeek.week.is_(None),
                SchoolWeek.week <= last,
            )
        )
    }
    return {(school, week) for school in schools for week in weeks} - have


def schools_with_pupils(session: Session) -> set[int]:
    """Organisations with any student enrollment or membership."""
    return set(
        session.scalars(select(Enrollment.org_id).where(Enrollment.role == "student").distinct())
    ) | set(
        session.scalars(
            select(OrgMembership.org_id).where(OrgMembership.role == "student").distinct()
        )
    )


def _enrolled(session: Session, school: int) -> list[Interval]:
    found: list[Interval] = [
        (person, begin, end)
        for person, begin, end in session.execute(
            select(Enrollment.person_id, Enrollment.begin_date, Enrollment.end_date).where(
                Enrollment.org_id == school,
                Enrollment.role == "student",
                Enrollment.active.is_(True),
            )
        )
    ]
    found.extend(
        (person, begin, end)
        for person, begin, end in session.execute(
            select(OrgMembership.person_id, OrgMembership.begin_date, OrgMembership.end_date).where(
                OrgMembership.org_id == school, OrgMembership.role == "student"
            )
        )
    )
    return found


def _learning_days(
    session: Session, school: int, first: date, last: date
) -> list[tuple[int, date, float, int, int, float, int]]:
    return [
        (person, day, minutes, attempted, completed, score_sum, score_n)
        for person, day, minutes, attempted, completed, score_sum, score_n in session.execute(
            select(
                LearningDay.person_id,
                LearningDay.day,
                LearningDay.minutes,
                LearningDay.attempted,
                LearningDay.completed,
                LearningDay.score_sum,
                LearningDay.score_n,
            ).where(
                LearningDay.school_id == school,
                LearningDay.day >= first,
                LearningDay.day <= last,
            )
        )
    ]


def _on(intervals: list[Interval], day: date) -> set[int]:
    return {
        person
        for person, begin, end in intervals
        if (begin is None or begin <= day) and (end is None or end >= day)
    }


def _week_row(
    school: int,
    week: date,
    enrolled: list[Interval],
    days: list[tuple[int, date, float, int, int, float, int]],
    until: date | None,
) -> dict[str, Any] | None:
    sunday = week + timedelta(days=6)
    open_days = school_days(week, sunday if until is None else min(sunday, until))
    by_day = {day: _on(enrolled, day) for day in open_days}
    pupils: set[int] = set().union(*by_day.values()) if by_day else set()
    if not open_days:
        pupils = set().union(*(_on(enrolled, week + timedelta(days=n)) for n in range(7)))
    mine = [row for row in days if week <= row[1] <= sunday and row[0] in pupils]
    if not pupils:
        return None
    active_days = sum(1 for person, day, *_ in mine if person in by_day.get(day, ()))
    active: dict[int, int] = defaultdict(int)
    sums: dict[int, float] = defaultdict(float)
    counts: dict[int, int] = defaultdict(int)
    for person, _day, _minutes, _att, _comp, score_sum, score_n in mine:
        active[person] += 1
        sums[person] += score_sum
        counts[person] += score_n
    hist = [0] * SCORE_BINS
    for person, score_n in counts.items():
        if score_n:
            hist[min(int(sums[person] / score_n * SCORE_BINS), SCORE_BINS - 1)] += 1
    return {
        "school_id": school,
        "week": week,
        "school_days": len(open_days),
        "pupils": len(pupils),
        "enrolled_days": sum(len(people) for people in by_day.values()),
        "active_days": active_days,
        "active3": sum(1 for n in active.values() if n >= 3),
        "minutes": float(sum(row[2] for row in mine)),
        "attempted": int(sum(row[3] for row in mine)),
        "completed": int(sum(row[4] for row in mine)),
        "scored": sum(hist),
        **{f"h{n}": hist[n] for n in range(SCORE_BINS)},
    }
