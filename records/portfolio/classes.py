"""A teacher's view of a class they teach now: who has been active this week and who has not
(in name order, never ranked), and the pupils' recent reflections. Each pupil shown is logged
in the access log."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.errors import ForbiddenError, NotFoundError
from records.identity.access import readable_classes
from records.identity.accounts import AccountInfo
from records.identity.models import ActorLink, Person, SchoolClass
from records.keys import index_key
from records.models import StatementIndex, StoredStatement
from records.portfolio import vocabulary as v
from records.portfolio.access import record_seen_many
from records.portfolio.entries import JST, current_pupils
from records.portfolio.labels import pick_language
from records.query import Reader, StatementQuery, find_statements
from records.xapi import agent_key

RECENT_REFLECTIONS = 20


@dataclass(frozen=True, slots=True)
class PupilWeek:
    public_id: str
    name: str
    kana: str
    active_days: tuple[date, ...]  # days of this week with a record
    last_active: date | None


@dataclass(frozen=True, slots=True)
class Reflection:
    pupil_public_id: str
    pupil_name: str
    statement_id: str
    topic: str
    text: str
    prompt: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ClassOverview:
    class_id: int
    title: str
    week_start: date
    pupils: list[PupilWeek]
    reflections: list[Reflection]


def classes_taught(session: Session, viewer: AccountInfo, today: date) -> list[SchoolClass]:
    if not viewer.has_role("teacher", "school_admin", "system_admin"):
        return []
    return list(
        session.scalars(
            select(SchoolClass)
            .where(SchoolClass.id.in_(readable_classes(viewer, today)))
            .order_by(SchoolClass.title)
        )
    )


def class_overview(
    session: Session, viewer: AccountInfo, class_id: int, today: date, locale: str
) -> ClassOverview:
    klass = session.get(SchoolClass, class_id)
    if klass is None:
        raise NotFoundError(f"no class {class_id}")
    if class_id not in set(session.scalars(readable_classes(viewer, today))):
        raise ForbiddenError("you may see only classes you teach now")
    pupils = sorted(
        current_pupils(session, class_id, today).values(),
        key=lambda p: (p.kana_family_name, p.kana_given_name, p.family_name, p.given_name),
    )
    week_start = today - timedelta(days=today.weekday())
    keys_of = _keys_by_person(session, [p.id for p in pupils])
    days = _active_days(session, keys_of, today - timedelta(days=60))
    overview_pupils = []
    for p in pupils:
        seen = days.get(p.id, set())
        overview_pupils.append(
            PupilWeek(
                public_id=p.public_id,
                name=_name(p),
                kana=" ".join(x for x in (p.kana_family_name, p.kana_given_name) if x),
                active_days=tuple(sorted(d for d in seen if d >= week_start)),
                last_active=max(seen) if seen else None,
            )
        )
    record_seen_many(session, viewer, [p.id for p in pupils], "class.overview")
    reflections = _recent_reflections(session, pupils, keys_of, locale)
    return ClassOverview(class_id, klass.title, week_start, overview_pupils, reflections)


def _name(person: Person) -> str:
    return " ".join(x for x in (person.family_name, person.given_name) if x) or person.public_id


def _keys_by_person(session: Session, person_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if person_ids:
        for person_id, key in session.execute(
            select(ActorLink.person_id, ActorLink.agent_key).where(
                ActorLink.person_id.in_(person_ids)
            )
        ):
            found[person_id].append(key)
    return found


def _active_days(
    session: Session, keys_of: dict[int, list[str]], since: date
) -> dict[int, set[date]]:
    """Days (JST) with any record, per person, since a date: one query for the whole class."""
    person_of = {key: pid for pid, keys in keys_of.items() for key in keys}
    if not person_of:
        return {}
    begin = datetime.combine(since, datetime.min.time(), JST).astimezone(UTC)
    rows = session.execute(
        select(StatementIndex.key, StoredStatement.timestamp)
        .join(StoredStatement, StoredStatement.seq == StatementIndex.seq)
        .where(
            StatementIndex.kind == "a",
            StatementIndex.key.in_(list(person_of)),
            StatementIndex.stored >= begin,
            StoredStatement.voided.is_(False),
            StoredStatement.is_voiding.is_(False),
        )
    )
    days: dict[int, set[date]] = defaultdict(set)
    for key, timestamp in rows:
        at = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
        days[person_of[key]].add(at.astimezone(JST).date())
    return days


def _recent_reflections(
    session: Session,
    pupils: list[Person],
    keys_of: dict[int, list[str]],
    locale: str,
) -> list[Reflection]:
    all_keys = tuple(k for p in pupils for k in keys_of.get(p.id, []))
    if not all_keys:
        return []
    page = find_statements(
        session,
        Reader(org_id=None),
        StatementQuery(person_keys=all_keys, verb_id=v.VERB_REFLECTED, limit=RECENT_REFLECTIONS),
        RECENT_REFLECTIONS,
    )
    by_key = {k: p for p in pupils for k in keys_of.get(p.id, [])}
    found = []
    for st in page.statements:
        key = agent_key(st.get("actor") or {})
        pupil = by_key.get(index_key(key)) if key else None
        if pupil is None:
            continue
        definition = (st.get("object") or {}).get("definition") or {}
        ext = (st.get("context") or {}).get("extensions") or {}
        prompt = v.REFLECTION_PROMPTS.get(str(ext.get(v.PROMPT_EXT)))
        found.append(
            Reflection(
                pupil_public_id=pupil.public_id,
                pupil_name=_name(pupil),
                statement_id=str(st["id"]),
                topic=pick_language(definition.get("name"), locale) or "",
                text=str((st.get("result") or {}).get("response") or ""),
                prompt=prompt.get(locale) if prompt else None,
                at=datetime.fromisoformat(str(st["timestamp"]).replace("Z", "+00:00")),
            )
        )
    return found
