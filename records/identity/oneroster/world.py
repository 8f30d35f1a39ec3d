"""What the database already holds that a roster names: loaded in a few queries, never row by row.

Only SELECTs run here (inside `no_autoflush`): nothing is written before the roster is valid.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.identity.models import AcademicSession, ActorLink, Course, Person, SchoolClass
from records.identity.oneroster.roster import Roster
from records.models import Organisation

T = TypeVar("T")
CHUNK: Final = 1000  # values per IN (...): well inside SQLite's and PostgreSQL's limits


def chunks(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(slots=True)
class World:
    org_by_sid: dict[str, Organisation] = field(default_factory=dict)
    org_by_code: dict[str, Organisation] = field(default_factory=dict)
    org_by_id: dict[int, Organisation] = field(default_factory=dict)
    sessions: dict[str, list[AcademicSession]] = field(default_factory=dict)
    courses: dict[str, list[Course]] = field(default_factory=dict)
    classes: dict[str, list[SchoolClass]] = field(default_factory=dict)
    link_person: dict[str, int] = field(default_factory=dict)  # ActorLink.agent_key -> person
    persons: dict[int, Person] = field(default_factory=dict)

    def org_sid(self, org_id: int | None) -> str:
        org = self.org_by_id.get(org_id) if org_id is not None else None
        return (org.sourced_id or org.code) if org is not None else ""


def load_world(session: Session, roster: Roster, keys: Iterable[str]) -> World:
    world = World()
    for org in session.scalars(select(Organisation)):
        world.org_by_id[org.id] = org
        world.org_by_code[org.code] = org
        if org.sourced_id:
            world.org_by_sid[org.sourced_id] = org
    session_ids = {r.sourced_id for r in roster.sessions} | {r.parent for r in roster.sessions}
    session_ids |= {r.school_year for r in roster.courses}
    session_ids |= {term for r in roster.classes for term in r.terms}
    world.sessions = _by_sid(session, AcademicSession, session_ids)
    course_ids = {r.sourced_id for r in roster.courses} | {r.course for r in roster.classes}
    world.courses = _by_sid(session, Course, course_ids)
    class_ids = {r.sourced_id for r in roster.classes} | {r.class_ref for r in roster.enrollments}
    class_ids |= {r.home_class for r in roster.users}
    world.classes = _by_sid(session, SchoolClass, class_ids)
    for batch in chunks(sorted(set(keys))):
        query = select(ActorLink.agent_key, ActorLink.person_id).where(
            ActorLink.agent_key.in_(batch)
        )
        for key, person_id in session.execute(query):
            world.link_person[key] = person_id
    for ids in chunks(sorted(set(world.link_person.values()))):
        people = session.scalars(select(Person).where(Person.id.in_(ids)))
        world.persons.update({person.id: person for person in people})
    return world


def _by_sid(session: Session, model: Any, sourced_ids: Iterable[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = defaultdict(list)
    wanted: Sequence[str] = sorted(sid for sid in set(sourced_ids) if sid)
    for batch in chunks(wanted):
        for row in session.scalars(
            select(model).where(model.sourced_id.in_(batch)).order_by(model.id)
        ):
            found[row.sourced_id].append(row)
    return dict(found)
