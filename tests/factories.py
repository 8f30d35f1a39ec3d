"""Factories for test data (build what a test needs; no shared dumps)."""

from __future__ import annotations

from typing import Any


def make_statement(**overrides: Any) -> dict[str, Any]:
    """A realistic school statement; keyword arguments replace top-level properties."""
    statement: dict[str, Any] = {
        "actor": {
            "objectType": "Agent",
            "name": "山田 花子",
            "account": {"homePage": "https://idp.example.jp/", "name": "pupil-0001"},
        },
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/completed",
            "display": {"ja": "完了した", "en-US": "completed"},
        },
        "object": {
            "objectType": "Activity",
            "id": "https://contents.example.jp/math/p4/fractions/unit-1",
            "definition": {
                "name": {"ja": "分数 第1単元", "en": "Fractions unit 1"},
                "type": "http://adlnet.gov/expapi/activities/lesson",
            },
        },
        "result": {"completion": True, "score": {"scaled": 0.8}, "duration": "PT12M30S"},
    }
    statement.update(overrides)
    return {k: v for k, v in statement.items() if v is not None}


def build_school_world(session: Any, service_url: str) -> dict[str, Any]:
    """Two schools; school A has classes 4年1組 (teacher T1; pupils P1, P2) and 4年2組 (T2; P3);
    school B has its own admin. Returns the people and orgs by name. Dates cover today."""
    from datetime import UTC, date, datetime, timedelta

    from records.identity.models import AcademicSession, ClassTerm, Enrollment, SchoolClass
    from records.identity.people import Names, create_person
    from records.organisations import create_organisation

    today = datetime.now(UTC).date()
    school_a = create_organisation(session, "B113210000015", "千代田区立第一小学校")
    school_b = create_organisation(session, "B113211000013", "千代田区立第二小学校")
    board = create_organisation(session, "131016", "千代田区教育委員会")
    year = AcademicSession(
        org_id=school_a.id,
        sourced_id="y2026",
        title="2026年度",
        session_type="schoolYear",
        start_date=today - timedelta(days=100),
        end_date=today + timedelta(days=100),
        school_year=today.year,
    )
    session.add(year)
    session.flush()
    people = {
        name: create_person(
            session, kind, Names(family=family, given=given), service_url, grade=grade
        )
        for name, kind, family, given, grade in [
            ("T1", "teacher", "佐藤", "一郎", None),
            ("T2", "teacher", "鈴木", "二郎", None),
            ("P1", "student", "山田", "花子", "P4"),
            ("P2", "student", "田中", "太郎", "P4"),
            ("P3", "student", "高橋", "三郎", "P4"),
        ]
    }
    classes = {}
    for code, title in [("4-1", "4年1組"), ("4-2", "4年2組")]:
        klass = SchoolClass(org_id=school_a.id, sourced_id=code, title=title, class_code=code)
        session.add(klass)
        session.flush()
        session.add(ClassTerm(class_id=klass.id, session_id=year.id))
        classes[code] = klass
    for n, (who, code, role) in enumerate(
        [
            ("T1", "4-1", "teacher"),
            ("P1", "4-1", "student"),
            ("P2", "4-1", "student"),
            ("T2", "4-2", "teacher"),
            ("P3", "4-2", "student"),
        ]
    ):
        session.add(
            Enrollment(
                org_id=school_a.id,
                sourced_id=f"e{n}",
                person_id=people[who].id,
                class_id=classes[code].id,
                role=role,
                begin_date=date(today.year - 1, 4, 1),
                end_date=None,
                active=True,
            )
        )
    session.flush()
    return {
        "people": people,
        "classes": classes,
        "school_a": school_a,
        "school_b": school_b,
        "board": board,
    }


PASSWORD = "correct horse battery staple"
# Accounts of build_school_world's people and admins: name -> (role, org code, person name).
SCHOOL_ACCOUNTS = {
    "P1": ("pupil", "B113210000015", "P1"),
    "P2": ("pupil", "B113210000015", "P2"),
    "P3": ("pupil", "B113210000015", "P3"),
    "T1": ("teacher", "B113210000015", "T1"),
    "T2": ("teacher", "B113210000015", "T2"),
    "adminA": ("school_admin", "B113210000015", None),
    "adminB": ("school_admin", "B113211000013", None),
    "analyst": ("board_analyst", "131016", None),
    "root": ("system_admin", "131016", None),
}


def add_school_accounts(session: Any, world: dict[str, Any]) -> dict[str, str]:
    """Sign-in accounts (password PASSWORD) for the world's people; returns name -> e-mail."""
    from records.identity.accounts import create_account

    emails = {}
    for name, (role, org, person) in SCHOOL_ACCOUNTS.items():
        email = f"{name.lower()}@school.example.jp"
        person_id = world["people"][person].id if person else None
        create_account(session, email, PASSWORD, role, org, person_id=person_id)
        emails[name] = email
    return emails
