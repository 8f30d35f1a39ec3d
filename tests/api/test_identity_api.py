"""Sign-in, tokens, and who may see whom through /api/v1 — including every denial."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.db import new_session
from records.identity.accounts import create_account, create_token
from records.identity.models import AccessLogEntry, Enrollment, SecurityEvent
from records.identity.people import link_identifier
from tests.conftest import SERVICE_URL
from tests.factories import build_school_world, make_statement

PASSWORD = "correct horse battery"


@pytest.fixture
def world(db_app: Flask) -> dict[str, Any]:
    with db_app.app_context(), new_session() as session:
        built = build_school_world(session, SERVICE_URL)
        people = built["people"]
        accounts = {
            "P1": ("pupil", "B113210000015", people["P1"].id),
            "T1": ("teacher", "B113210000015", people["T1"].id),
            "T2": ("teacher", "B113210000015", people["T2"].id),
            "adminA": ("school_admin", "B113210000015", None),
            "adminB": ("school_admin", "B113211000013", None),
            "analyst": ("board_analyst", "131016", None),
            "root": ("system_admin", "131016", None),
        }
        for name, (role, org, person_id) in accounts.items():
            create_account(
                session,
                f"{name.lower()}@school.example.jp",
                PASSWORD,
                role,
                org,
                person_id=person_id,
            )
        key = db_app.config["CREDENTIAL_HASH_KEY"].encode()
        tokens = {
            name: create_token(session, f"{name.lower()}@school.example.jp", "test", key)
            for name in accounts
        }
        ids = {name: person.public_id for name, person in people.items()}
        pks = {name: person.id for name, person in people.items()}
        session.commit()
    return {"tokens": tokens, "ids": ids, "pks": pks}


def _get(client: FlaskClient, token: str, path: str) -> Any:
    return client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"})


def _access_rows(app: Flask) -> int:
    with app.app_context(), new_session() as session:
        return int(session.scalar(select(func.count()).select_from(AccessLogEntry)) or 0)


# --- who sees whom ----------------------------------------------------------------------------

CASES = [
    ("P1", "P1", 200),  # a pupil sees themself
    ("P1", "P2", 403),  # ...and nobody else
    ("T1", "P1", 200),  # a teacher sees pupils of the class they teach now
    ("T1", "P3", 403),  # ...not a pupil of another class
    ("T2", "P1", 403),  # a teacher of another class cannot open P1
    ("adminA", "P3", 200),  # a school admin sees their school
    ("adminB", "P1", 403),  # ...not another school's pupils
    ("analyst", "P1", 403),  # a board analyst never sees a pupil
    ("root", "P2", 200),  # a system admin manages (and is logged)
]


@pytest.mark.parametrize(("viewer", "subject", "status"), CASES)
def test_who_may_read_whom(
    client: FlaskClient, world: dict[str, Any], viewer: str, subject: str, status: int
) -> None:
    answer = _get(client, world["tokens"][viewer], f"/people/{world['ids'][subject]}")
    assert answer.status_code == status, answer.get_data(as_text=True)
    if status == 403:
        assert answer.get_json()["error"]["message"]
    else:
        assert answer.get_json()["id"] == world["ids"][subject]


def test_people_list_shows_exactly_the_readable_people(
    client: FlaskClient, world: dict[str, Any]
) -> None:
    def listed(viewer: str) -> set[str]:
        body = _get(client, world["tokens"][viewer], "/people").get_json()
        return {p["id"] for p in body["people"]}

    ids = world["ids"]
    assert listed("P1") == {ids["P1"]}
    assert listed("T1") == {ids["T1"], ids["P1"], ids["P2"]}
    assert listed("T2") == {ids["T2"], ids["P3"]}
    assert listed("adminA") == {ids[n] for n in ("T1", "T2", "P1", "P2", "P3")}
    assert listed("adminB") == set()
    assert listed("analyst") == set()


def test_teacher_loses_access_when_their_enrollment_ends(
    db_app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    path = f"/people/{world['ids']['P1']}"
    assert _get(client, world["tokens"]["T1"], path).status_code == 200
    with db_app.app_context(), new_session() as session:
        teaching = session.scalar(
            select(Enrollment).where(
                Enrollment.person_id == world["pks"]["T1"], Enrollment.role == "teacher"
            )
        )
        assert teaching is not None
        teaching.end_date = datetime.now(UTC).date() - timedelta(days=1)
        session.commit()
    assert _get(client, world["tokens"]["T1"], path).status_code == 403


def test_every_read_of_a_person_is_logged_and_denials_are_not_reads(
    db_app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    before = _access_rows(db_app)
    _get(client, world["tokens"]["T1"], f"/people/{world['ids']['P1']}")
    assert _access_rows(db_app) == before + 1
    _get(client, world["tokens"]["T2"], f"/people/{world['ids']['P1']}")  # denied
    assert _access_rows(db_app) == before + 1


def test_classes_are_scoped(client: FlaskClient, world: dict[str, Any]) -> None:
    def titles(viewer: str) -> list[str]:
        return [
            c["title"]
            for c in _get(client, world["tokens"][viewer], "/classes").get_json()["classes"]
        ]

    assert titles("T1") == ["4年1組"]
    assert sorted(titles("adminA")) == ["4年1組", "4年2組"]
    assert titles("adminB") == []
    assert titles("P1") == []


def test_statements_of_a_person_follow_their_links(
    db_app: Flask,
    client: FlaskClient,
    world: dict[str, Any],
    make_credential: Any,
) -> None:
    device = make_credential("statements/write", org="device-school")
    mbox = "mailto:hanako.yamada@school.example.jp"
    statement = make_statement(actor={"objectType": "Agent", "mbox": mbox})
    assert client.post("/xapi/statements", json=statement, headers=device).status_code == 200
    path = f"/people/{world['ids']['P1']}/statements"
    before = _get(client, world["tokens"]["P1"], path).get_json()
    assert before["statements"] == []  # kept, but not yet linked to anyone

    with db_app.app_context(), new_session() as session:
        link_identifier(
            session, world["pks"]["P1"], {"objectType": "Agent", "mbox": mbox}, source="manual"
        )
        session.commit()
    after = _get(client, world["tokens"]["P1"], path).get_json()
    assert [s["actor"]["mbox"] for s in after["statements"]] == [mbox]
    assert _get(client, world["tokens"]["T2"], path).status_code == 403


def test_bad_parameters_are_400_with_a_message(client: FlaskClient, world: dict[str, Any]) -> None:
    answer = _get(client, world["tokens"]["adminA"], "/people?limit=100000")
    assert answer.status_code == 400
    assert "limit" in answer.get_json()["error"]["message"]


# --- authentication ---------------------------------------------------------------------------


def test_api_needs_authentication(client: FlaskClient, world: dict[str, Any]) -> None:
    assert client.get("/api/v1/me").status_code == 401
    assert _get(client, "ash_not-a-real-token", "/me").status_code == 401
    me = _get(client, world["tokens"]["T1"], "/me").get_json()
    assert me["email"] == "t1@school.example.jp"
    assert me["grants"] == [{"role": "teacher", "org_id": me["grants"][0]["org_id"]}]


def test_openapi_document_lists_the_api(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/me", "/people", "/people/{public_id}", "/people/{public_id}/statements"} <= set(
        document["paths"]
    )


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


@pytest.fixture
def browser(db_app: Flask) -> FlaskClient:
    return db_app.test_client()


def test_sign_in_and_out_with_csrf_secure_cookie_and_events(
    db_app: Flask, world: dict[str, Any]
) -> None:
    browser = db_app.test_client()
    base = "https://localhost"
    # Browsers send a Referer on HTTPS form posts; flask-wtf checks it matches the host.
    browser.environ_base["HTTP_REFERER"] = f"{base}/sign-in"
    token = _csrf(browser.get(f"{base}/sign-in").get_data(as_text=True))
    no_csrf = browser.post(
        f"{base}/sign-in", data={"email": "p1@school.example.jp", "password": PASSWORD}
    )
    assert no_csrf.status_code == 400
    answer = browser.post(
        f"{base}/sign-in",
        data={"email": "p1@school.example.jp", "password": PASSWORD, "csrf_token": token},
    )
    assert answer.status_code == 302
    cookie = answer.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    me = browser.get(f"{base}/api/v1/me")
    assert me.status_code == 200
    assert me.get_json()["email"] == "p1@school.example.jp"
    home = browser.get(f"{base}/", follow_redirects=True).get_data(as_text=True)
    out = browser.post(f"{base}/sign-out", data={"csrf_token": _csrf(home)})
    assert out.status_code == 302
    assert browser.get(f"{base}/api/v1/me").status_code == 401
    with db_app.app_context(), new_session() as session:
        kinds = list(session.scalars(select(SecurityEvent.kind).order_by(SecurityEvent.id)))
    assert kinds == ["sign_in", "sign_out"]


def test_sign_in_is_throttled_after_repeated_failures(db_app: Flask, world: dict[str, Any]) -> None:
    browser = db_app.test_client()
    base = "https://localhost"
    # Browsers send a Referer on HTTPS form posts; flask-wtf checks it matches the host.
    browser.environ_base["HTTP_REFERER"] = f"{base}/sign-in"
    token = _csrf(browser.get(f"{base}/sign-in").get_data(as_text=True))
    form = {"email": "p1@school.example.jp", "password": "wrong password!", "csrf_token": token}
    statuses = [browser.post(f"{base}/sign-in", data=form).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    right = {**form, "password": PASSWORD}
    assert browser.post(f"{base}/sign-in", data=right).status_code == 429  # still locked


def test_passwords_are_hashed_with_argon2(db_app: Flask, world: dict[str, Any]) -> None:
    from records.identity.models import Account

    with db_app.app_context(), new_session() as session:
        hashes = list(session.scalars(select(Account.password_hash)))
    assert hashes
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


def _post(client: FlaskClient, token: str, path: str, body: Any = None) -> Any:
    return client.post(f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"})


def test_merge_and_undo_move_identifiers_and_statements(
    db_app: Flask, client: FlaskClient, world: dict[str, Any], make_credential: Any
) -> None:
    ids, tokens = world["ids"], world["tokens"]
    device = make_credential("statements/write", org="device-school")
    duplicate_mbox = "mailto:taro.dup@school.example.jp"
    with db_app.app_context(), new_session() as session:
        link_identifier(session, world["pks"]["P2"], {"mbox": duplicate_mbox}, source="manual")
        session.commit()
    statement = make_statement(actor={"mbox": duplicate_mbox})
    assert client.post("/xapi/statements", json=statement, headers=device).status_code == 200
    survivor_statements = f"/people/{ids['P1']}/statements"
    assert _get(client, tokens["adminA"], survivor_statements).get_json()["statements"] == []

    denied = _post(client, tokens["T1"], f"/people/{ids['P1']}/merges", {"duplicate": ids["P2"]})
    assert denied.status_code == 403
    other_school = _post(
        client, tokens["adminB"], f"/people/{ids['P1']}/merges", {"duplicate": ids["P2"]}
    )
    assert other_school.status_code == 403
    merged = _post(
        client, tokens["adminA"], f"/people/{ids['P1']}/merges", {"duplicate": ids["P2"]}
    )
    assert merged.status_code == 201, merged.get_data(as_text=True)
    moved = _get(client, tokens["adminA"], survivor_statements).get_json()["statements"]
    assert [s["actor"]["mbox"] for s in moved] == [duplicate_mbox]

    undone = _post(client, tokens["adminA"], f"/merges/{merged.get_json()['id']}/undo")
    assert undone.status_code == 200
    assert _get(client, tokens["adminA"], survivor_statements).get_json()["statements"] == []
    back = _get(client, tokens["adminA"], f"/people/{ids['P2']}/statements").get_json()
    assert [s["actor"]["mbox"] for s in back["statements"]] == [duplicate_mbox]
    again = _post(client, tokens["adminA"], f"/merges/{merged.get_json()['id']}/undo")
    assert again.status_code == 400
