"""`flask --app app demo seed`: a synthetic world for the board dashboard, through the real
ingest path.

Three prefectures (東京都, 大阪府, 沖縄県), two real municipalities each, schools with classes and
pupils enrolled since April, and this school year's statements up to yesterday, POSTed to
/xapi/statements with each school's device credential (validation, storage and indexing exactly
as for a device). Rhythms: school days (records.school_calendar: weekdays that are not
national holidays, outside the summer, winter and spring breaks) carry most learning, in lesson
hours; some pupils also learn in the evening, at weekends and in the breaks. Regional
differences are built in (activity, minutes and scores differ by prefecture and municipality)
and one school is too small to be shown (disclosure control).
Then the rollups are brought up to date. Seeding again changes nothing.

Demo sign-ins (password DEMO_PASSWORD): analyst-13@demo.example.jp (東京都's board),
analyst-131016@demo.example.jp (千代田区's), admin@demo.example.jp (system admin, the nation).
"""

from __future__ import annotations

import base64
import json
import logging
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from app.db import new_session
from app.jobs import refresh_rollups
from app.urls import public_url
from records.codes import municipality_name, prefecture_name, school_code_check_digit
from records.credentials import create_credential, parse_scopes
from records.errors import RecordsError
from records.identity.accounts import create_account
from records.identity.models import AcademicSession, Enrollment, SchoolClass
from records.identity.people import Names, create_person, own_agent
from records.models import Organisation
from records.organisations import create_organisation, get_organisation
from records.school_calendar import JST, is_school_day, school_year

DEMO_PASSWORD = "ashiato-demo-2026"  # noqa: S105 - synthetic demo accounts, printed on purpose
BATCH = 250
# prefecture -> (activity base, score base, [(municipality code, effect), ...])
WORLD: dict[str, tuple[float, float, list[tuple[str, float]]]] = {
    "13": (0.78, 0.72, [("131016", 0.06), ("131130", -0.04)]),
    "27": (0.62, 0.64, [("271004", 0.02), ("272035", -0.10)]),
    "47": (0.48, 0.58, [("472018", 0.04), ("472140", -0.12)]),
}
SCHOOLS_PER_MUNICIPALITY = 2
FAMILY = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
GIVEN = ["陽翔", "蓮", "湊", "結菜", "陽葵", "凛", "葵", "大和", "芽依", "悠真"]
SUBJECTS = ["math", "japanese", "science", "social", "english"]


@dataclass(frozen=True, slots=True)
class Pupil:
    public_id: str
    activity: float  # chance of learning on a school day
    score: float  # typical scaled score
    evening: bool


@click.command("seed")
@click.option("--pupils", default=30, show_default=True, help="Pupils per ordinary school.")
@click.option("--seed", "seed_value", default=2026, show_default=True)
@with_appcontext
def seed(pupils: int, seed_value: int) -> None:
    """Generate the demo world and a school year of statements (idempotent); the `demo` group
    has brought the database to the latest schema already."""
    with new_session() as session:
        try:
            get_organisation(session, "13")
        except RecordsError:
            pass
        else:
            click.echo("the demo world is there already; bringing the rollups up to date")
            refresh_rollups()
            return
    today = datetime.now(JST).date()
    first = date(school_year(today), 4, 1)
    # Fifty thousand ingest requests need no access-log line each on the console.
    access = logging.getLogger("ashiato.access")
    level = access.level
    access.setLevel(logging.WARNING)
    try:
        schools, total = seed_world(
            random.Random(seed_value),  # noqa: S311 - synthetic data, reproducible by seed
            pupils,
            first,
            today,
            progress=click.echo,
        )
    finally:
        access.setLevel(level)
    click.echo(
        f"seeded {schools} schools and {total} statements from {first} to {today}\n"
        f"sign in as pupil@demo.example.jp, teacher@demo.example.jp, "
        f"school-admin@demo.example.jp, analyst-13@demo.example.jp, "
        f"analyst-131016@demo.example.jp or admin@demo.example.jp "
        f"with the password {DEMO_PASSWORD}"
    )


def seed_world(
    rng: random.Random,
    pupils: int,
    first: date,
    today: date,
    progress: Callable[[str], None] | None = None,
) -> tuple[int, int]:
    """Build the world, POST its statements from `first` to the day before `today` and roll
    them up; returns (schools, statements). Needs an app context."""
    schools = _build_world(rng, pupils, first)
    client = current_app.test_client()
    total = 0
    for school in schools:
        for batch in _batches(_statements(rng, school["pupils"], first, today), BATCH):
            answer = client.post(
                "/xapi/statements",
                data=json.dumps(batch),
                headers={**school["headers"], "Content-Type": "application/json"},
            )
            if answer.status_code != 200:
                raise click.ClickException(f"ingest refused a batch: {answer.get_data(True)}")
            total += len(batch)
        if progress is not None:
            progress(f"  {school['name']}: {len(school['pupils'])} pupils, statements {total}")
    refresh_rollups(full=True)
    return len(schools), total


def _build_world(rng: random.Random, pupils: int, first: date) -> list[dict[str, Any]]:
    hash_key = current_app.config["CREDENTIAL_HASH_KEY"].encode("utf-8")
    schools: list[dict[str, Any]] = []
    number = 0
    with new_session() as session:
        for pref, (activity, score, municipalities) in WORLD.items():
            create_organisation(session, pref, prefecture_name(pref), kind="prefecture")
            for muni, effect in municipalities:
                muni_name = municipality_name(muni) or muni
                create_organisation(session, muni, muni_name, kind="municipality")
                for n in range(SCHOOLS_PER_MUNICIPALITY):
                    number += 1
                    first12 = f"B1{pref}2{number:07d}"
                    code = first12 + school_code_check_digit(first12)
                    name = f"{muni_name}立第{n + 1}小学校"
                    org = create_organisation(session, code, name, kind="school", parent_code=muni)
                    # The last school of 沖縄県 is tiny: its figures are never shown.
                    size = 6 if (pref, n) == ("47", 1) and muni == municipalities[-1][0] else pupils
                    members = _pupils(session, rng, org.id, size, first, activity + effect, score)
                    new = create_credential(
                        session, code, parse_scopes("statements/write"), f"{name} 端末", hash_key
                    )
                    token = base64.b64encode(f"{new.info.key}:{new.secret}".encode()).decode()
                    headers = {
                        "Authorization": f"Basic {token}",
                        "X-Experience-API-Version": "1.0.3",
                    }
                    schools.append({"name": name, "pupils": members, "headers": headers})
        for email, region in [
            ("analyst-13@demo.example.jp", "13"),
            ("analyst-131016@demo.example.jp", "131016"),
        ]:
            create_account(session, email, DEMO_PASSWORD, "board_analyst", region)
        create_account(session, "admin@demo.example.jp", DEMO_PASSWORD, "system_admin", "13")
        _portfolio_accounts(session, first)
        session.commit()
    return schools


def _portfolio_accounts(session: Any, first: date) -> None:
    """A pupil, their teacher and their school's admin, to try the e-portfolio with."""
    klass = session.scalars(select(SchoolClass).order_by(SchoolClass.id).limit(1)).one()
    school = session.get(Organisation, klass.org_id)
    pupil_id = session.scalars(
        select(Enrollment.person_id).where(Enrollment.class_id == klass.id).order_by(Enrollment.id)
    ).first()
    teacher = create_person(session, "teacher", Names("佐藤", "先生"), public_url())
    session.add(
        Enrollment(
            org_id=school.id,
            sourced_id=f"e-{school.id}-teacher",
            person_id=teacher.id,
            class_id=klass.id,
            role="teacher",
            begin_date=first,
            end_date=None,
            active=True,
        )
    )
    session.flush()
    create_account(
        session, "pupil@demo.example.jp", DEMO_PASSWORD, "pupil", school.code, person_id=pupil_id
    )
    create_account(
        session,
        "teacher@demo.example.jp",
        DEMO_PASSWORD,
        "teacher",
        school.code,
        person_id=teacher.id,
    )
    create_account(
        session, "school-admin@demo.example.jp", DEMO_PASSWORD, "school_admin", school.code
    )


def _pupils(
    session: Any,
    rng: random.Random,
    school_id: int,
    count: int,
    first: date,
    activity: float,
    score: float,
) -> list[Pupil]:
    year = AcademicSession(
        org_id=school_id,
        sourced_id=f"y{first.year}",
        title=f"{first.year}年度",
        session_type="schoolYear",
        start_date=first,
        end_date=date(first.year + 1, 3, 31),
        school_year=first.year,
    )
    klass = SchoolClass(org_id=school_id, sourced_id="5-1", title="5年1組", grades="P5")
    session.add_all([year, klass])
    session.flush()
    members = []
    for n in range(count):
        person = create_person(
            session,
            "student",
            Names(rng.choice(FAMILY), rng.choice(GIVEN)),
            public_url(),
            grade="P5",
        )
        session.add(
            Enrollment(
                org_id=school_id,
                sourced_id=f"e-{school_id}-{n}",
                person_id=person.id,
                class_id=klass.id,
                role="student",
                begin_date=first,
                end_date=None,
                active=True,
            )
        )
        members.append(
            Pupil(
                person.public_id,
                activity=min(max(rng.gauss(activity, 0.15), 0.05), 0.98),
                score=min(max(rng.gauss(score, 0.1), 0.1), 0.98),
                evening=rng.random() < 0.3,
            )
        )
    session.flush()
    return members


def _statements(
    rng: random.Random, pupils: list[Pupil], first: date, today: date
) -> Iterator[dict[str, Any]]:
    day = first
    while day < today:
        lessons = is_school_day(day)
        for pupil in pupils:
            chance = (
                pupil.activity if lessons else pupil.activity * (0.25 if pupil.evening else 0.05)
            )
            if rng.random() >= chance:
                continue
            for _ in range(rng.choice((1, 1, 2, 3))):
                yield _statement(rng, pupil, day, lessons)
        day += timedelta(days=1)


def _statement(rng: random.Random, pupil: Pupil, day: date, lessons: bool) -> dict[str, Any]:
    hour = rng.randint(9, 14) if lessons and rng.random() < 0.8 else rng.randint(18, 20)
    moment = datetime.combine(day, time(hour, rng.randint(0, 59)), JST)
    subject = rng.choice(SUBJECTS)
    completed = rng.random() < 0.55 + pupil.activity / 3
    result: dict[str, Any] = {
        "completion": completed,
        "duration": f"PT{rng.randint(4, 35)}M{rng.randint(0, 59)}S",
    }
    if completed and rng.random() < 0.7:
        result["score"] = {"scaled": round(min(max(rng.gauss(pupil.score, 0.12), 0.0), 1.0), 2)}
    verb = "completed" if completed else "attempted"
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "actor": own_agent(pupil.public_id, public_url()),
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}", "display": {"ja": verb}},
        "object": {
            "id": f"https://contents.example.jp/{subject}/p5/unit-{rng.randint(1, 12)}",
            "definition": {"type": "http://adlnet.gov/expapi/activities/lesson"},
        },
        "result": result,
        "timestamp": moment.isoformat(),
    }


def _batches(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
