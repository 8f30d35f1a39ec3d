"""OneRoster 1.2 CSV (Japan Profile) import: everything is created, re-imports change nothing,
deltas add, change and end rows, a broken package is refused whole with every problem, and a
pupil who moves school stays one person whose every identifier finds them."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import get_engine, new_session
from app.roster_cli import roster_cli
from records.codes import parse_school_code
from records.db import Base
from records.errors import BadRequestError, RecordsError
from records.identity.models import (
    AcademicSession,
    ActorLink,
    ClassTerm,
    Course,
    Enrollment,
    OrgMembership,
    Person,
    SchoolClass,
)
from records.identity.oneroster import (
    ImportReport,
    RosterRejectedError,
    RowError,
    import_roster,
)
from records.identity.people import own_agent, person_for_agent
from records.models import Organisation
from records.organisations import create_organisation
from tests.conftest import SERVICE_URL
from tests.fixtures.roster import (
    RosterBuilder,
    RosterFiles,
    Tokyo,
    school_code,
    sid,
    tokyo_roster,
)

TODAY = date(2026, 4, 10)
YESTERDAY = TODAY - timedelta(days=1)
ROSTER = f"{SERVICE_URL}oneroster/"

pytestmark = pytest.mark.db


def run(app: Flask, data: bytes, **options: Any) -> ImportReport:
    """Import as the CLI does: one session, commit."""
    with app.app_context(), new_session() as session:
        report = import_roster(
            session, data, service_url=SERVICE_URL, today=options.pop("today", TODAY), **options
        )
        session.commit()
    return report


def refused(app: Flask, data: bytes) -> list[RowError]:
    with app.app_context(), new_session() as session:
        with pytest.raises(RosterRejectedError) as caught:
            import_roster(session, data, service_url=SERVICE_URL, today=TODAY)
        session.rollback()
    assert isinstance(caught.value, BadRequestError)
    return list(caught.value.errors)


def snapshot(app: Flask) -> dict[str, list[str]]:
    """Every row of every table (repr), to compare before and after."""
    with app.app_context(), get_engine().connect() as conn:
        return {
            table.name: sorted(repr(tuple(row)) for row in conn.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


def row_counts(app: Flask) -> dict[str, int]:
    return {name: len(rows) for name, rows in snapshot(app).items()}


def query(app: Flask, work: Callable[[Session], Any]) -> Any:
    with app.app_context(), new_session() as session:
        return work(session)


def person_of(session: Session, sourced_id: str) -> Person:
    agent = {"account": {"homePage": f"{ROSTER}sourcedId", "name": sourced_id}}
    person = person_for_agent(session, agent)
    assert person is not None, sourced_id
    return person


def org(session: Session, sourced_id: str) -> Organisation:
    return session.scalars(select(Organisation).where(Organisation.sourced_id == sourced_id)).one()


def code_message(value: str) -> str:
    try:
        parse_school_code(value)
    except RecordsError as exc:
        return exc.message
    raise AssertionError(f"{value} is a valid school code")


@pytest.fixture
def tokyo() -> Tokyo:
    return tokyo_roster()


def test_bulk_import_creates_the_whole_roster(db_app: Flask, tokyo: Tokyo) -> None:
    report = run(db_app, tokyo.files.to_zip())

    assert {name: c.created for name, c in report.files.items()} == {
        "orgs.csv": 6,
        "academicSessions.csv": 3,
        "courses.csv": 3,
        "classes.csv": 6,
        "users.csv": 30,
        "roles.csv": 30,
        "enrollments.csv": 30,
    }
    assert report.people_created == 30
    assert report.identifiers_linked == 30 * 6
    counts = row_counts(db_app)
    assert counts["organisations"] == 6
    assert counts["people"] == 30
    assert counts["actor_links"] == 180
    assert counts["class_terms"] == 12
    assert counts["org_memberships"] == 30
    assert counts["enrollments"] == 30

    school_a, school_c = tokyo.schools[0], tokyo.schools[2]
    klass = tokyo.classes[school_a][0]
    pupil = tokyo.pupils[klass][0]
    pupil_row = tokyo.files.find("users", pupil)

    def check(s: Session) -> None:
        prefecture, chiyoda = org(s, tokyo.prefecture), org(s, tokyo.chiyoda)
        shibuya, a, c = org(s, tokyo.shibuya), org(s, school_a), org(s, school_c)
        assert (prefecture.kind, prefecture.code, prefecture.parent_id) == (
            "prefecture",
            "13",
            None,
        )
        assert (chiyoda.kind, chiyoda.code, chiyoda.parent_id) == (
            "municipality",
            "131016",
            prefecture.id,
        )
        assert (shibuya.code, shibuya.name) == ("131130", "渋谷区教育委員会")
        assert (a.kind, a.parent_id, a.name) == ("school", chiyoda.id, "千代田区立麹町小学校")
        assert a.code == tokyo.files.find("orgs", school_a)["identifier"]
        assert parse_school_code(a.code).school_type_name_ja == "小学校"
        assert c.parent_id == shibuya.id

        year = s.scalars(
            select(AcademicSession).where(AcademicSession.sourced_id == tokyo.sessions[0])
        ).one()
        assert (year.title, year.session_type, year.school_year) == ("2026年度", "schoolYear", 2026)
        assert (year.start_date, year.end_date) == (date(2026, 4, 1), date(2027, 3, 31))
        assert year.org_id == prefecture.id  # the smallest subtree holding all three schools
        terms = s.scalars(select(AcademicSession).where(AcademicSession.parent_id == year.id))
        assert sorted(t.title for t in terms) == ["2026年度 前期", "2026年度 後期"]

        room = s.scalars(select(SchoolClass).where(SchoolClass.sourced_id == klass)).one()
        assert (room.title, room.grades, room.class_type, room.org_id, room.active) == (
            "4年1組",
            "P4",
            "homeroom",
            a.id,
            True,
        )
        course = s.get(Course, room.course_id)
        assert course is not None
        assert (course.title, course.org_id) == ("4年 学級活動", a.id)
        assert s.scalar(select(func.count()).where(ClassTerm.class_id == room.id)) == 2

        person = person_of(s, pupil)
        assert (person.kind, person.grade, person.active) == ("student", "P4", True)
        assert (person.family_name, person.given_name) == (
            pupil_row["familyName"],
            pupil_row["givenName"],
        )
        assert (person.kana_family_name, person.kana_given_name) == (
            pupil_row["metadata.jp.kanaFamilyName"],
            pupil_row["metadata.jp.kanaGivenName"],
        )
        assert person.details == {
            "homeClass": klass,
            "enabledUser": True,
            "ShussekiNo": 1,
            "PublicFlg": True,
        }
        links = s.scalars(select(ActorLink).where(ActorLink.person_id == person.id)).all()
        assert sorted(link.source for link in links) == ["oneroster"] * 5 + ["own"]
        assert {link.org_id for link in links if link.source == "oneroster"} == {a.id}
        membership = s.scalars(
            select(OrgMembership).where(OrgMembership.person_id == person.id)
        ).one()
        assert (membership.org_id, membership.role, membership.begin_date) == (
            a.id,
            "student",
            date(2026, 4, 1),
        )
        enrollment = s.scalars(select(Enrollment).where(Enrollment.person_id == person.id)).one()
        assert (enrollment.class_id, enrollment.role, enrollment.primary) == (
            room.id,
            "student",
            False,
        )
        assert (enrollment.begin_date, enrollment.end_date, enrollment.active) == (
            date(2026, 4, 1),
            None,
            True,
        )

        teacher = person_of(s, tokyo.teachers[klass])
        assert (teacher.kind, teacher.grade, teacher.details) == (
            "teacher",
            None,
            {"enabledUser": True},
        )
        teaching = s.scalars(select(Enrollment).where(Enrollment.person_id == teacher.id)).one()
        assert (teaching.role, teaching.primary) == ("teacher", True)

    query(db_app, check)


def test_importing_the_same_package_again_changes_nothing(db_app: Flask, tokyo: Tokyo) -> None:
    data = tokyo.files.to_zip()
    run(db_app, data)
    before = snapshot(db_app)

    report = run(db_app, data, today=TODAY + timedelta(days=30))

    assert snapshot(db_app) == before
    assert not report.changed
    assert report.files["users.csv"].unchanged == 30
    assert report.people_created == report.identifiers_linked == 0


def _delta_rows(files: RosterFiles, table: str, sourced_id: str, **changes: str) -> dict[str, str]:
    row = dict(files.find(table, sourced_id))
    row.update(changes)
    return row


def test_a_delta_adds_changes_and_ends_rows(db_app: Flask, tokyo: Tokyo) -> None:
    run(db_app, tokyo.files.to_zip())
    school = tokyo.schools[0]
    klass = tokyo.classes[school][0]
    renamed, leaving = tokyo.pupils[klass][0], tokyo.pupils[klass][1]
    updated_before = query(db_app, lambda s: person_of(s, renamed).updated_at)

    delta = RosterFiles()
    delta.rows("users").append(
        _delta_rows(
            tokyo.files,
            "users",
            renamed,
            familyName="山田",
            **{"metadata.jp.kanaFamilyName": "ヤマダ"},
        )
    )
    delta.rows("users").append(_delta_rows(tokyo.files, "users", leaving, status="tobedeleted"))
    for table in ("roles", "enrollments"):
        for row in tokyo.files.where(table, userSourcedId=leaving):
            delta.rows(table).append({**row, "status": "tobedeleted"})
    newcomer = RosterBuilder(files=delta, first_person=500).pupil(
        school, klass, 4, 5, "kojimachi-es.chiyoda.example.jp"
    )
    data = delta.to_zip("delta")

    report = run(db_app, data)

    assert report.modes == {"users.csv": "delta", "roles.csv": "delta", "enrollments.csv": "delta"}
    assert report.files["users.csv"].as_dict() == {
        "created": 1,
        "updated": 1,
        "deactivated": 1,
        "unchanged": 0,
    }
    assert report.files["enrollments.csv"].as_dict() == {
        "created": 1,
        "updated": 0,
        "deactivated": 1,
        "unchanged": 0,
    }
    assert report.files["roles.csv"].as_dict() == {
        "created": 1,
        "updated": 0,
        "deactivated": 1,
        "unchanged": 0,
    }

    def check(s: Session) -> None:
        person = person_of(s, renamed)
        assert (person.family_name, person.kana_family_name) == ("山田", "ヤマダ")
        assert person.updated_at > updated_before
        gone = person_of(s, leaving)
        assert gone.active is False
        enrollment = s.scalars(select(Enrollment).where(Enrollment.person_id == gone.id)).one()
        assert (enrollment.active, enrollment.end_date) == (False, YESTERDAY)
        membership = s.scalars(
            select(OrgMembership).where(OrgMembership.person_id == gone.id)
        ).one()
        assert membership.end_date == YESTERDAY
        new = person_of(s, newcomer)
        assert (new.kind, new.active, new.details["ShussekiNo"]) == ("student", True, 5)
        assert s.scalar(select(func.count()).select_from(Person)) == 31

    query(db_app, check)
    before = snapshot(db_app)
    again = run(db_app, data)
    assert snapshot(db_app) == before
    assert not again.changed


def test_a_broken_package_is_refused_whole_with_every_problem(db_app: Flask, tokyo: Tokyo) -> None:
    run(db_app, tokyo.files.to_zip())
    before = snapshot(db_app)
    broken = tokyo.files.copy()
    school = tokyo.schools[1]
    good_code = broken.find("orgs", school)["identifier"]
    bad_code = good_code[:-1] + str((int(good_code[-1]) + 1) % 10)
    broken.find("orgs", school)["identifier"] = bad_code
    term = tokyo.sessions[1]
    broken.find("academicSessions", term)["startDate"] = "2026/04/01"
    broken.drop_column("users", "familyName")
    enrollment = broken.rows("enrollments")[7]
    missing_class = sid("class:nowhere")
    enrollment["classSourcedId"] = missing_class

    errors = refused(db_app, broken.to_zip())

    assert errors == [
        RowError("orgs.csv", broken.line("orgs", school), "identifier", code_message(bad_code)),
        RowError(
            "academicSessions.csv",
            broken.line("academicSessions", term),
            "startDate",
            "is '2026/04/01'; expected a date YYYY-MM-DD, e.g. 2026-04-01",
        ),
        RowError("users.csv", 1, "familyName", "required column is missing from the header"),
        RowError(
            "enrollments.csv",
            9,
            "classSourcedId",
            f"no row of classes.csv (a bulk file) has sourcedId {missing_class!r}",
        ),
    ]
    assert "wrong check digit" in errors[0].message
    assert snapshot(db_app) == before


def test_nothing_is_written_when_a_first_import_is_refused(db_app: Flask, tokyo: Tokyo) -> None:
    empty = row_counts(db_app)
    broken = tokyo.files.copy()
    broken.rows("users")[3]["enabledUser"] = "yes"
    with pytest.raises(RosterRejectedError) as caught:
        run(db_app, broken.to_zip())
    assert [str(e) for e in caught.value.errors] == [
        "users.csv:5:enabledUser: is 'yes'; expected true or false"
    ]
    assert "1 problem" in caught.value.message
    assert row_counts(db_app) == empty


def _move(tokyo: Tokyo, files: RosterFiles, pupil: str) -> tuple[str, str, str]:
    """Rows of the pupil at their new school (神宮前小 4年1組): new sourcedId, username,
    e-mail and Google id, the same userMasterIdentifier. Returns (user, school, class)."""
    school = tokyo.schools[2]
    klass = tokyo.classes[school][0]
    new = RosterBuilder(files=files, first_person=900).pupil(
        school, klass, 4, 5, "jingumae-es.shibuya.example.jp"
    )
    old_row = tokyo.files.find("users", pupil)
    new_row = files.find("users", new)
    new_row.update(
        userMasterIdentifier=old_row["userMasterIdentifier"],
        givenName=old_row["givenName"],
        familyName=old_row["familyName"],
        **{k: old_row[k] for k in ("metadata.jp.kanaGivenName", "metadata.jp.kanaFamilyName")},
    )
    return new, school, klass


@pytest.mark.parametrize("mode", ["delta", "bulk"])
def test_a_pupil_who_moves_school_stays_one_person(db_app: Flask, tokyo: Tokyo, mode: str) -> None:
    run(db_app, tokyo.files.to_zip())
    old_school = tokyo.schools[0]
    pupil = tokyo.pupils[tokyo.classes[old_school][0]][2]
    old_id = query(db_app, lambda s: person_of(s, pupil).id)
    if mode == "delta":
        files = RosterFiles()
        files.rows("users").append(_delta_rows(tokyo.files, "users", pupil, status="tobedeleted"))
        for table in ("roles", "enrollments"):
            for row in tokyo.files.where(table, userSourcedId=pupil):
                files.rows(table).append({**row, "status": "tobedeleted"})
    else:
        files = tokyo.files.copy()
        for table, column in (
            ("users", "sourcedId"),
            ("roles", "userSourcedId"),
            ("enrollments", "userSourcedId"),
        ):
            files.tables[table] = [r for r in files.rows(table) if r[column] != pupil]
    new_user, new_school, new_class = _move(tokyo, files, pupil)

    report = run(db_app, files.to_zip(mode))

    assert report.people_created == 0
    old_row, new_row = tokyo.files.find("users", pupil), files.find("users", new_user)

    def check(s: Session) -> None:
        person = person_of(s, new_user)
        assert person.id == old_id == person_of(s, pupil).id
        assert person.active is True
        assert person.details["homeClass"] == new_class
        assert person.details["ShussekiNo"] == 5
        enrollments = s.scalars(
            select(Enrollment).where(Enrollment.person_id == person.id).order_by(Enrollment.id)
        ).all()
        assert [(e.org_id, e.active, e.end_date) for e in enrollments] == [
            (org(s, old_school).id, False, YESTERDAY),
            (org(s, new_school).id, True, None),
        ]
        memberships = s.scalars(
            select(OrgMembership)
            .where(OrgMembership.person_id == person.id)
            .order_by(OrgMembership.id)
        ).all()
        assert [(m.org_id, m.end_date) for m in memberships] == [
            (org(s, old_school).id, YESTERDAY),
            (org(s, new_school).id, None),
        ]
        agents = [
            {"account": {"homePage": f"{ROSTER}sourcedId", "name": pupil}},
            {"account": {"homePage": f"{ROSTER}sourcedId", "name": new_user}},
            {
                "account": {
                    "homePage": f"{ROSTER}userMasterIdentifier",
                    "name": old_row["userMasterIdentifier"],
                }
            },
            {"account": {"homePage": f"{ROSTER}username", "name": old_row["username"]}},
            {"account": {"homePage": f"{ROSTER}username", "name": new_row["username"]}},
            {"account": {"homePage": "https://accounts.google.com", "name": old_row["email"]}},
            {"account": {"homePage": "https://accounts.google.com", "name": new_row["email"]}},
            {"mbox": f"mailto:{old_row['email']}"},
            {"mbox": f"mailto:{new_row['email']}"},
            own_agent(person.public_id, SERVICE_URL),
        ]
        for agent in agents:
            found = person_for_agent(s, agent)
            assert found is not None, agent
            assert found.id == person.id, agent
        assert s.scalar(select(func.count()).where(ActorLink.person_id == person.id)) == 10

    query(db_app, check)
    before = snapshot(db_app)
    assert not run(db_app, files.to_zip(mode)).changed
    assert snapshot(db_app) == before


def test_identifiers_from_the_roster_find_the_person(db_app: Flask, tokyo: Tokyo) -> None:
    run(db_app, tokyo.files.to_zip())
    teacher = tokyo.teachers[tokyo.classes[tokyo.schools[1]][1]]
    row = tokyo.files.find("users", teacher)
    domain = row["email"].split("@")[1]  # an e-mail domain is case-insensitive

    def check(s: Session) -> None:
        person = person_of(s, teacher)
        for agent in (
            {
                "objectType": "Agent",
                "account": {"homePage": "https://accounts.google.com", "name": row["email"]},
            },
            {"mbox": f"mailto:{row['email']}"},
            {"mbox": "mailto:{}@{}".format(*row["email"].split("@")[:1], domain.upper())},
            {"account": {"homePage": f"{ROSTER}username", "name": row["username"]}},
            {
                "account": {
                    "homePage": f"{ROSTER}userMasterIdentifier",
                    "name": row["userMasterIdentifier"],
                }
            },
        ):
            found = person_for_agent(s, agent)
            assert found is not None, agent
            assert found.id == person.id, agent
        unknown = {"account": {"homePage": f"{ROSTER}sourcedId", "name": "someone-else"}}
        assert person_for_agent(s, unknown) is None

    query(db_app, check)


def test_identifiers_of_two_people_need_a_merge_first(db_app: Flask, tokyo: Tokyo) -> None:
    run(db_app, tokyo.files.to_zip())
    klass = tokyo.classes[tokyo.schools[0]][0]
    first, second = tokyo.pupils[klass][0], tokyo.pupils[klass][1]
    second_row = tokyo.files.find("users", second)
    delta = RosterFiles()
    delta.rows("users").append(
        _delta_rows(
            tokyo.files, "users", first, userMasterIdentifier=second_row["userMasterIdentifier"]
        )
    )
    newcomer = RosterBuilder(files=delta, first_person=700).pupil(
        tokyo.schools[0], klass, 4, 9, "kojimachi-es.chiyoda.example.jp"
    )
    delta.find("users", newcomer)["username"] = second_row["username"]
    before = snapshot(db_app)

    errors = refused(db_app, delta.to_zip("delta"))

    public = query(
        db_app, lambda s: (person_of(s, first).public_id, person_of(s, second).public_id)
    )
    assert errors == [
        RowError(
            "users.csv",
            2,
            "userMasterIdentifier",
            f"userMasterIdentifier {second_row['userMasterIdentifier']!r} belongs to person "
            f"{public[1]} but sourcedId {first!r} to person {public[0]}: merge these people first",
        ),
        RowError(
            "users.csv",
            3,
            "username",
            f"username {second_row['username']!r} already identifies another person, "
            f"{public[1]}; an identifier names one person (correct it, or merge the two people "
            "first)",
        ),
    ]
    assert snapshot(db_app) == before


def test_csv_details_bom_quotes_multiline_cells_and_a_folder(db_app: Flask, tokyo: Tokyo) -> None:
    files = tokyo.files.copy()
    first, second = files.rows("classes")[0], files.rows("classes")[1]
    first["title"] = '4年1組 "きく", 午前\n(特別)'
    second["classType"] = "homeRoom"
    data = files.to_zip(bom=True, folder="roster/")

    errors = refused(db_app, data)

    assert errors == [
        RowError(
            "classes.csv",
            3,
            "classType",
            "is 'homeRoom'; expected one of homeroom, scheduled or an extension 'ext:...'",
        )
    ]
    second["classType"] = "homeroom"
    run(db_app, files.to_zip(bom=True, folder="roster/"))
    title = query(
        db_app,
        lambda s: s.scalars(
            select(SchoolClass.title).where(SchoolClass.sourced_id == first["sourcedId"])
        ).one(),
    )
    assert title == '4年1組 "きく", 午前\n(特別)'


def _edit_manifest(data: bytes, old: bytes, new: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == "manifest.csv":
                assert old in content
                content = content.replace(old, new)
            dst.writestr(item, content)
    return out.getvalue()


def test_the_manifest_must_describe_the_package(db_app: Flask, tokyo: Tokyo) -> None:
    data = tokyo.files.to_zip()
    missing = _edit_manifest(data, b"file.demographics,absent", b"file.demographics,bulk")
    assert [str(e) for e in refused(db_app, missing)] == [
        "manifest.csv:10:value: file.demographics is 'bulk' but the zip has no demographics.csv"
    ]
    old = _edit_manifest(data, b"oneroster.version,1.2", b"oneroster.version,1.1")
    assert [str(e) for e in refused(db_app, old)] == [
        "manifest.csv:3:value: oneroster.version is '1.1'; this importer reads 1.2"
    ]
    unlisted = _edit_manifest(data, b"file.users,bulk", b"file.users,absent")
    assert [str(e) for e in refused(db_app, unlisted)] == [
        "manifest.csv:24:value: users.csv is in the zip but file.users is 'absent'; say 'bulk' "
        "or 'delta', or leave the file out"
    ]
    assert [str(e) for e in refused(db_app, b"not a zip")] == [
        ":0:: the upload is not a zip archive (a OneRoster CSV package is one)"
    ]
    assert row_counts(db_app)["organisations"] == 0


def test_progress_is_reported(db_app: Flask, tokyo: Tokyo) -> None:
    calls: list[tuple[int, int]] = []
    run(db_app, tokyo.files.to_zip(), progress=lambda done, total: calls.append((done, total)))
    assert len(calls) > 3
    assert calls[-1][0] == calls[-1][1]
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_cli_imports_and_refuses(db_app: Flask, tokyo: Tokyo, tmp_path: Path) -> None:
    if "roster" not in db_app.cli.commands:
        db_app.cli.add_command(roster_cli)
    good, bad = tmp_path / "roster.zip", tmp_path / "broken.zip"
    good.write_bytes(tokyo.files.to_zip())
    broken = tokyo.files.copy()
    broken.rows("orgs")[3]["identifier"] = "B113200000010"
    bad.write_bytes(broken.to_zip())
    runner = db_app.test_cli_runner()

    result = runner.invoke(args=["roster", "import", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"orgs.csv:5:identifier: {code_message('B113200000010')}",
        "roster refused: 1 problem; nothing was imported",
    ]
    assert row_counts(db_app)["organisations"] == 0

    result = runner.invoke(args=["roster", "import", str(good), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["files"]["users.csv"]["created"] == 30

    result = runner.invoke(args=["roster", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "users.csv" in result.stdout
    assert "30 unchanged" in result.stdout

    result = runner.invoke(args=["roster", "import", str(bad), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["errors"][0]["line"] == 5


def test_an_org_created_by_hand_is_adopted_by_its_code(db_app: Flask, tokyo: Tokyo) -> None:
    school = tokyo.schools[0]
    code = tokyo.files.find("orgs", school)["identifier"]
    with db_app.app_context(), new_session() as session:
        create_organisation(session, code, "麹町小")
        session.commit()

    report = run(db_app, tokyo.files.to_zip())

    assert report.files["orgs.csv"].as_dict() == {
        "created": 5,
        "updated": 1,
        "deactivated": 0,
        "unchanged": 0,
    }
    adopted = query(db_app, lambda s: org(s, school))
    assert (adopted.code, adopted.name, adopted.kind) == (code, "千代田区立麹町小学校", "school")
    assert row_counts(db_app)["organisations"] == 6


def test_oneroster_11_user_columns_and_japan_metadata_on_users(db_app: Flask, tokyo: Tokyo) -> None:
    files = tokyo.files.copy()
    files.columns["users"] += ["orgSourcedIds", "role", "metadata.jp.ShussekiNo"]
    roles = {r["userSourcedId"]: r for r in files.rows("roles")}
    for row in files.rows("users"):
        row["orgSourcedIds"] = roles[row["sourcedId"]]["orgSourcedId"]
        row["role"] = roles[row["sourcedId"]]["role"]
    del files.tables["roles"]
    klass = tokyo.classes[tokyo.schools[1]][0]
    pupil, other = tokyo.pupils[klass][0], tokyo.pupils[klass][1]
    files.find("users", pupil)["metadata.jp.ShussekiNo"] = "\uff12\uff11"  # full-width 21 (IME)
    header = files.columns["enrollments"]  # the K-12 schools profile spells it shussekiNo
    header[header.index("metadata.jp.ShussekiNo")] = "metadata.jp.shussekiNo"
    for row in files.rows("enrollments"):
        row["metadata.jp.shussekiNo"] = row.pop("metadata.jp.ShussekiNo")

    run(db_app, files.to_zip())

    def check(s: Session) -> None:
        assert person_of(s, pupil).details["ShussekiNo"] == 21  # users.csv wins
        assert person_of(s, other).details["ShussekiNo"] == 2  # from the enrollment
        teacher = person_of(s, tokyo.teachers[klass])
        assert teacher.kind == "teacher"
        membership = s.scalars(
            select(OrgMembership).where(OrgMembership.person_id == teacher.id)
        ).one()
        assert (membership.role, membership.org_id) == ("teacher", org(s, tokyo.schools[1]).id)

    query(db_app, check)


def test_rows_of_one_person_in_one_package_are_one_person(db_app: Flask, tokyo: Tokyo) -> None:
    files = tokyo.files.copy()
    klass = tokyo.classes[tokyo.schools[0]][1]
    pupil = tokyo.pupils[klass][0]
    twin = RosterBuilder(files=files, first_person=800).pupil(
        tokyo.schools[0], klass, 4, 9, "kojimachi-es.chiyoda.example.jp"
    )
    files.find("users", twin)["userMasterIdentifier"] = files.find("users", pupil)[
        "userMasterIdentifier"
    ]

    report = run(db_app, files.to_zip())

    assert report.people_created == 30
    assert report.files["users.csv"].as_dict() == {
        "created": 30,
        "updated": 1,
        "deactivated": 0,
        "unchanged": 0,
    }
    ids = query(db_app, lambda s: {person_of(s, pupil).id, person_of(s, twin).id})
    assert len(ids) == 1


def test_a_user_a_bulk_file_no_longer_lists_is_ended(db_app: Flask, tokyo: Tokyo) -> None:
    run(db_app, tokyo.files.to_zip())
    klass = tokyo.classes[tokyo.schools[2]][1]
    leaver = tokyo.pupils[klass][3]
    files = tokyo.files.copy()
    for table, column in (
        ("users", "sourcedId"),
        ("roles", "userSourcedId"),
        ("enrollments", "userSourcedId"),
    ):
        files.tables[table] = [r for r in files.rows(table) if r[column] != leaver]
    files.find("classes", klass)["title"] = "4年2組 (ひまわり)"

    report = run(db_app, files.to_zip())

    assert report.files["users.csv"].as_dict() == {
        "created": 0,
        "updated": 0,
        "deactivated": 1,
        "unchanged": 29,
    }
    assert report.files["enrollments.csv"].deactivated == 1
    assert report.files["roles.csv"].deactivated == 1
    assert report.files["classes.csv"].updated == 1

    def check(s: Session) -> None:
        person = person_of(s, leaver)
        assert person.active is False
        enrollment = s.scalars(select(Enrollment).where(Enrollment.person_id == person.id)).one()
        assert (enrollment.active, enrollment.end_date) == (False, YESTERDAY)
        assert s.scalar(select(func.count()).select_from(Person).where(Person.active)) == 29

    query(db_app, check)
    before = snapshot(db_app)
    assert not run(db_app, files.to_zip()).changed
    assert snapshot(db_app) == before


def test_row_problems_of_identifiers_and_deleted_references(db_app: Flask, tokyo: Tokyo) -> None:
    run(db_app, tokyo.files.to_zip())
    klass = tokyo.classes[tokyo.schools[0]][0]
    pupil, other = tokyo.pupils[klass][0], tokyo.pupils[klass][1]
    delta = RosterFiles()
    delta.rows("users").append(
        _delta_rows(tokyo.files, "users", pupil, email="taro@", userIds="Google:taro")
    )
    delta.rows("users").append(_delta_rows(tokyo.files, "users", other, status="tobedeleted"))
    delta.rows("classes").append({**tokyo.files.find("classes", klass), "status": "tobedeleted"})
    delta.rows("enrollments").append(tokyo.files.where("enrollments", userSourcedId=other)[0])

    errors = refused(db_app, delta.to_zip("delta"))

    assert [(e.file, e.line, e.column) for e in errors] == [
        ("users.csv", 2, "userIds"),
        ("users.csv", 2, "metadata.jp.homeClass"),
        ("users.csv", 2, "email"),
        ("enrollments.csv", 2, "userSourcedId"),
        ("enrollments.csv", 2, "classSourcedId"),
    ]
    assert errors[0].message.startswith("is 'Google:taro'; expected {type:id} entries")
    assert errors[1].message == f"{klass!r} is deleted by classes.csv line 2 (status tobedeleted)"
    assert "'taro@' cannot identify a person" in errors[2].message
    assert errors[3].message == f"{other!r} is deleted by users.csv line 3 (status tobedeleted)"


def test_a_class_deleted_by_a_delta_is_deactivated(db_app: Flask, tokyo: Tokyo) -> None:
    run(db_app, tokyo.files.to_zip())
    klass = tokyo.classes[tokyo.schools[2]][1]
    delta = RosterFiles()
    delta.add("classes", sourcedId=klass, status="tobedeleted")

    report = run(db_app, delta.to_zip("delta"))

    assert report.files["classes.csv"].deactivated == 1
    active = query(
        db_app,
        lambda s: s.scalars(
            select(SchoolClass.active).where(SchoolClass.sourced_id == klass)
        ).one(),
    )
    assert active is False


def test_the_org_tree_follows_its_rules(db_app: Flask, tokyo: Tokyo) -> None:
    files = tokyo.files.copy()
    osaka_school = school_code("B1", "27", 5)
    files.find("orgs", tokyo.schools[1])["identifier"] = osaka_school
    files.add(
        "orgs",
        sourcedId=sid("org:272001"),
        name="大阪市教育委員会",
        type="district",
        identifier="271004",
        parentSourcedId=tokyo.prefecture,
    )
    files.find("orgs", tokyo.chiyoda)["parentSourcedId"] = tokyo.schools[0]

    errors = refused(db_app, files.to_zip())

    assert [str(e) for e in errors] == [
        f"orgs.csv:3:parentSourcedId: a municipality cannot belong to a school "
        f"({files.find('orgs', tokyo.schools[0])['identifier']})",
        "orgs.csv:3:parentSourcedId: the org tree loops: "
        f"{tokyo.chiyoda} -> {tokyo.schools[0]} -> {tokyo.chiyoda}",
        "orgs.csv:5:parentSourcedId: the org tree loops: "
        f"{tokyo.schools[0]} -> {tokyo.chiyoda} -> {tokyo.schools[0]}",
        f"orgs.csv:6:parentSourcedId: school {osaka_school} is in prefecture 27, not 13",
        "orgs.csv:8:parentSourcedId: municipality 271004 lies in prefecture 27, not 13",
    ]


def test_boards_without_a_parent_go_under_their_prefecture(db_app: Flask, tokyo: Tokyo) -> None:
    with db_app.app_context(), new_session() as session:  # the tree's top, made by hand
        create_organisation(session, "13", "東京都", kind="prefecture")
        session.commit()
    files = tokyo.files.copy()
    files.tables["orgs"] = [r for r in files.rows("orgs") if r["sourcedId"] != tokyo.prefecture]
    for board in (tokyo.chiyoda, tokyo.shibuya):
        files.find("orgs", board)["parentSourcedId"] = ""

    run(db_app, files.to_zip())

    def check(s: Session) -> None:
        tokyo_to = s.scalars(select(Organisation).where(Organisation.code == "13")).one()
        assert org(s, tokyo.chiyoda).parent_id == org(s, tokyo.shibuya).parent_id == tokyo_to.id
        owners = s.scalars(select(AcademicSession.org_id)).all()
        assert owners == [tokyo_to.id] * 3

    query(db_app, check)
