"""Writing orgs, academic sessions, courses, classes and class terms (after every check passed).

Rows are compared with what is stored and only differences are written, so importing the same
package twice changes nothing. Organisations, sessions and courses have no `active` column: a
`tobedeleted` row of theirs is counted as unchanged (classes are deactivated).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from records.identity.models import AcademicSession, ClassTerm, Course, SchoolClass
from records.identity.oneroster.orgs import OrgRow
from records.identity.oneroster.plan import Plan
from records.identity.oneroster.report import ImportReport, Outcome
from records.identity.oneroster.world import chunks
from records.models import Organisation


def table(model: type[Any]) -> Table:
    """The Core table of a model, for bulk inserts: one executemany however the rows' None
    values fall (the ORM's bulk insert leaves None out, splitting the statement)."""
    return cast(Table, model.__table__)


def assign(obj: Any, **values: Any) -> bool:
    """Set the attributes that differ; True when any did."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


class Ids:
    """Database ids of rows by sourcedId, the package's rows first, then what was stored."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.sessions: dict[str, int] = {}
        self.courses: dict[str, int] = {}
        self.classes: dict[str, int] = {}

    def org(self, sourced_id: str) -> int | None:
        org = self.plan.world.org_by_sid.get(sourced_id)
        return org.id if org is not None else None

    def session(self, sourced_id: str) -> int | None:
        if sourced_id in self.sessions:
            return self.sessions[sourced_id]
        stored = self.plan.world.sessions.get(sourced_id)
        return stored[0].id if stored else None

    def course(self, sourced_id: str) -> int | None:
        if sourced_id in self.courses:
            return self.courses[sourced_id]
        stored = self.plan.world.courses.get(sourced_id)
        return stored[0].id if stored else None

    def school_class(self, sourced_id: str) -> int | None:
        if sourced_id in self.classes:
            return self.classes[sourced_id]
        stored = self.plan.world.classes.get(sourced_id)
        return stored[0].id if stored else None


def write_orgs(session: Session, plan: Plan, report: ImportReport) -> None:
    world, now = plan.world, datetime.now(UTC)
    counts = report.counts("orgs.csv")
    outcomes: list[tuple[Organisation | None, Outcome]] = []
    for row in plan.roster.orgs:
        if row.deleted:
            outcomes.append((None, "unchanged"))
            continue
        org = world.org_by_sid.get(row.sourced_id)
        if org is None:
            adopted = world.org_by_code.get(row.code)
            org = adopted if adopted is not None and adopted.sourced_id is None else None
        if org is None:
            org = Organisation(
                code=row.code,
                name=row.name,
                kind=row.kind,
                sourced_id=row.sourced_id,
                created_at=now,
            )
            session.add(org)
            outcomes.append((org, "created"))
        else:
            changed = assign(
                org, code=row.code, name=row.name, kind=row.kind, sourced_id=row.sourced_id
            )
            outcomes.append((org, "updated" if changed else "unchanged"))
        world.org_by_sid[row.sourced_id] = org
    session.flush()
    for org, _ in outcomes:
        if org is not None:
            world.org_by_id[org.id] = org
            world.org_by_code[org.code] = org
    for row, (org, outcome) in zip(plan.roster.orgs, outcomes, strict=True):
        parent = _parent(plan, row, org)
        changed = org is not None and parent is not None and assign(org, parent_id=parent.id)
        counts.count("updated" if changed and outcome == "unchanged" else outcome)


def _parent(plan: Plan, row: OrgRow, org: Organisation | None) -> Organisation | None:
    """The row's parent. Without one, a municipality that has no parent yet goes under its
    prefecture when that is known (as records.organisations.create_organisation does); any
    other org keeps the parent it has (an org tree may be built by other means too)."""
    if row.parent:
        return plan.world.org_by_sid[row.parent]
    if row.kind == "municipality" and org is not None and org.parent_id is None:
        prefecture = plan.world.org_by_code.get(row.code[:2])
        if prefecture is not None and prefecture.kind == "prefecture":
            return prefecture
    return None


def write_sessions(session: Session, plan: Plan, ids: Ids, report: ImportReport) -> None:
    counts = report.counts("academicSessions.csv")
    owner = common_ancestor(plan, [ids.org(sid) for sid in plan.session_orgs])
    outcomes: list[Outcome] = []
    written: list[tuple[int, AcademicSession, str]] = []
    for index, row in enumerate(plan.roster.sessions):
        if row.deleted:
            outcomes.append("unchanged")
            continue
        values: dict[str, Any] = {
            "title": row.title,
            "session_type": row.type,
            "start_date": row.start,
            "end_date": row.end,
            "school_year": row.school_year,
        }
        stored = plan.world.sessions.get(row.sourced_id)
        if stored:
            item = stored[0]
            outcomes.append("updated" if assign(item, **values) else "unchanged")
        elif owner is None:  # pragma: no cover - the plan refused the roster already
            raise RuntimeError("no organisation owns the new academic sessions")
        else:
            item = AcademicSession(org_id=owner, sourced_id=row.sourced_id, **values)
            session.add(item)
            outcomes.append("created")
        written.append((index, item, row.parent))
    session.flush()
    ids.sessions.update({item.sourced_id: item.id for _, item, _ in written})
    for index, item, parent in written:
        if assign(item, parent_id=ids.session(parent) if parent else None) and (
            outcomes[index] == "unchanged"
        ):
            outcomes[index] = "updated"
    for outcome in outcomes:
        counts.count(outcome)


def common_ancestor(plan: Plan, org_ids: list[int | None]) -> int | None:
    """The nearest org above (or at) all of `org_ids`; when they share none, the root above
    the first (a package of several separate trees)."""
    chains = [_ancestors(plan, org_id) for org_id in org_ids if org_id is not None]
    if not chains:
        return None
    common = [org_id for org_id in chains[0] if all(org_id in chain for chain in chains[1:])]
    return common[0] if common else chains[0][-1]


def _ancestors(plan: Plan, org_id: int) -> list[int]:
    chain = [org_id]
    parent = plan.world.org_by_id[org_id].parent_id
    while parent is not None and parent not in chain:
        chain.append(parent)
        parent = plan.world.org_by_id[parent].parent_id
    return chain


def write_courses(session: Session, plan: Plan, ids: Ids, report: ImportReport) -> None:
    counts = report.counts("courses.csv")
    written: list[Course] = []
    for row in plan.roster.courses:
        if row.deleted:
            counts.count("unchanged")
            continue
        org_id = ids.org(row.org)
        values = {"title": row.title, "course_code": row.course_code, "subjects": row.subjects}
        stored = [c for c in plan.world.courses.get(row.sourced_id, []) if c.org_id == org_id]
        if stored:
            counts.count("updated" if assign(stored[0], **values) else "unchanged")
            written.append(stored[0])
        else:
            course = Course(org_id=org_id, sourced_id=row.sourced_id, **values)
            session.add(course)
            written.append(course)
            counts.count("created")
    session.flush()
    ids.courses.update({course.sourced_id: course.id for course in written})


def write_classes(session: Session, plan: Plan, ids: Ids, report: ImportReport) -> None:
    counts = report.counts("classes.csv")
    roster = plan.roster
    outcomes: list[tuple[SchoolClass, Outcome, tuple[str, ...]]] = []
    for row in (r for r in roster.classes if not r.deleted):
        org_id = ids.org(row.school)
        values = {
            "title": row.title,
            "class_code": row.class_code,
            "class_type": row.class_type,
            "course_id": ids.course(row.course),
            "grades": row.grades,
            "subjects": row.subjects,
            "active": True,
        }
        stored = [k for k in plan.world.classes.get(row.sourced_id, []) if k.org_id == org_id]
        if stored:
            changed = assign(stored[0], **values)
            outcomes.append((stored[0], "updated" if changed else "unchanged", row.terms))
        else:
            item = SchoolClass(org_id=org_id, sourced_id=row.sourced_id, **values)
            session.add(item)
            outcomes.append((item, "created", row.terms))
    session.flush()
    ids.classes.update({item.sourced_id: item.id for item, _, _ in outcomes})
    moved = _write_terms(session, ids, [(item.id, terms) for item, _, terms in outcomes])
    for item, outcome, _ in outcomes:
        counts.count("updated" if outcome == "unchanged" and item.id in moved else outcome)
    listed = {r.sourced_id for r in roster.classes}
    for row in (r for r in roster.classes if r.deleted):
        school = ids.org(row.school) if row.school else None
        stored = [
            k
            for k in plan.world.classes.get(row.sourced_id, [])
            if school is None or k.org_id == school
        ]
        flipped = [assign(k, active=False) for k in stored]
        counts.count("deactivated" if any(flipped) else "unchanged")
    if roster.bulk("classes"):
        covered = [i for i in (ids.org(sid) for sid in plan.covered) if i is not None]
        for batch in chunks(covered):
            for item in session.scalars(
                select(SchoolClass).where(SchoolClass.org_id.in_(batch), SchoolClass.active)
            ):
                if item.sourced_id not in listed:
                    item.active = False
                    counts.count("deactivated")


def _write_terms(
    session: Session, ids: Ids, wanted: Iterable[tuple[int, tuple[str, ...]]]
) -> set[int]:
    """Make each class's terms the ones listed; the ids of classes whose terms changed."""
    desired = {
        class_id: {i for i in (ids.session(t) for t in terms) if i is not None}
        for class_id, terms in wanted
    }
    stored: dict[int, set[int]] = {class_id: set() for class_id in desired}
    for batch in chunks(sorted(desired)):
        for class_id, session_id in session.execute(
            select(ClassTerm.class_id, ClassTerm.session_id).where(ClassTerm.class_id.in_(batch))
        ):
            stored[class_id].add(session_id)
    added = [
        {"class_id": class_id, "session_id": session_id}
        for class_id, sessions in desired.items()
        for session_id in sorted(sessions - stored[class_id])
    ]
    changed = {row["class_id"] for row in added}
    for class_id, sessions in stored.items():
        for session_id in sessions - desired[class_id]:
            session.execute(
                delete(ClassTerm).where(
                    ClassTerm.class_id == class_id, ClassTerm.session_id == session_id
                )
            )
            changed.add(class_id)
    if added:
        session.execute(insert(table(ClassTerm)), added)
    return changed
