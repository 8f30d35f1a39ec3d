"""'Who looked at my data' for pupils and guardians, the school's log for its admins, and the
check of the log's hash chain from the admin page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from app.db import get_engine, new_session
from records.identity.accounts import create_account
from records.identity.models import AccessLogEntry, Guardianship, Person
from records.identity.people import Names, create_person
from tests.conftest import SERVICE_URL
from tests.factories import PASSWORD
from tests.web.conftest import BASE, form_token

pytestmark = pytest.mark.db


@pytest.fixture
def guardian(db_app: Flask, school: dict[str, Any]) -> str:
    """A guardian account of P1 (山田 花子's parent)."""
    with db_app.app_context(), new_session() as session:
        parent = create_person(session, "guardian", Names("山田", "洋子"), SERVICE_URL)
        p1 = session.scalars(select(Person).where(Person.public_id == school["ids"]["P1"])).one()
        session.add(Guardianship(guardian_person_id=parent.id, pupil_person_id=p1.id))
        create_account(
            session,
            "parent@home.example.jp",
            PASSWORD,
            "guardian",
            "B113210000015",
            person_id=parent.id,
        )
        session.commit()
    school["emails"]["G1"] = "parent@home.example.jp"
    return "G1"


def test_a_pupil_sees_that_their_teacher_looked(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    teacher = sign_in("T1")
    assert teacher.get(f"{BASE}/portfolio/people/{school['ids']['P1']}").status_code == 200
    pupil = sign_in("P1")
    pupil.get(f"{BASE}/portfolio")  # their own visit
    page = pupil.get(f"{BASE}/trust/access-log").get_data(as_text=True)
    assert "佐藤 一郎" in page
    assert "学びのページ" in page
    assert "授業や指導のため" in page
    assert "千代田区立第一小学校" in page
    assert "あなたが「" not in page  # own visits are hidden unless asked for
    mine = pupil.get(f"{BASE}/trust/access-log?mine=1").get_data(as_text=True)
    assert "あなたが「" in mine
    teaching_only = pupil.get(f"{BASE}/trust/access-log?purpose=teaching").get_data(as_text=True)
    assert "佐藤 一郎" in teaching_only
    download = pupil.get(f"{BASE}/trust/access-log.csv")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    body = download.get_data(as_text=True)
    assert body.startswith("\ufeff")
    assert "佐藤 一郎" in body
    with db_app.app_context(), new_session() as session:
        resources = list(session.scalars(select(AccessLogEntry.resource)))
    assert "access_log" in resources  # reading the log is itself logged


def test_nobody_else_reads_a_pupils_log(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    path = f"{BASE}/trust/access-log?pupil={school['ids']['P1']}"
    assert sign_in("P2").get(path).status_code == 403
    assert sign_in("T1").get(path).status_code == 403  # teachers teach; they do not audit
    assert sign_in("adminB").get(path).status_code == 403  # another school
    assert sign_in("adminA").get(path).status_code == 200
    assert sign_in("P2").get(f"{BASE}/trust/access-log?purpose=nonsense").status_code == 400


def test_a_guardian_sees_the_childs_log_but_not_the_portfolio(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any], guardian: str
) -> None:
    sign_in("T1").get(f"{BASE}/portfolio/people/{school['ids']['P1']}")
    parent = sign_in(guardian)
    page = parent.get(f"{BASE}/trust/access-log").get_data(as_text=True)
    assert "山田 花子" in page
    assert "佐藤 一郎" in page
    assert parent.get(f"{BASE}/portfolio/people/{school['ids']['P1']}").status_code == 403
    assert parent.get(f"{BASE}/trust/access-log?pupil={school['ids']['P2']}").status_code == 403


def test_school_admins_see_their_school_and_check_the_chain(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    sign_in("T1").get(f"{BASE}/portfolio/people/{school['ids']['P1']}")
    admin = sign_in("adminA")
    page = admin.get(f"{BASE}/trust/school-log").get_data(as_text=True)
    assert "山田 花子" in page
    assert "佐藤 一郎" in page
    other = sign_in("adminB").get(f"{BASE}/trust/school-log").get_data(as_text=True)
    assert "山田 花子" not in other
    assert sign_in("P1").get(f"{BASE}/trust/school-log").status_code == 403

    token = form_token(admin, "/trust/school-log")
    intact = admin.post(f"{BASE}/trust/school-log/verify", data={"csrf_token": token})
    assert "改ざんされていません" in intact.get_data(as_text=True)
    with db_app.app_context(), get_engine().begin() as conn:
        conn.execute(text("UPDATE access_log SET purpose = 'support' WHERE position = 1"))
    broken = admin.post(f"{BASE}/trust/school-log/verify", data={"csrf_token": token})
    assert 'role="alert"' in broken.get_data(as_text=True)
