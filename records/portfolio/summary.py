"""What the pupil's charts are drawn from: one small row per record in a period, read with the
database's JSON functions so only the few fields a chart needs leave the database (a school
year of 10,000 records is one indexed query, not 10,000 statements decoded)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from records.keys import index_key
from records.models import StatementIndex, StoredStatement
from records.portfolio import vocabulary as v
from records.portfolio.access import Pupil
from records.portfolio.entries import JST
from records.portfolio.labels import minutes_of, score_of


@dataclass(frozen=True, slots=True)
class LearningRow:
    day: date  # in Japan time
    at: datetime
    kind: str
    subject: str | None
    minutes: float | None
    score: float | None  # 0..1


def school_year_of(day: date) -> tuple[date, date]:
    """The Japanese school year (年度, April to March) containing `day`."""
    start_year = day.year if day.month >= 4 else day.year - 1
    return date(start_year, 4, 1), date(start_year + 1, 3, 31)


def learning_rows(session: Session, pupil: Pupil, first: date, last: date) -> list[LearningRow]:
    """Every current record about the pupil that happened between first and last (JST)."""
    if not pupil.agent_keys:
        return []
    begin = datetime.combine(first, datetime.min.time(), JST)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), JST)
    idx, feedback = aliased(StatementIndex), aliased(StatementIndex)
    full = StoredStatement.full
    stmt = (
        select(
            StoredStatement.timestamp,
            StoredStatement.verb_id,
            full[("result", "duration")].as_string(),
            full[("result", "score", "scaled")].as_float(),
            full[("result", "score", "raw")].as_float(),
            full[("result", "score", "min")].as_float(),
            full[("result", "score", "max")].as_float(),
            # JSON text of the list on both databases (decoded below with orjson: fast)
            full[("context", "contextActivities", "category")].as_string(),
        )
        .where(
            StoredStatement.seq.in_(
                select(idx.seq).where(idx.kind == "a", idx.key.in_(pupil.agent_keys))
            ),
            StoredStatement.voided.is_(False),
            StoredStatement.is_voiding.is_(False),
            StoredStatement.timestamp >= begin.astimezone(UTC),
            StoredStatement.timestamp < end.astimezone(UTC),
            ~exists().where(
                feedback.seq == StoredStatement.seq,
                feedback.kind == "C",
                feedback.key == index_key(v.FEEDBACK_CATEGORY),
            ),
        )
        .order_by(StoredStatement.timestamp)
    )
    return [_row(*row) for row in session.execute(stmt)]


# The same rules as records.portfolio.labels, on the few fields selected above: 10,000 rows
# must not each build and walk a statement.
_TEST_VERBS = frozenset(v.TEST_VERBS)
_LESSON_VERBS = frozenset(v.LESSON_VERBS)
_SIMPLE_DURATION = re.compile(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?")


def _row(
    timestamp: datetime,
    verb_id: str,
    duration: str | None,
    scaled: float | None,
    raw: float | None,
    low: float | None,
    high: float | None,
    category_text: str | None,
) -> LearningRow:
    at = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
    subject = None
    mine = False
    if category_text:
        category = _decode(category_text)
        for activity in category if isinstance(category, list) else [category]:
            iri = activity.get("id") if isinstance(activity, dict) else None
            if not isinstance(iri, str):
                continue
            if iri == v.ENTRY_CATEGORY:
                mine = True
            elif subject is None and iri.startswith(v.SUBJECT_PREFIX):
                code = iri[len(v.SUBJECT_PREFIX) :]
                subject = code if code in v.SUBJECTS else None
    if mine:
        kind = "mine"
    elif verb_id in _TEST_VERBS:
        kind = "test"
    elif verb_id in _LESSON_VERBS:
        kind = "lesson"
    else:
        kind = "device"
    return LearningRow(
        day=at.astimezone(JST).date(),
        at=at,
        kind=kind,
        subject=subject,
        minutes=_minutes(duration),
        score=_score(scaled, raw, low, high),
    )


def _minutes(duration: str | None) -> float | None:
    if not duration:
        return None
    simple = _SIMPLE_DURATION.fullmatch(duration)
    if simple and any(simple.groups()):
        hours, minutes, seconds = (float(g) if g else 0.0 for g in simple.groups())
        return hours * 60 + minutes + seconds / 60
    return minutes_of({"result": {"duration": duration}})


def _score(
    scaled: float | None, raw: float | None, low: float | None, high: float | None
) -> float | None:
    score = {
        name: value
        for name, value in (("scaled", scaled), ("raw", raw), ("min", low), ("max", high))
        if value is not None
    }
    return score_of({"result": {"score": score}})[0] if score else None


def _decode(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def streaks(days: Sequence[date], today: date) -> tuple[int, int]:
    """(current, longest) runs of consecutive days with a record; today may still be empty."""
    have = set(days)
    longest = run = 0
    previous: date | None = None
    for day in sorted(have):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    current = 0
    cursor = today if today in have else today - timedelta(days=1)
    while cursor in have:
        current += 1
        cursor -= timedelta(days=1)
    return current, longest
