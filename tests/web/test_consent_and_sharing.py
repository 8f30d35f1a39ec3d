"""Consent given and taken back with signed receipts; share links that expire, need a code or a
sign-in, stop at once when the pupil stops them or takes back the consent, and are logged."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.db import get_engine, new_session
from records.errors import ForbiddenError
from records.identity.models import AccessLogEntry, Person
from records.models import StoredStatement
from records.trust.consent import receipt_is_genuine, require_consent
from records.trust.models import Consent, ShareLink
from tests.web.conftest import BASE, form_token

pytestmark = pytest.mark.db


@pytest.fixture
def stranger(client: FlaskClient) -> FlaskClient:
    """Someone outside school with a browser (which sends a Referer on HTTPS form posts)."""
    client.environ_base["HTTP_REFERER"] = f"{BASE}/"
    return client


def _person_id(app: Flask, public_id: str) -> int:
    with app.app_context(), new_session() as session:
        return session.scalars(select(Person.id).where(Person.public_id == public_id)).one()


def _give(client: FlaskClient, **fields: str) -> Any:
    token = form_token(client, "/trust/consents")
    data = {
        "csrf_token": token,
        "purpose": "admissions",
        "recipient_kind": "third_party",
        "recipient_name": "みなと市立中央中学校 入試係",
        "scope": "portfolio",
        **fields,
    }
    return client.post(f"{BASE}/trust/consents", data=data)


def test_consent_given_and_taken_back_with_receipts(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    pupil = sign_in("P1")
    assert _give(pupil).status_code == 302
    page = pupil.get(f"{BASE}/trust/consents").get_data(as_text=True)
    assert "入試係" in page
    receipt_url = re.search(r'href="(/trust/receipts/\d+\.json)"', page)
    assert receipt_url is not None
    receipt = pupil.get(f"{BASE}{receipt_url.group(1)}").get_json()
    assert receipt["change"] == "given"
    assert receipt["pupil"] == school["ids"]["P1"]
    person = _person_id(db_app, school["ids"]["P1"])
    with db_app.app_context(), new_session() as session:
        assert receipt_is_genuine(session, receipt)
        forged = {**receipt, "purpose": "research"}
        assert not receipt_is_genuine(session, forged)
        assert require_consent(session, person, "admissions").id > 0
        consent_id = session.scalars(select(Consent.id)).one()

    token = form_token(pupil, "/trust/consents")
    revoked = pupil.post(f"{BASE}/trust/consents/{consent_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 302
    with db_app.app_context(), new_session() as session, pytest.raises(ForbiddenError):
        require_consent(session, person, "admissions")  # revocation takes effect at once
    page = pupil.get(f"{BASE}/trust/consents").get_data(as_text=True)
    assert len(re.findall(r'href="/trust/receipts/\d+\.json"', page)) == 2
    again = pupil.post(f"{BASE}/trust/consents/{consent_id}/revoke", data={"csrf_token": token})
    assert again.status_code == 400


def test_bad_consent_forms_are_refused_and_write_nothing(
    db_app: Flask, sign_in: Callable[[str], FlaskClient]
) -> None:
    pupil = sign_in("P1")
    for fields in (
        {"purpose": "selling"},
        {"recipient_name": ""},
        {"scope": "x"},
        {"recipient_name": "", "recipient_org_code": "B999"},
    ):
        answer = _give(pupil, **fields)
        assert answer.status_code == 400, fields
        assert 'role="alert"' in answer.get_data(as_text=True)
    with db_app.app_context(), new_session() as session:
        assert session.scalars(select(Consent)).all() == []


def test_only_the_pupil_and_guardian_manage_consent(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    path = f"{BASE}/trust/consents?pupil={school['ids']['P1']}"
    for other in ("P2", "T1", "adminA"):
        assert sign_in(other).get(path).status_code == 403, other


def _make_link(pupil: FlaskClient, app: Flask, requires: str = "code") -> tuple[str, str | None]:
    token = form_token(pupil, "/portfolio/new?kind=reflection")
    pupil.post(
        f"{BASE}/portfolio/new",
        data={
            "csrf_token": token,
            "kind": "reflection",
            "title": "職場体験",
            "text": "パン屋さんで働いた",
        },
        content_type="multipart/form-data",
    )
    with app.app_context(), new_session() as session:
        entry = session.scalars(
            select(StoredStatement.statement_id).order_by(StoredStatement.seq.desc())
        ).first()
    token = form_token(pupil, "/trust/shares")
    page = pupil.post(
        f"{BASE}/trust/shares",
        data={
            "csrf_token": token,
            "entries": [entry],
            "title": "職場体験の記録",
            "recipient": "サッカークラブのコーチ",
            "days": "7",
            "requires": requires,
        },
    ).get_data(as_text=True)
    url = re.search(r'value="(https?://[^"]+/share/[^"]+)"', page)
    assert url is not None, page[-2000:]
    code = re.search(r'class="code">(\d{6})<', page)
    return url.group(1).split("/share/", 1)[1], code.group(1) if code else None


def test_a_share_link_with_a_code(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], stranger: FlaskClient
) -> None:
    pupil = sign_in("P1")
    token, code = _make_link(pupil, db_app)
    assert code is not None
    ask = stranger.get(f"{BASE}/share/{token}")
    assert ask.status_code == 200
    assert 'name="code"' in ask.get_data(as_text=True)
    csrf = form_token(stranger, f"/share/{token}")
    wrong = stranger.post(
        f"{BASE}/share/{token}",
        data={"csrf_token": csrf, "code": "000000" if code != "000000" else "111111"},
    )
    assert wrong.status_code == 403
    right = stranger.post(f"{BASE}/share/{token}", data={"csrf_token": csrf, "code": code})
    assert right.status_code == 200
    assert "パン屋さんで働いた" in right.get_data(as_text=True)
    with db_app.app_context(), new_session() as session:
        rows = session.scalars(
            select(AccessLogEntry).where(AccessLogEntry.resource.like("share.%"))
        ).all()
    assert [r.purpose for r in rows] == ["consented"]
    log = pupil.get(f"{BASE}/trust/access-log").get_data(as_text=True)
    assert "共有リンクで見せた記録" in log

    # The pupil stops the link: it fails at once.
    with db_app.app_context(), new_session() as session:
        link_id = session.scalars(select(ShareLink.id)).one()
    stop = form_token(pupil, "/trust/shares")
    assert (
        pupil.post(f"{BASE}/trust/shares/{link_id}/revoke", data={"csrf_token": stop}).status_code
        == 302
    )
    assert (
        stranger.post(f"{BASE}/share/{token}", data={"csrf_token": csrf, "code": code}).status_code
        == 403
    )


def test_too_many_wrong_codes_lock_the_link(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], stranger: FlaskClient
) -> None:
    token, code = _make_link(sign_in("P1"), db_app)
    csrf = form_token(stranger, f"/share/{token}")
    bad = "999999" if code != "999999" else "888888"
    for _ in range(5):
        assert (
            stranger.post(
                f"{BASE}/share/{token}", data={"csrf_token": csrf, "code": bad}
            ).status_code
            == 403
        )
    locked = stranger.post(f"{BASE}/share/{token}", data={"csrf_token": csrf, "code": code})
    assert locked.status_code == 403


def test_expiry_and_consent_revocation_close_the_link(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], stranger: FlaskClient
) -> None:
    pupil = sign_in("P1")
    token, code = _make_link(pupil, db_app)
    csrf = form_token(stranger, f"/share/{token}")
    assert (
        stranger.post(f"{BASE}/share/{token}", data={"csrf_token": csrf, "code": code}).status_code
        == 200
    )
    with db_app.app_context(), new_session() as session:
        consent_id = session.scalars(select(Consent.id).order_by(Consent.id.desc())).first()
    stop = form_token(pupil, "/trust/consents")
    pupil.post(f"{BASE}/trust/consents/{consent_id}/revoke", data={"csrf_token": stop})
    assert (
        stranger.post(f"{BASE}/share/{token}", data={"csrf_token": csrf, "code": code}).status_code
        == 403
    )

    token, code = _make_link(pupil, db_app)
    with db_app.app_context(), get_engine().begin() as conn:
        past = datetime.now(UTC) - timedelta(minutes=1)
        conn.execute(update(ShareLink).values(expires_at=past))
    assert stranger.get(f"{BASE}/share/{token}").status_code == 403
    assert stranger.get(f"{BASE}/share/not-a-token").status_code == 404


def test_a_share_link_that_needs_a_sign_in(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], stranger: FlaskClient
) -> None:
    token, _ = _make_link(sign_in("P1"), db_app, requires="sign_in")
    anonymous = stranger.get(f"{BASE}/share/{token}")
    assert anonymous.status_code == 302
    assert "/sign-in?next=" in anonymous.headers["Location"]
    reader = sign_in("T2")
    shown = reader.get(f"{BASE}/share/{token}")
    assert shown.status_code == 200
    assert "パン屋さんで働いた" in shown.get_data(as_text=True)
    with db_app.app_context(), new_session() as session:
        row = session.scalars(
            select(AccessLogEntry).where(AccessLogEntry.resource.like("share.%"))
        ).one()
    assert row.actor_account_id is not None


def test_only_own_current_entries_can_be_shared(
    db_app: Flask, sign_in: Callable[[str], FlaskClient]
) -> None:
    _make_link(sign_in("P1"), db_app)
    with db_app.app_context(), new_session() as session:
        entry = session.scalars(select(StoredStatement.statement_id)).first()
    other = sign_in("P2")
    token = form_token(other, "/trust/shares")
    answer = other.post(
        f"{BASE}/trust/shares",
        data={
            "csrf_token": token,
            "entries": [entry],
            "title": "x",
            "recipient": "y",
            "days": "7",
            "requires": "code",
        },
    )
    assert answer.status_code in (400, 404)


def test_a_learning_service_reads_a_pupils_records_only_with_consent(
    db_app: Flask,
    sign_in: Callable[[str], FlaskClient],
    school: dict[str, Any],
    stranger: FlaskClient,
) -> None:
    import base64

    from records.credentials import create_credential, parse_scopes
    from records.organisations import create_organisation
    from tests.factories import make_statement

    with db_app.app_context(), new_session() as session:
        create_organisation(session, "edutech-kk", "エデュテック株式会社", kind="provider")
        new = create_credential(
            session,
            "edutech-kk",
            parse_scopes("all"),
            "ドリル",
            db_app.config["CREDENTIAL_HASH_KEY"].encode(),
        )
        session.commit()
    auth = base64.b64encode(f"{new.info.key}:{new.secret}".encode()).decode()
    lrs = {"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"}
    actor = {"account": {"homePage": "http://lrs.test/", "name": school["ids"]["P1"]}}
    assert (
        stranger.post(
            f"{BASE}/xapi/statements", json=make_statement(actor=actor), headers=lrs
        ).status_code
        == 200
    )
    refused = stranger.get(f"{BASE}/xapi/statements", headers=lrs)
    assert refused.status_code == 403
    assert "consent" in refused.get_json()["error"]["message"]

    pupil = sign_in("P1")
    assert (
        _give(
            pupil,
            purpose="learning_service",
            recipient_kind="third_party",
            recipient_org_code="edutech-kk",
            recipient_name="",
        ).status_code
        == 302
    )
    allowed = stranger.get(f"{BASE}/xapi/statements", headers=lrs)
    assert allowed.status_code == 200
    with db_app.app_context(), new_session() as session:
        row = session.scalars(
            select(AccessLogEntry).where(AccessLogEntry.resource == "xapi.statements")
        ).one()
        consent_id = session.scalars(select(Consent.id)).one()
    assert (row.purpose, row.actor_credential_id) == ("consented", new.info.id)
    token = form_token(pupil, "/trust/consents")
    pupil.post(f"{BASE}/trust/consents/{consent_id}/revoke", data={"csrf_token": token})
    assert stranger.get(f"{BASE}/xapi/statements", headers=lrs).status_code == 403
