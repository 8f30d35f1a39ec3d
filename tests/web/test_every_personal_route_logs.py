"""Every route that returns a pupil's personal data writes an access-log row (issue #8).

The test walks the application's URL map: each GET route must be listed below, either with a
way to call it as someone allowed to (then the call must add access-log rows about the pupil),
or as not returning personal data, with the reason. A new route that is in neither list fails
this test until someone decides which it is.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.db import new_session
from records.credentials import create_credential, parse_scopes
from records.identity.models import AccessLogEntry, Person
from records.models import StoredStatement
from tests.web.conftest import BASE, form_token
from tests.web.test_portfolio_pages import PNG

pytestmark = pytest.mark.db

# Routes that never return a person's data, and why.
NOT_PERSONAL = {
    "static": "CSS and scripts",
    "web.plotly_js": "plotly.js",
    "health": "liveness",
    "healthz": "liveness",
    "readyz": "readiness",
    "metrics": "counters, no person",
    "metrics_view": "counters, no person",
    "web.home": "redirects to the account's own page",
    "web.sign_in": "the sign-in form",
    "web.reauth.confirm": "the password form",
    "web.language": "switches the language",
    "web.classes.index": "class titles only",
    "web.admin.index": "the school's name",
    "web.admin.roster": "the upload form and job list",
    "web.admin.roster_job": "counts and row problems of an import (no person's data page)",
    "web.admin.roster_problems": "row problems of an import",
    "web.admin.classes": "class titles and counts",
    "web.admin.credentials": "device credentials",
    "web.admin.new_credential": "device credentials",
    "web.admin.confirm_revoke": "device credentials",
    "web.trust.certificate": "counts and a hash, never the person",
    "web.boards.index": "aggregates of at least the minimum cell size",
    "web.boards.data": "aggregates of at least the minimum cell size",
    "api.disparity": "aggregates of at least the minimum cell size",
    "api.openapi": "the API description",
    "api.me": "the caller's own account",
    "api.classes": "class titles",
    "api.job_status": "job state",
    "api.signing_keys": "public keys",
    "api.transfer_profile": "the BagIt profile",
    "api.read_import": "import receipt counts",
    "xapi.about": "LRS version",
    "xapi.activities": "activity definitions",
    "xapi.activity_profile": "activity documents",
    "lti.jwks": "public keys",
    "lti.login": "OIDC login initiation",
    "lti.deep_link": "the deep-linking picker (activities)",
    "lti.platforms": "platform registrations",
    "lti.continue_in_window": "a one-time sign-in ticket",
    "web.transfers.new_import": "the upload form",
    "web.transfers.import_job": "an import's status and receipt counts (no person's data)",
}
# Routes whose logging is proven by their own tests (they need a background job to exist).
TESTED_ELSEWHERE = {
    "api.read_export": "tests/api/test_transfer_api.py",
    "api.download_package": "tests/api/test_transfer_api.py",
    # A streamed download (read to its end there, which releases its database session).
    "web.transfers.download": "tests/web/test_transfer_pages.py",
    # Needs an LMS (the test platform) linked to the class.
    "lti.course_grades": "tests/lti/test_course_pages.py",
}


@pytest.fixture
def seeded(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> dict[str, Any]:
    pupil = sign_in("P1")
    token = form_token(pupil, "/portfolio/new")
    pupil.post(
        f"{BASE}/portfolio/new",
        data={
            "csrf_token": token,
            "kind": "artifact",
            "title": "絵",
            "photo": (io.BytesIO(PNG), "e.png"),
        },
        content_type="multipart/form-data",
    )
    with db_app.app_context(), new_session() as session:
        entry = session.scalars(select(StoredStatement.full)).one()
        new = create_credential(
            session,
            "B113210000015",
            parse_scopes("all"),
            "reader",
            db_app.config["CREDENTIAL_HASH_KEY"].encode(),
        )
        session.commit()
    basic = base64.b64encode(f"{new.info.key}:{new.secret}".encode()).decode()
    token = form_token(pupil, "/trust/consents")
    pupil.post(
        f"{BASE}/trust/consents",
        data={
            "csrf_token": token,
            "purpose": "research",
            "recipient_kind": "third_party",
            "recipient_name": "大学",
            "scope": "portfolio",
        },
    )
    page = pupil.get(f"{BASE}/trust/consents").get_data(as_text=True)
    receipt = re.search(r"/trust/receipts/(\d+)\.json", page).group(1)  # type: ignore[union-attr]
    token = form_token(pupil, "/trust/consents")
    pupil.post(f"{BASE}/trust/erasure", data={"csrf_token": token, "reason": "test"})
    share = form_token(pupil, "/trust/shares")
    shared = pupil.post(
        f"{BASE}/trust/shares",
        data={
            "csrf_token": share,
            "entries": [entry["id"]],
            "title": "t",
            "recipient": "r",
            "days": "3",
            "requires": "sign_in",
        },
    ).get_data(as_text=True)
    link = re.search(r"/share/([A-Za-z0-9_-]{20,})", shared).group(1)  # type: ignore[union-attr]
    exported = pupil.post(
        f"{BASE}/transfers/exports/new",
        data={"csrf_token": form_token(pupil, "/transfers/exports/new")},
    )
    export = exported.headers["Location"].rsplit("/", 1)[1]
    return {
        "entry": entry,
        "basic": basic,
        "receipt": receipt,
        "share": link,
        "p1": school["ids"]["P1"],
        "class": school["classes"]["4-1"],
        "export": export,
    }


def _calls(seeded: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, str]]]:
    """endpoint -> (who, path, headers) for the routes that return personal data."""
    p1, entry = seeded["p1"], seeded["entry"]
    lrs = {"Authorization": f"Basic {seeded['basic']}", "X-Experience-API-Version": "1.0.3"}
    agent = '{"account":{"homePage":"http://lrs.test/","name":"' + p1 + '"}}'
    return {
        "web.portfolio.home": ("P1", "/portfolio", {}),
        "web.portfolio.pupil_home": ("T1", f"/portfolio/people/{p1}", {}),
        "web.portfolio.history": ("T1", f"/portfolio/people/{p1}/history", {}),
        "web.portfolio.entry_file_view": (
            "T1",
            f"/portfolio/people/{p1}/entries/{entry['id']}/files/{entry['attachments'][0]['sha2']}",
            {},
        ),
        "web.portfolio.new_entry": ("P1", "/portfolio/new", {}),
        "web.portfolio.edit_entry": ("P1", f"/portfolio/entries/{entry['id']}/edit", {}),
        "web.classes.show": ("T1", f"/classes/{seeded['class']}", {}),
        "web.classes.log_activity": ("T1", f"/classes/{seeded['class']}/log", {}),
        "web.trust.access_log": ("P1", "/trust/access-log", {}),
        "web.trust.access_log_csv": ("P1", "/trust/access-log.csv", {}),
        "web.trust.school_log": ("adminA", "/trust/school-log", {}),
        "web.trust.school_log_csv": ("adminA", "/trust/school-log.csv", {}),
        "web.trust.consents": ("P1", "/trust/consents", {}),
        "web.trust.receipt": ("P1", f"/trust/receipts/{seeded['receipt']}.json", {}),
        "web.trust.shares": ("P1", "/trust/shares", {}),
        "web.shared.view": ("T2", f"/share/{seeded['share']}", {}),
        "web.trust.erasures": ("adminA", "/trust/erasures", {}),
        "web.admin.people": ("adminA", "/admin/schools/B113210000015/people", {}),
        "web.transfers.index": ("P1", "/transfers", {}),
        "web.transfers.new_export": ("adminA", f"/transfers/exports/new?pupil={p1}", {}),
        "web.transfers.export": ("adminA", f"/transfers/exports/{seeded['export']}", {}),
        "api.people": ("adminA", "/api/v1/people", {}),
        "api.person": ("adminA", f"/api/v1/people/{p1}", {}),
        "api.person_statements": ("adminA", f"/api/v1/people/{p1}/statements", {}),
        "xapi.statements": ("device", f"/xapi/statements?agent={agent}", lrs),
        "xapi.agents": ("device", f"/xapi/agents?agent={agent}", lrs),
        "xapi.state": (
            "device",
            f"/xapi/activities/state?activityId=https://a.example/x&agent={agent}",
            lrs,
        ),
        "xapi.agent_profile": ("device", f"/xapi/agents/profile?agent={agent}", lrs),
    }


def _log_rows(app: Flask, public_id: str) -> int:
    with app.app_context(), new_session() as session:
        person = session.scalars(select(Person.id).where(Person.public_id == public_id)).one()
        return int(
            session.scalar(
                select(func.count())
                .select_from(AccessLogEntry)
                .where(AccessLogEntry.subject_person_id == person)
            )
            or 0
        )


def test_every_get_route_is_classified(db_app: Flask) -> None:
    gets = {
        rule.endpoint for rule in db_app.url_map.iter_rules() if "GET" in (rule.methods or set())
    }
    known = set(NOT_PERSONAL) | set(TESTED_ELSEWHERE) | set(_calls(_fake_seeded()))
    unclassified = sorted(gets - known)
    assert unclassified == [], (
        "decide for each: does it return a pupil's personal data? list it in _calls (and make "
        f"it log) or in NOT_PERSONAL with the reason: {unclassified}"
    )


def test_every_personal_route_writes_the_access_log(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], seeded: dict[str, Any]
) -> None:
    clients: dict[str, FlaskClient] = {}
    silent = []
    for endpoint, (who, path, headers) in _calls(seeded).items():
        if endpoint not in db_app.view_functions:
            continue  # a route this build does not have
        client = clients.get(who) or (db_app.test_client() if who == "device" else sign_in(who))
        clients[who] = client
        before = _log_rows(db_app, seeded["p1"])
        answer = client.get(f"{BASE}{path}", headers=headers)
        assert answer.status_code in (200, 204, 404), (endpoint, answer.status_code)
        if answer.status_code == 200 and _log_rows(db_app, seeded["p1"]) == before:
            silent.append(endpoint)
    assert silent == [], f"these routes showed personal data without logging it: {silent}"


def _fake_seeded() -> dict[str, Any]:
    return {
        "p1": "p",
        "entry": {"id": "e", "attachments": [{"sha2": "s"}]},
        "basic": "b",
        "receipt": "1",
        "share": "s",
        "class": 1,
        "export": "x",
    }
