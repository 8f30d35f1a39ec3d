"""What the pupil's charts are drawn from: one small row per record in a period, read with the
database's JSON functions so only the few fields a chart needs leave the database (a school
year of 10,000 records is one indexed query, not 10,000 statements decoded)."""

from __future__ import annotations

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
from records.portfolio.labels import minutes_of, score_of, subjects_of, timeline_kind


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
            full[("result", "score")].as_json(),
            full[("context", "contextActivities", "category")].as_json(),
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


def _row(
    timestamp: datetime, verb_id: str, duration: str | None, score: Any, category: Any
) -> LearningRow:
    score = _json(score)
    category = _json(category)
    shaped: dict[str, Any] = {"verb": {"id": verb_id}}
    if duration is not None or score is not None:
        shaped["result"] = {"duration": duration, "score": score}
    if category is not None:
        shaped["context"] = {"contextActivities": {"category": category}}
    at = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
    subjects = subjects_of(shaped)
    return LearningRow(
        day=at.astimezone(JST).date(),
        at=at,
        kind=timeline_kind(shaped),
        subject=subjects[0] if subjects else None,
        minutes=minutes_of(shaped),
        score=score_of(shaped)[0],
    )


def _json(value: Any) -> Any:
    # SQLite hands back JSON text for as_json(); PostgreSQL hands back the decoded value.
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value


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
