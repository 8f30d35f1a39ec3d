"""What a package says about its pupil besides statements: the xAPI Person with every linked
identifier, the pupil's roster rows (OneRoster 1.2, Japan Profile) and the portfolio as the UI
shows it. Read-only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.identity.models import (
    AcademicSession,
    ActorLink,
    ClassTerm,
    Enrollment,
    OrgMembership,
    Person,
    SchoolClass,
)
from records.models import Organisation, StoredStatement
from records.portability.clr import Achievement
from records.portfolio import timeline
from records.portfolio.access import Pupil
from records.portfolio.labels import read_statement
from records.portfolio.timeline import TimelineItem
from records.xapi import person_object

NO_TEXT = "先生が達成を認めました"  # the mark had no words; the CLR needs a narrative
SOURCED_ID_HOME = "oneroster/sourcedId"
MASTER_ID_HOME = "oneroster/userMasterIdentifier"


def identifiers(session: Session, person_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ActorLink.agent, ActorLink.source, Organisation.code)
        .outerjoin(Organisation, Organisation.id == ActorLink.org_id)
        .where(ActorLink.person_id == person_id)
        .order_by(ActorLink.id)
    )
    return [{"agent": agent, "source": source, "org": code} for agent, source, code in rows]


def account_names(found: list[dict[str, Any]], home_suffix: str) -> list[str]:
    """Names of the account identifiers whose homePage ends with `home_suffix`."""
    names = []
    for entry in found:
        account = entry["agent"].get("account") if isinstance(entry["agent"], Mapping) else None
        if isinstance(account, Mapping) and str(account.get("homePage", "")).endswith(home_suffix):
            names.append(str(account.get("name")))
    return names


def person_document(session: Session, person: Person) -> dict[str, Any]:
    found = identifiers(session, person.id)
    return {
        "publicId": person.public_id,
        "kind": person.kind,
        "names": {
            "family": person.family_name,
            "given": person.given_name,
            "middle": person.middle_name,
            "kanaFamily": person.kana_family_name,
            "kanaGiven": person.kana_given_name,
            "kanaMiddle": person.kana_middle_name,
        },
        "grade": person.grade,
        "xapiPerson": person_object(entry["agent"] for entry in found),
        "identifiers": found,
        "userMasterIdentifiers": account_names(found, MASTER_ID_HOME),
        "roster": {
            "user": user_row(person, found),
            "enrollments": roster_subset(session, person)["enrollments"],
        },
    }


def user_row(person: Person, found: list[dict[str, Any]]) -> dict[str, Any]:
    """The pupil as a OneRoster 1.2 user with the Japan Profile's metadata."""
    sourced = account_names(found, SOURCED_ID_HOME)
    master = account_names(found, MASTER_ID_HOME)
    details = dict(person.details or {})
    return {
        "sourcedId": sourced[0] if sourced else person.public_id,
        "status": "active" if person.active else "tobedeleted",
        "enabledUser": person.active,
        "userMasterIdentifier": master[0] if master else "",
        "givenName": person.given_name,
        "familyName": person.family_name,
        "middleName": person.middle_name,
        "roles": [{"roleType": "primary", "role": person.kind}],
        "grades": [person.grade] if person.grade else [],
        "metadata": {
            "jp.kanaGivenName": person.kana_given_name,
            "jp.kanaFamilyName": person.kana_family_name,
            "jp.kanaMiddleName": person.kana_middle_name,
            **{k if k.startswith("jp.") else f"jp.{k}": v for k, v in details.items()},
        },
    }


def roster_subset(session: Session, person: Person) -> dict[str, list[dict[str, Any]]]:
    """OneRoster 1.2 rows for this pupil only: their orgs, sessions, classes, enrollments."""
    found = identifiers(session, person.id)
    enrollments = list(session.scalars(select(Enrollment).where(Enrollment.person_id == person.id)))
    class_ids = {e.class_id for e in enrollments}
    classes = list(session.scalars(select(SchoolClass).where(SchoolClass.id.in_(class_ids))))
    terms = session.execute(
        select(ClassTerm.class_id, AcademicSession)
        .join(AcademicSession, AcademicSession.id == ClassTerm.session_id)
        .where(ClassTerm.class_id.in_(class_ids))
    ).all()
    org_ids = {c.org_id for c in classes} | {e.org_id for e in enrollments}
    org_ids |= set(
        session.scalars(select(OrgMembership.org_id).where(OrgMembership.person_id == person.id))
    )
    orgs = {
        o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))
    }
    sessions = {s.id: s for _, s in terms}
    class_terms: dict[int, list[str]] = {}
    for class_id, term in terms:
        class_terms.setdefault(class_id, []).append(term.sourced_id)
    by_class = {c.id: c for c in classes}
    user = user_row(person, found)
    return {
        "users": [user],
        "orgs": [_org_row(o) for o in orgs.values()],
        "academicSessions": [_session_row(s, orgs) for s in sessions.values()],
        "classes": [_class_row(c, orgs, class_terms.get(c.id, [])) for c in classes],
        "enrollments": [_enrollment_row(e, orgs, by_class, user["sourcedId"]) for e in enrollments],
    }


def _org_row(org: Organisation) -> dict[str, Any]:
    return {
        "sourcedId": org.sourced_id or org.code,
        "status": "active",
        "name": org.name,
        "type": org.kind,
        "identifier": org.code,
    }


def _session_row(s: AcademicSession, orgs: Mapping[int, Organisation]) -> dict[str, Any]:
    org = orgs.get(s.org_id)
    return {
        "sourcedId": s.sourced_id,
        "status": "active",
        "title": s.title,
        "type": s.session_type,
        "startDate": _day(s.start_date),
        "endDate": _day(s.end_date),
        "schoolYear": str(s.school_year),
        "orgSourcedId": (org.sourced_id or org.code) if org else None,
    }


def _class_row(
    c: SchoolClass, orgs: Mapping[int, Organisation], terms: list[str]
) -> dict[str, Any]:
    org = orgs.get(c.org_id)
    return {
        "sourcedId": c.sourced_id,
        "status": "active" if c.active else "tobedeleted",
        "title": c.title,
        "classCode": c.class_code,
        "classType": c.class_type,
        "grades": [g for g in c.grades.split(",") if g],
        "subjects": [s for s in c.subjects.split(",") if s],
        "schoolSourcedId": (org.sourced_id or org.code) if org else None,
        "termSourcedIds": terms,
    }


def _enrollment_row(
    e: Enrollment,
    orgs: Mapping[int, Organisation],
    classes: Mapping[int, SchoolClass],
    user_sourced_id: str,
) -> dict[str, Any]:
    org = orgs.get(e.org_id)
    klass = classes.get(e.class_id)
    return {
        "sourcedId": e.sourced_id,
        "status": "active" if e.active else "tobedeleted",
        "classSourcedId": klass.sourced_id if klass else None,
        "schoolSourcedId": (org.sourced_id or org.code) if org else None,
        "userSourcedId": user_sourced_id,
        "role": e.role,
        "primary": e.primary,
        "beginDate": _day(e.begin_date),
        "endDate": _day(e.end_date),
    }


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def portfolio_items(
    session: Session, pupil: Pupil, entry_ids: list[str], locale: str = "ja", chunk: int = 500
) -> Iterator[TimelineItem]:
    """The pupil's own portfolio entries (reflections, goals, works, activities), newest first,
    each as the timeline shows it: in plain words, with teachers' feedback and achievement
    marks. `entry_ids` come from the export's pass over the statements, so no second scan of
    the pupil's records is needed; entries are read a chunk at a time."""
    newest_first = list(reversed(entry_ids))
    for start in range(0, len(newest_first), chunk):
        ids = newest_first[start : start + chunk]
        rows: dict[str, dict[str, Any]] = dict(
            session.execute(
                select(StoredStatement.statement_id, StoredStatement.full).where(
                    StoredStatement.statement_id.in_(ids), StoredStatement.voided.is_(False)
                )
            ).all()
        )
        statements = [rows[i] for i in ids if i in rows]
        names = timeline._activity_names(session, statements, locale)
        feedback = timeline._feedback_for(session, [str(st["id"]) for st in statements])
        for st in statements:
            yield timeline._item(st, locale, names, feedback.get(str(st["id"]), ()), pupil)


def portfolio_entry(item: TimelineItem) -> dict[str, Any]:
    reading = item.reading
    return {
        "statementId": item.statement_id,
        "stored": item.stored.isoformat(),
        "kind": reading.kind,
        "entryKind": reading.entry_kind,
        "sentence": reading.sentence,
        "title": reading.object_name,
        "subjects": list(reading.subjects),
        "response": reading.response,
        "score": reading.score,
        "success": reading.success,
        "minutes": reading.minutes,
        "occurred": reading.occurred.isoformat() if reading.occurred else None,
        "prompt": item.prompt,
        "revises": item.revises,
        "ownEntry": item.own_entry,
        "attachments": [
            {"sha2": a.sha2, "contentType": a.content_type, "name": a.name}
            for a in item.attachments
        ],
        "feedback": [
            {
                "statementId": f.statement_id,
                "by": f.by,
                "text": f.text,
                "at": f.at.isoformat() if f.at else None,
                "achievement": f.achievement,
            }
            for f in item.feedback
        ],
        "achievement": item.achievement,
    }


def pupil_view(person: Person, agent_keys: tuple[str, ...]) -> Pupil:
    name = " ".join(p for p in (person.family_name, person.given_name) if p)
    kana = " ".join(p for p in (person.kana_family_name, person.kana_given_name) if p)
    return Pupil(
        person.id, person.public_id, name or person.public_id, kana, person.grade, agent_keys
    )


def recognised_achievements(session: Session, marks: list[dict[str, Any]]) -> list[Achievement]:
    """One achievement per teacher's mark (not withdrawn) on a statement of the pupil."""
    if not marks:
        return []
    targets = {str(m["object"]["id"]) for m in marks}
    found: dict[str, dict[str, Any]] = dict(
        session.execute(
            select(StoredStatement.statement_id, StoredStatement.full).where(
                StoredStatement.statement_id.in_(targets)
            )
        ).all()
    )
    achievements = []
    for mark in marks:
        target = found.get(str(mark["object"]["id"]))
        if target is None:
            continue
        reading = read_statement(target, "ja")
        response = (mark.get("result") or {}).get("response")
        achievements.append(
            Achievement(
                entry_statement_id=str(target["id"]),
                recognised_statement_id=str(mark["id"]),
                title=reading.object_name or reading.sentence,
                description=reading.sentence,
                criteria=response if isinstance(response, str) and response else NO_TEXT,
                recognised_at=datetime.fromisoformat(str(mark["stored"])),
            )
        )
    return achievements
