"""The learning-day rollup: one exact row per pupil and day (JST), kept by a job.

How it stays exact without ever rescanning everything:
- The job reads statements above its watermark on `statements.seq` (new ones, whatever their
  `timestamp`: late and out-of-order arrivals land on the day they happened) and, for voiding
  statements among them, the statements they void.
- Each (person, day) so touched is recomputed whole from that person's current, non-voided
  statements of that day, so running twice changes nothing and the order of arrival does not
  matter.
- The watermark moves only past statements stored before the LRS's consistency horizon
  (records.clock) minus a margin, so a writer still in flight with a lower seq is picked up by
  the next run; statements above the watermark are simply looked at again.
- Actors are resolved to people through `actor_links`. A statement whose actor is not linked
  (yet) counts for nobody; a full rebuild (`full=True`) picks it up once linked.

Definitions: minutes come from `result.duration`, each statement capped at `cap_minutes`
(a device left open all night is one session, not eight hours of learning). A statement is an
attempt when its verb is attempted/launched/initialized/completed/passed/failed or it carries
`result.completion`; completed when `result.completion` is true or, without that flag, when its
verb is completed/passed.
Scores are `result.score.scaled` clipped to 0..1.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import isodate
from sqlalchemy import delete, func, insert, select, tuple_
from sqlalchemy.orm import Session

from records.analytics_models import LearningDay, RollupState
from records.clock import consistent_through
from records.errors import InvalidStatementError
from records.identity.models import ActorLink, Enrollment, OrgMembership
from records.keys import index_key
from records.models import StatementIndex, StoredStatement
from records.rollup_weeks import refresh_school_weeks
from records.school_calendar import day_start, jst_day, monday
from records.xapi import agent_key

STATE = "learning_days"
DEFAULT_CAP_MINUTES = 120.0
SETTLE_MARGIN = timedelta(seconds=10)
_BATCH = 2000
_ATTEMPT_VERBS = frozenset(
    {"attempted", "launched", "initialized", "completed", "passed", "failed"}
)
_COMPLETE_VERBS = frozenset({"completed", "passed"})


@dataclass(frozen=True, slots=True)
class Facts:
    minutes: float
    attempted: int
    completed: int
    score: float | None


@dataclass(frozen=True, slots=True)
class RollupOutcome:
    statements: int
    days_changed: int
    weeks_changed: int
    watermark: int
    version: int


def statement_facts(full: Mapping[str, Any], cap_minutes: float) -> Facts:
    """What one statement adds to its pupil's day."""
    verb_object = full.get("verb")
    verb_id = verb_object.get("id", "") if isinstance(verb_object, Mapping) else ""
    verb = str(verb_id).rstrip("/").rsplit("/", 1)[-1].lower()
    raw = full.get("result")
    result: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    minutes = 0.0
    duration = result.get("duration")
    if isinstance(duration, str):
        try:
            parsed = isodate.parse_duration(duration)
            seconds = parsed.total_seconds() if isinstance(parsed, timedelta) else 0.0
        except (isodate.ISO8601Error, ValueError, OverflowError):
            seconds = 0.0
        minutes = min(max(seconds / 60.0, 0.0), cap_minutes)
    completion = result.get("completion")
    attempted = int(verb in _ATTEMPT_VERBS or isinstance(completion, bool))
    completed = int(completion if isinstance(completion, bool) else verb in _COMPLETE_VERBS)
    score = None
    score_object = result.get("score")
    scaled = score_object.get("scaled") if isinstance(score_object, Mapping) else None
    if isinstance(scaled, int | float) and not isinstance(scaled, bool):
        score = min(max(float(scaled), 0.0), 1.0)
    return Facts(minutes, attempted, completed, score)


def actor_key_of(full: Mapping[str, Any]) -> str | None:
    """The actor's key as actor_links store it (None for an anonymous group or a bad actor)."""
    actor = full.get("actor")
    if not isinstance(actor, Mapping):
        return None
    try:
        key = agent_key(actor)
    except InvalidStatementError:
        return None
    return index_key(key) if key else None


def roll_up(
    session: Session,
    *,
    cap_minutes: float = DEFAULT_CAP_MINUTES,
    full: bool = False,
    now: datetime | None = None,
    until: date | None = None,
) -> RollupOutcome:
    """Bring learning_days (and the school weeks they feed, counting school days up to
    `until`) up to date. Flushes only."""
    state = _state(session)
    if full:
        state.watermark = 0
    horizon = min(consistent_through(session), now or datetime.now(UTC)) - SETTLE_MARGIN
    touched: dict[str, set[date]] = defaultdict(set)
    seen = 0
    after = state.watermark
    while True:
        rows = session.execute(
            select(
                StoredStatement.seq,
                StoredStatement.org_id,
                StoredStatement.stored,
                StoredStatement.timestamp,
                StoredStatement.is_voiding,
                StoredStatement.ref_id,
                StoredStatement.full,
            )
            .where(StoredStatement.seq > after)
            .order_by(StoredStatement.seq)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        voided_refs: list[tuple[int, str]] = []
        for _seq, org_id, _stored, stamp, is_voiding, ref_id, data in rows:
            if is_voiding and ref_id:
                voided_refs.append((org_id, ref_id))
            else:
                _touch(touched, data, stamp)
        _touch_voided(session, touched, voided_refs)
        seen += len(rows)
        after = rows[-1][0]
    settled = _settled(session, state.watermark, after, horizon)
    people = _people_of(session, touched)
    pairs = {
        (person, day)
        for key, days in touched.items()
        for person in people.get(key, ())
        for day in days
    }
    changed_days, weeks = _recompute(session, pairs, cap_minutes)
    weeks_changed = refresh_school_weeks(session, weeks, until) if weeks else 0
    state.watermark = max(state.watermark, settled)
    if changed_days or weeks_changed:
        state.version += 1
    state.updated_at = datetime.now(UTC)
    session.flush()
    return RollupOutcome(seen, changed_days, weeks_changed, state.watermark, state.version)


def last_run_day(session: Session) -> date | None:
    """The day (JST) the rollups were last brought up to date, if ever."""
    stamp = session.scalar(select(RollupState.updated_at).where(RollupState.name == STATE))
    return jst_day(stamp) if stamp is not None else None


def rollup_version(session: Session) -> int:
    version = session.scalar(select(RollupState.version).where(RollupState.name == STATE))
    return int(version or 0)


def bump_version(session: Session) -> int:
    state = _state(session)
    state.version += 1
    state.updated_at = datetime.now(UTC)
    session.flush()
    return state.version


# --- steps -----------------------------------------------------------------------------------


def _state(session: Session) -> RollupState:
    state = session.get(RollupState, STATE)
    if state is None:
        state = RollupState(name=STATE, watermark=0, version=0, updated_at=datetime.now(UTC))
        session.add(state)
        session.flush()
    return state


def _settled(session: Session, watermark: int, upto: int, horizon: datetime) -> int:
    """The highest seq up to which every statement was stored before the horizon."""
    first_unsettled = session.scalar(
        select(func.min(StoredStatement.seq)).where(
            StoredStatement.seq > watermark,
            StoredStatement.seq <= upto,
            StoredStatement.stored >= horizon,
        )
    )
    return upto if first_unsettled is None else int(first_unsettled) - 1


def _touch(touched: dict[str, set[date]], data: Mapping[str, Any], stamp: datetime) -> None:
    key = actor_key_of(data)
    if key is not None:
        touched[key].add(jst_day(stamp))


def _touch_voided(
    session: Session, touched: dict[str, set[date]], refs: list[tuple[int, str]]
) -> None:
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        for data, stamp in session.execute(
            select(StoredStatement.full, StoredStatement.timestamp).where(
                tuple_(StoredStatement.org_id, StoredStatement.statement_id).in_(chunk)
            )
        ):
            _touch(touched, data, stamp)


def _people_of(session: Session, touched: Mapping[str, set[date]]) -> dict[str, set[int]]:
    found: dict[str, set[int]] = defaultdict(set)
    keys = list(touched)
    for start in range(0, len(keys), 500):
        for key, person in session.execute(
            select(ActorLink.agent_key, ActorLink.person_id).where(
                ActorLink.agent_key.in_(keys[start : start + 500])
            )
        ):
            found[key].add(person)
    return found


def _recompute(
    session: Session, pairs: set[tuple[int, date]], cap_minutes: float
) -> tuple[int, set[tuple[int, date]]]:
    """Rewrite the learning_days rows of these pairs; returns (rows changed, school weeks)."""
    by_person: dict[int, set[date]] = defaultdict(set)
    for person, day in pairs:
        by_person[person].add(day)
    weeks: set[tuple[int, date]] = set()
    changed = 0
    schools = _schools(session, set(by_person))
    for person, days in by_person.items():
        old = {
            row.day: row
            for row in session.scalars(
                select(LearningDay).where(
                    LearningDay.person_id == person, LearningDay.day.in_(days)
                )
            )
        }
        new = _person_days(session, person, days, cap_minutes, schools.get(person, []))
        for day in days:
            before, after = old.get(day), new.get(day)
            if before is not None:
                weeks.add((before.school_id, monday(day)))
            if after is not None:
                weeks.add((after["school_id"], monday(day)))
            if _same(before, after):
                continue
            changed += 1
            if before is not None:
                session.execute(
                    delete(LearningDay).where(
                        LearningDay.person_id == person, LearningDay.day == day
                    )
                )
            if after is not None:
                session.execute(insert(LearningDay), [after])
    session.expire_all()
    return changed, weeks


def _same(before: LearningDay | None, after: Mapping[str, Any] | None) -> bool:
    if before is None or after is None:
        return before is None and after is None
    return all(getattr(before, k) == v for k, v in after.items())


def _person_days(
    session: Session,
    person: int,
    days: set[date],
    cap_minutes: float,
    schools: list[tuple[int, date | None, date | None]],
) -> dict[date, dict[str, Any]]:
    keys = set(session.scalars(select(ActorLink.agent_key).where(ActorLink.person_id == person)))
    if not keys:
        return {}
    first, last = min(days), max(days)
    seqs = (
        select(StatementIndex.seq)
        .where(StatementIndex.kind == "a", StatementIndex.key.in_(keys))
        .scalar_subquery()
    )
    rows = session.execute(
        select(StoredStatement.org_id, StoredStatement.timestamp, StoredStatement.full).where(
            StoredStatement.seq.in_(seqs),
            StoredStatement.voided.is_(False),
            StoredStatement.is_voiding.is_(False),
            StoredStatement.timestamp >= day_start(first),
            StoredStatement.timestamp < day_start(last + timedelta(days=1)),
        )
    )
    totals: dict[date, dict[str, Any]] = {}
    for org_id, stamp, data in rows:
        day = jst_day(stamp)
        if day not in days or actor_key_of(data) not in keys:
            continue
        facts = statement_facts(data, cap_minutes)
        row = totals.setdefault(
            day,
            {
                "person_id": person,
                "day": day,
                "school_id": _school_on(schools, day) or org_id,
                "statements": 0,
                "minutes": 0.0,
                "attempted": 0,
                "completed": 0,
                "score_sum": 0.0,
                "score_n": 0,
            },
        )
        row["statements"] += 1
        row["minutes"] += facts.minutes
        row["attempted"] += facts.attempted
        row["completed"] += facts.completed
        if facts.score is not None:
            row["score_sum"] += facts.score
            row["score_n"] += 1
    return totals


def _schools(
    session: Session, people: Iterable[int]
) -> dict[int, list[tuple[int, date | None, date | None]]]:
    """Each pupil's schools with dates: student enrollments first, then memberships."""
    found: dict[int, list[tuple[int, date | None, date | None]]] = defaultdict(list)
    ids = list(people)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for person, org, begin, end in session.execute(
            select(
                Enrollment.person_id, Enrollment.org_id, Enrollment.begin_date, Enrollment.end_date
            )
            .where(
                Enrollment.person_id.in_(chunk),
                Enrollment.role == "student",
                Enrollment.active.is_(True),
            )
            .order_by(Enrollment.id)
        ):
            found[person].append((org, begin, end))
        for person, org, begin, end in session.execute(
            select(
                OrgMembership.person_id,
                OrgMembership.org_id,
                OrgMembership.begin_date,
                OrgMembership.end_date,
            )
            .where(OrgMembership.person_id.in_(chunk), OrgMembership.role == "student")
            .order_by(OrgMembership.id)
        ):
            found[person].append((org, begin, end))
    return found


def _school_on(schools: list[tuple[int, date | None, date | None]], day: date) -> int | None:
    for org, begin, end in schools:
        if (begin is None or begin <= day) and (end is None or end >= day):
            return org
    return None
