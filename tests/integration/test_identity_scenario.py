"""The identity issue end to end: a Japan Profile roster is imported; a device sends records
under the identifiers schools really use; every role sees exactly what it should; an unknown
identifier's records become the pupil's once linked; a transfer keeps one person, moves access
to the new school, and the history goes along."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import new_session
from records.identity.accounts import create_account, create_token
from records.identity.oneroster import import_roster
from records.identity.people import link_identifier, person_for_agent
from records.models import Organisation
from records.organisations import create_organisation
from tests.conftest import SERVICE_URL
from tests.factories import make_statement
from tests.fixtures.roster import RosterFiles, Tokyo, tokyo_roster
from tests.integration.test_oneroster import _delta_rows, _move

PASSWORD = "correct horse battery"
TABLET = "mailto:tablet-17@kojimachi-es.example.jp"


def _import(app: Flask, data: bytes) -> None:
    with app.app_context(), new_session() as session:
        import_roster(session, data, service_url=SERVICE_URL, today=datetime.now(UTC).date())
        session.commit()


def _person(session: Any, sourced_id: str) -> Any:
    agent = {"account": {"homePage": f"{SERVICE_URL}oneroster/sourcedId", "name": sourced_id}}
    person = person_for_agent(session, agent)
    assert person is not None
    return person


@pytest.fixture
def scene(db_app: Flask) -> dict[str, Any]:
    tokyo: Tokyo = tokyo_roster()
    _import(db_app, tokyo.files.to_zip())
    school_a, school_c = tokyo.schools[0], tokyo.schools[2]
    class_1, class_2 = tokyo.classes[school_a]
    pupil = tokyo.pupils[class_1][0]
    key = db_app.config["CREDENTIAL_HASH_KEY"].encode()
    tokens: dict[str, str] = {}
    with db_app.app_context(), new_session() as session:
        create_organisation(session, "board-chiyoda", "千代田区教育委員会 analysts")
        codes = {
            sid: session.scalar(select(Organisation.code).where(Organisation.sourced_id == sid))
            for sid in (school_a, school_c)
        }
        people = {
            "pupil": _person(session, pupil),
            "teacher1": _person(session, tokyo.teachers[class_1]),
            "teacher2": _person(session, tokyo.teachers[class_2]),
        }
        accounts = {
            "pupil": ("pupil", codes[school_a], people["pupil"].id),
            "teacher1": ("teacher", codes[school_a], people["teacher1"].id),
            "teacher2": ("teacher", codes[school_a], people["teacher2"].id),
            "adminA": ("school_admin", codes[school_a], None),
            "adminC": ("school_admin", codes[school_c], None),
            "analyst": ("board_analyst", "board-chiyoda", None),
        }
        for name, (role, org, person_id) in accounts.items():
            email = f"{name.lower()}@example.jp"
            create_account(session, email, PASSWORD, role, org, person_id=person_id)
            tokens[name] = create_token(session, email, "test", key)
        public_id = people["pupil"].public_id
        pupil_pk = people["pupil"].id
        session.commit()
    return {
        "tokyo": tokyo,
        "pupil": pupil,
        "public_id": public_id,
        "pupil_pk": pupil_pk,
        "tokens": tokens,
    }


def _get(client: FlaskClient, token: str, path: str) -> Any:
    return client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"})


def _statement_actors(client: FlaskClient, token: str, public_id: str) -> list[Any]:
    answer = _get(client, token, f"/people/{public_id}/statements")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [s["actor"] for s in answer.get_json()["statements"]]


def test_roster_records_and_roles_end_to_end(
    db_app: Flask, client: FlaskClient, scene: dict[str, Any], make_credential: Any
) -> None:
    tokyo, tokens, public_id = scene["tokyo"], scene["tokens"], scene["public_id"]
    pupil_row = tokyo.files.find("users", scene["pupil"])
    google = {"account": {"homePage": "https://accounts.google.com", "name": pupil_row["email"]}}
    device = make_credential("statements/write", org="kojimachi-devices")
    for actor in (google, {"mbox": TABLET}):
        sent = client.post("/xapi/statements", json=make_statement(actor=actor), headers=device)
        assert sent.status_code == 200

    # The Google-account statement is the pupil's at once; the tablet's is kept, unlinked.
    assert _statement_actors(client, tokens["pupil"], public_id) == [google]

    # Who may see the pupil.
    for viewer, status in [
        ("pupil", 200),
        ("teacher1", 200),
        ("teacher2", 403),
        ("adminA", 200),
        ("adminC", 403),
        ("analyst", 403),
    ]:
        assert _get(client, tokens[viewer], f"/people/{public_id}").status_code == status, viewer

    # A link appears: the tablet's statement becomes the pupil's, unchanged.
    with db_app.app_context(), new_session() as session:
        link_identifier(session, scene["pupil_pk"], {"mbox": TABLET}, source="manual")
        session.commit()
    actors = _statement_actors(client, tokens["teacher1"], public_id)
    assert sorted(map(str, actors)) == sorted(map(str, [google, {"mbox": TABLET}]))

    # The pupil moves to 神宮前小 (another municipality): a delta package.
    files = RosterFiles()
    pupil = scene["pupil"]
    files.rows("users").append(_delta_rows(tokyo.files, "users", pupil, status="tobedeleted"))
    for table in ("roles", "enrollments"):
        for row in tokyo.files.where(table, userSourcedId=pupil):
            files.rows(table).append({**row, "status": "tobedeleted"})
    new_user, _school, _klass = _move(tokyo, files, pupil)
    _import(db_app, files.to_zip("delta"))

    with db_app.app_context(), new_session() as session:
        assert _person(session, new_user).public_id == public_id  # one person
    assert _get(client, tokens["teacher1"], f"/people/{public_id}").status_code == 403
    assert _get(client, tokens["adminA"], f"/people/{public_id}").status_code == 403
    assert _get(client, tokens["adminC"], f"/people/{public_id}").status_code == 200
    # The history goes along: the new school sees the records made at the old one.
    assert len(_statement_actors(client, tokens["adminC"], public_id)) == 2
    assert _get(client, tokens["pupil"], f"/people/{public_id}").status_code == 200
