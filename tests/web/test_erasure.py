"""Erasure (APPI): after a school admin approves, nothing of the pupil remains in any table,
the deletion certificate verifies, and other people's records (and the access-log chains of
others) are untouched. Retention and legal holds."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import LargeBinary, select, update

from app.db import get_engine, new_session
from records.audit import verify_chain
from records.credentials import create_credential, parse_scopes
from records.db import Base
from records.identity.models import Person
from records.identity.people import link_identifier
from records.models import StoredStatement
from records.trust.erasure import certificate_is_genuine
from records.trust.retention import apply_retention, place_hold, set_policy
from tests.factories import make_statement
from tests.web.conftest import BASE, form_token
from tests.web.test_portfolio_pages import PNG

pytestmark = pytest.mark.db

MBOX = "mailto:hanako.yamada@example.jp"


def _lrs_headers(app: Flask) -> dict[str, str]:
    with app.app_context(), new_session() as session:
        new = create_credential(
            session,
            "B113210000015",
            parse_scopes("all"),
            "タブレット",
            app.config["CREDENTIAL_HASH_KEY"].encode(),
        )
        session.commit()
    token = base64.b64encode(f"{new.info.key}:{new.secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}


@pytest.fixture
def busy_pupil(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> dict[str, Any]:
    """P1 with a bit of everything: device statements under a second identifier, a state
    document, portfolio entries with a photo, teacher feedback, a consent and share link,
    access-log rows, and a classmate (P2) with records of her own."""
    with db_app.app_context(), new_session() as session:
        p1 = session.scalars(select(Person).where(Person.public_id == school["ids"]["P1"])).one()
        link_identifier(session, p1.id, {"mbox": MBOX}, source="manual")
        session.commit()
    lrs = _lrs_headers(db_app)
    device = db_app.test_client()
    actor = {"objectType": "Agent", "mbox": MBOX, "name": "山田 花子"}
    for _ in range(3):
        assert (
            device.post(
                f"{BASE}/xapi/statements", json=make_statement(actor=actor), headers=lrs
            ).status_code
            == 200
        )
    classmate = make_statement(actor={"mbox": "mailto:taro@example.jp", "name": "田中 太郎"})
    assert device.post(f"{BASE}/xapi/statements", json=classmate, headers=lrs).status_code == 200
    state = device.put(
        f"{BASE}/xapi/activities/state",
        query_string={
            "activityId": "https://contents.example.jp/a",
            "agent": json.dumps({"mbox": MBOX}),
            "stateId": "bookmark",
        },
        json={"page": 12, "note": "花子のしおり"},
        headers=lrs,
    )
    assert state.status_code == 204
    pupil = sign_in("P1")
    token = form_token(pupil, "/portfolio/new")
    pupil.post(
        f"{BASE}/portfolio/new",
        data={
            "csrf_token": token,
            "kind": "artifact",
            "title": "花子の絵",
            "photo": (io.BytesIO(PNG), "hanako.png"),
        },
        content_type="multipart/form-data",
    )
    with db_app.app_context(), new_session() as session:
        entry = session.scalars(
            select(StoredStatement.statement_id).order_by(StoredStatement.seq.desc())
        ).first()
    teacher = sign_in("T1")
    fb = form_token(teacher, f"/portfolio/people/{school['ids']['P1']}")
    teacher.post(
        f"{BASE}/portfolio/people/{school['ids']['P1']}/entries/{entry}/feedback",
        data={"csrf_token": fb, "text": "花子さん、すてきな絵です"},
    )
    share = form_token(pupil, "/trust/shares")
    pupil.post(
        f"{BASE}/trust/shares",
        data={
            "csrf_token": share,
            "entries": [entry],
            "title": "花子の作品",
            "recipient": "祖母",
            "days": "3",
            "requires": "code",
        },
    )
    return {"pupil": pupil, "public_id": school["ids"]["P1"], "classmate_statement": classmate}


def _everything(app: Flask) -> list[tuple[str, str, Any]]:
    """(table, column, value) for every value of every row of every table."""
    found = []
    with app.app_context(), get_engine().connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(table.select()).mappings():
                for column, value in row.items():
                    if isinstance(table.c[column].type, LargeBinary) and value is not None:
                        value = bytes(value).decode("utf-8", "replace")
                    found.append((table.name, column, value))
    return found


def test_erasure_leaves_no_trace_and_the_certificate_verifies(
    db_app: Flask,
    sign_in: Callable[[str], FlaskClient],
    school: dict[str, Any],
    busy_pupil: dict[str, Any],
) -> None:
    with db_app.app_context(), new_session() as session:
        p1 = session.scalars(
            select(Person).where(Person.public_id == busy_pupil["public_id"])
        ).one()
        person_id = p1.id
    markers = [busy_pupil["public_id"], "花子", MBOX, "hanako", school["emails"]["P1"]]
    before = _everything(db_app)
    assert any(m in str(v) for _, _, v in before for m in markers)  # the markers do find her

    pupil = busy_pupil["pupil"]
    token = form_token(pupil, "/trust/consents")
    asked = pupil.post(
        f"{BASE}/trust/erasure", data={"csrf_token": token, "reason": "転校するため"}
    )
    assert asked.status_code == 302
    admin = sign_in("adminA")
    page = admin.get(f"{BASE}/trust/erasures").get_data(as_text=True)
    request_id = re.search(r"/trust/erasures/(\d+)/decide", page).group(1)  # type: ignore[union-attr]
    decide = form_token(admin, "/trust/erasures")
    other = sign_in("adminB")  # another school's admin may not decide
    other_token = form_token(other, "/trust/erasures")
    answer = other.post(
        f"{BASE}/trust/erasures/{request_id}/decide",
        data={"csrf_token": other_token, "decision": "approve"},
    )
    assert answer.status_code == 403
    done = admin.post(
        f"{BASE}/trust/erasures/{request_id}/decide",
        data={"csrf_token": decide, "decision": "approve"},
    )
    assert done.status_code == 302

    leftovers = [
        (table, column, value)
        for table, column, value in _everything(db_app)
        if any(m in str(value) for m in markers)
    ]
    assert leftovers == []
    with db_app.app_context(), get_engine().connect() as conn:
        for table in Base.metadata.sorted_tables:
            for fk in table.foreign_keys:
                if fk.column.table.name == "people":
                    hits = conn.execute(
                        table.select().where(table.c[fk.parent.name] == person_id)
                    ).all()
                    assert hits == [], f"{table.name}.{fk.parent.name} still points at the pupil"

    certificate = admin.get(f"{BASE}/trust/erasures/{request_id}/certificate.json").get_json()
    signature = certificate.pop("signature")["value"]
    with db_app.app_context(), new_session() as session:
        assert certificate_is_genuine(session, certificate, signature)
        assert not certificate_is_genuine(session, {**certificate, "removed": {}}, signature)
        assert verify_chain(session).intact  # everyone else's access log still verifies
        remaining = list(session.scalars(select(StoredStatement.full)))
    removed = certificate["removed"]
    assert removed["statements"] >= 5
    assert removed["attachments"] == 1
    assert removed["documents"] == 1
    assert removed["people"] == 1
    assert [s["actor"]["mbox"] for s in remaining] == [
        busy_pupil["classmate_statement"]["actor"]["mbox"]
    ]
    assert pupil.get(f"{BASE}/portfolio").status_code in (302, 401)  # her session is gone


def test_a_legal_hold_stops_erasure_and_retention(
    db_app: Flask,
    sign_in: Callable[[str], FlaskClient],
    school: dict[str, Any],
    busy_pupil: dict[str, Any],
) -> None:
    with db_app.app_context(), new_session() as session:
        from records.identity.accounts import load_account
        from records.identity.models import Account

        admin_id = session.scalars(
            select(Account.id).where(Account.email == school["emails"]["adminA"])
        ).one()
        admin = load_account(session, admin_id)
        place_hold(session, admin, busy_pupil["public_id"], "保護者との係争中")
        set_policy(session, admin, "B113210000015", "statements", 30)
        session.commit()
        old = datetime.now(UTC) - timedelta(days=400)
        with get_engine().begin() as conn:
            conn.execute(update(StoredStatement).values(stored=old))
        removed = apply_retention(session)
        session.commit()
        left = list(session.scalars(select(StoredStatement.full)))
    assert removed["statements"] == 1  # only the classmate's; the held pupil's stay
    assert all("taro" not in json.dumps(s) for s in left)
    assert len(left) >= 5

    pupil = busy_pupil["pupil"]
    pupil.post(f"{BASE}/trust/erasure", data={"csrf_token": form_token(pupil, "/trust/consents")})
    admin_web = sign_in("adminA")
    page = admin_web.get(f"{BASE}/trust/erasures").get_data(as_text=True)
    request_id = re.search(r"/trust/erasures/(\d+)/decide", page).group(1)  # type: ignore[union-attr]
    refused = admin_web.post(
        f"{BASE}/trust/erasures/{request_id}/decide",
        data={"csrf_token": form_token(admin_web, "/trust/erasures"), "decision": "approve"},
    )
    assert refused.status_code == 400


def test_sensitive_steps_ask_for_the_password_again(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], busy_pupil: dict[str, Any]
) -> None:
    pupil = busy_pupil["pupil"]
    with pupil.session_transaction() as browser:
        browser["authenticated_at"] = int(datetime.now(UTC).timestamp()) - 3600
    token = form_token(pupil, "/trust/consents")
    asked = pupil.post(f"{BASE}/trust/erasure", data={"csrf_token": token})
    assert asked.status_code == 302
    assert "/confirm-password" in asked.headers["Location"]
    confirm = form_token(pupil, "/confirm-password")
    wrong = pupil.post(
        f"{BASE}/confirm-password", data={"csrf_token": confirm, "password": "nope nope nope"}
    )
    assert wrong.status_code == 401
    from tests.factories import PASSWORD

    ok = pupil.post(
        f"{BASE}/confirm-password",
        data={"csrf_token": confirm, "password": PASSWORD, "next": "/trust/consents"},
    )
    assert ok.status_code == 302
    assert pupil.post(f"{BASE}/trust/erasure", data={"csrf_token": token}).status_code == 302


def test_retention_and_holds_from_the_command_line(
    db_app: Flask, busy_pupil: dict[str, Any]
) -> None:
    runner = db_app.test_cli_runner()
    assert (
        runner.invoke(
            args=["audit", "retention-set", "--org", "B113210000015", "--days", "5"]
        ).exit_code
        != 0
    )
    assert (
        runner.invoke(
            args=["audit", "retention-set", "--org", "B113210000015", "--days", "365"]
        ).exit_code
        == 0
    )
    held = runner.invoke(
        args=["audit", "hold", "--person", busy_pupil["public_id"], "--reason", "調査中"]
    )
    assert held.exit_code == 0, held.output
    applied = runner.invoke(args=["audit", "retention-apply"])
    assert applied.exit_code == 0
    assert json.loads(applied.output) == {}  # nothing is a year old yet


def test_the_scheduled_retention_job_runs_in_the_app(
    db_app: Flask, busy_pupil: dict[str, Any]
) -> None:
    from app.jobs import apply_retention_job

    with db_app.app_context(), new_session() as session:
        before = len(session.scalars(select(StoredStatement.seq)).all())
        with get_engine().begin() as conn:
            conn.execute(
                update(StoredStatement).values(stored=datetime.now(UTC) - timedelta(days=4000))
            )
    runner = db_app.test_cli_runner()
    assert (
        runner.invoke(
            args=["audit", "retention-set", "--org", "B113210000015", "--days", "3650"]
        ).exit_code
        == 0
    )
    with db_app.app_context():
        apply_retention_job()
        with new_session() as session:
            after = len(session.scalars(select(StoredStatement.seq)).all())
    assert before > 0
    assert after == 0
