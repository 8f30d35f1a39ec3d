"""The learning-day rollup stays exact: late, out-of-order and voided statements, re-runs, and the
school weeks with their enrolled-pupil denominators (real database, the real statement writer)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import new_session
from records.analytics_models import LearningDay, SchoolWeek
from records.identity.models import Enrollment, SchoolClass
from records.identity.people import Names, create_person, own_agent
from records.organisations import create_organisation
from records.rollup_weeks import missing_weeks, refresh_school_weeks
from records.rollups import roll_up, statement_facts
from records.school_calendar import JST
from records.store import Writer, save_statements
from records.xapi import parse_statement
from tests.conftest import SERVICE_URL

pytestmark = pytest.mark.db

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"
MONDAY = date(2026, 6, 8)  # a week without national holidays


@pytest.fixture
def world(db_app: Flask) -> Iterator[dict[str, Any]]:
    with db_app.app_context(), new_session() as session:
        create_organisation(session, "13", "東京都", kind="prefecture")
        create_organisation(session, "131016", "千代田区", kind="municipality")
        school = create_organisation(
            session, "B113210000014", "第一小学校", kind="school", parent_code="131016"
        )
        klass = SchoolClass(org_id=school.id, sourced_id="4-1", title="4年1組")
        session.add(klass)
        session.flush()
        pupils = []
        for n in range(3):
            person = create_person(session, "student", Names("山田", f"{n}"), SERVICE_URL)
            session.add(
                Enrollment(
                    org_id=school.id,
                    sourced_id=f"e{n}",
                    person_id=person.id,
                    class_id=klass.id,
                    role="student",
                    begin_date=date(2026, 4, 1),
                    end_date=None,
                    active=True,
                )
            )
            pupils.append((person.id, person.public_id))
        session.commit()
        yield {"app": db_app, "school": school.id, "pupils": pupils}


def _statement(public_id: str, day: date, **extra: Any) -> dict[str, Any]:
    moment = datetime(day.year, day.month, day.day, 10, 0, tzinfo=JST)
    return {
        "id": str(uuid.uuid4()),
        "actor": own_agent(public_id, SERVICE_URL),
        "verb": {"id": extra.pop("verb", COMPLETED)},
        "object": {"id": "https://contents.example.jp/math/unit-1"},
        "timestamp": moment.isoformat(),
        "result": extra.pop("result", {"duration": "PT20M", "score": {"scaled": 0.8}}),
        **extra,
    }


def _save(session: Session, school: int, *statements: dict[str, Any]) -> None:
    writer = Writer(school, None, {"objectType": "Agent", "mbox": "mailto:lrs@example.jp"})
    save_statements(session, [parse_statement(s) for s in statements], writer)
    session.commit()


def _days(session: Session) -> dict[tuple[int, date], tuple[Any, ...]]:
    return {
        (row.person_id, row.day): (
            row.school_id,
            row.statements,
            round(row.minutes, 6),
            row.attempted,
            row.completed,
            round(row.score_sum, 6),
            row.score_n,
        )
        for row in session.scalars(select(LearningDay))
    }


def _run(session: Session, **kwargs: Any) -> None:
    roll_up(session, **kwargs)
    session.commit()


def test_a_day_is_summed_with_capped_minutes(world: dict[str, Any]) -> None:
    (person, public), *_ = world["pupils"]
    with world["app"].app_context(), new_session() as session:
        _save(
            session,
            world["school"],
            _statement(public, MONDAY),
            _statement(public, MONDAY, result={"duration": "PT9H", "completion": False}),
            _statement(public, MONDAY, verb=ATTEMPTED, result={"score": {"scaled": 0.4}}),
        )
        _run(session)
        days = _days(session)
    assert days == {(person, MONDAY): (world["school"], 3, 140.0, 3, 1, 1.2, 2)}


def test_late_out_of_order_and_voided_statements_keep_rollups_exact(
    world: dict[str, Any],
) -> None:
    (p1, pub1), (p2, pub2), _ = world["pupils"]
    statements = [
        _statement(pub, MONDAY + timedelta(days=offset))
        for pub in (pub1, pub2)
        for offset in range(5)
    ]
    random.Random(6).shuffle(statements)  # noqa: S311 - an order of arrival, not a secret
    with world["app"].app_context(), new_session() as session:
        _save(session, world["school"], *statements[:4])
        _run(session)
        # Later batches arrive after the first roll-up, about earlier and later days alike.
        _save(session, world["school"], *statements[4:7])
        _run(session)
        _save(session, world["school"], *statements[7:])
        victim = statements[0]
        _save(
            session,
            world["school"],
            {
                "actor": {"mbox": "mailto:teacher@example.jp"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                "object": {"objectType": "StatementRef", "id": victim["id"]},
            },
        )
        _run(session)
        incremental = _days(session)
        incremental_weeks = _weeks(session)
        # Rolling up again changes nothing; a full rebuild from scratch gives the same rows.
        _run(session)
        assert _days(session) == incremental
        _run(session, full=True)
        assert _days(session) == incremental
        assert _weeks(session) == incremental_weeks
    victim_key = next(
        (person, MONDAY + timedelta(days=offset))
        for person, pub in ((p1, pub1), (p2, pub2))
        for offset in range(5)
        if victim["actor"]["account"]["name"] == pub
        and victim["timestamp"].startswith(str(MONDAY + timedelta(days=offset)))
    )
    expected = {
        (person, MONDAY + timedelta(days=offset)) for person in (p1, p2) for offset in range(5)
    } - {victim_key}
    assert set(incremental) == expected
    assert all(row[1] == 1 for row in incremental.values())


def test_a_statement_arriving_after_its_voiding_statement_counts_for_nothing(
    world: dict[str, Any],
) -> None:
    (_, public), *_ = world["pupils"]
    target = _statement(public, MONDAY)
    with world["app"].app_context(), new_session() as session:
        _save(
            session,
            world["school"],
            {
                "actor": {"mbox": "mailto:teacher@example.jp"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                "object": {"objectType": "StatementRef", "id": target["id"]},
            },
        )
        _run(session)
        _save(session, world["school"], target)
        _run(session)
        assert _days(session) == {}


def _weeks(session: Session) -> dict[tuple[int, date], tuple[Any, ...]]:
    return {
        (row.school_id, row.week): (
            row.school_days,
            row.pupils,
            row.enrolled_days,
            row.active_days,
            row.active3,
            round(row.minutes, 6),
            row.attempted,
            row.completed,
            row.scored,
            tuple(getattr(row, f"h{n}") for n in range(10)),
        )
        for row in session.scalars(select(SchoolWeek))
    }


def test_school_weeks_count_enrolled_pupils_and_active_days(world: dict[str, Any]) -> None:
    (_, pub1), (_, pub2), _ = world["pupils"]
    with world["app"].app_context(), new_session() as session:
        _save(
            session,
            world["school"],
            *[_statement(pub1, MONDAY + timedelta(days=n)) for n in range(4)],
            _statement(pub2, MONDAY, result={"score": {"scaled": 0.35}}),
            _statement(pub2, MONDAY + timedelta(days=5)),  # Saturday: not a school day
        )
        _run(session)
        weeks = _weeks(session)
        # A week with nobody active still gets its denominators.
        later = MONDAY + timedelta(days=14)
        refresh_school_weeks(session, missing_weeks(session, later, later + timedelta(days=6)))
        session.commit()
        quiet = _weeks(session)[(world["school"], later)]
    assert weeks[(world["school"], MONDAY)] == (
        5,  # school days
        3,  # enrolled pupils
        15,  # pupil-school-days
        5,  # active pupil-school-days (4 + 1; Saturday not counted)
        1,  # pupils active on 3+ days
        100.0,  # 5 x 20 minutes (the score-only statement has no duration)
        6,
        6,
        2,  # pupils with a score: means 0.8 and (0.35 + 0.8) / 2 = 0.575
        (0, 0, 0, 0, 0, 1, 0, 0, 1, 0),
    )
    assert quiet == (5, 3, 15, 0, 0, 0.0, 0, 0, 0, (0,) * 10)


@pytest.mark.parametrize(
    ("result", "minutes", "attempted", "completed", "score"),
    [
        ({}, 0.0, 1, 1, None),
        ({"duration": "not a duration"}, 0.0, 1, 1, None),
        ({"duration": "PT1H30M", "score": {"scaled": -0.5}}, 90.0, 1, 1, 0.0),
        ({"duration": "P1D"}, 120.0, 1, 1, None),
    ],
)
def test_statement_facts(
    result: dict[str, Any], minutes: float, attempted: int, completed: int, score: float | None
) -> None:
    facts = statement_facts({"verb": {"id": COMPLETED}, "result": result}, 120.0)
    assert (facts.minutes, facts.attempted, facts.completed, facts.score) == (
        minutes,
        attempted,
        completed,
        score,
    )
