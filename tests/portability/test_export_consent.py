"""Consent where data leaves (issue 8): an export names its recipient; one to a board or a
third party needs the pupil's consent for that purpose and recipient when it starts, when it is
built and when it is downloaded, and a revocation in between refuses the download at once. The
pupil's own copy and the transfer to a school follow the transfer rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.db import new_session
from app.jobs import run_transfer_export
from records.identity.accounts import AccountInfo, load_account
from records.identity.models import AccessLogEntry, Account
from records.jobs import get_job
from records.organisations import create_organisation
from records.portability.models import TransferExport
from records.portability.transfers import start_export
from records.trust.consent import ConsentRequest, give_consent, revoke_consent
from tests.conftest import SERVICE_URL
from tests.portability.world import build_sender

pytestmark = pytest.mark.db

PROVIDER = "EDU-LEARN-01"
REAL_SCHOOL = "B113210000023"


@pytest.fixture
def world(db_app: Flask) -> dict[str, Any]:
    with db_app.app_context(), new_session() as session:
        found = build_sender(session, SERVICE_URL, db_app.config["CREDENTIAL_HASH_KEY"].encode())
        found["provider_id"] = create_organisation(
            session, PROVIDER, "まなびサービス株式会社", kind="provider"
        ).id
        create_organisation(session, REAL_SCHOOL, "千代田区立第三小学校", kind="school")
        session.commit()
    return found


def _pupil_account(session: Any) -> AccountInfo:
    account_id = session.scalar(select(Account.id).where(Account.email == "p1@a.example.jp"))
    return load_account(session, account_id)


def _consent(app: Flask, world: dict[str, Any], purpose: str, scope: str = "all") -> int:
    with app.app_context(), new_session() as session:
        consent, _receipt = give_consent(
            session,
            _pupil_account(session),
            world["pupil"],
            ConsentRequest(
                purpose=purpose,
                recipient_kind="third_party",
                scope=scope,
                recipient_org_code=PROVIDER,
            ),
            datetime.now(UTC).date(),
        )
        session.commit()
        return consent.id


def _revoke(app: Flask, consent_id: int) -> None:
    with app.app_context(), new_session() as session:
        revoke_consent(session, _pupil_account(session), consent_id, datetime.now(UTC).date())
        session.commit()


def _export(
    client: FlaskClient, world: dict[str, Any], headers: dict[str, str], **params: str
) -> Any:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(f"/api/v1/learners/{world['pupil']}/exports?{query}", headers=headers)


def _exports(app: Flask) -> int:
    with app.app_context(), new_session() as session:
        return int(session.scalar(select(func.count()).select_from(TransferExport)) or 0)


def _logged(app: Flask, purpose: str, resource: str) -> int:
    with app.app_context(), new_session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AccessLogEntry)
                .where(AccessLogEntry.purpose == purpose, AccessLogEntry.resource == resource)
            )
            or 0
        )


def test_third_party_export_is_refused_without_consent(
    db_app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    refused = _export(client, world, world["admin"], recipient=PROVIDER, purpose="learning_service")
    assert refused.status_code == 403
    message = refused.get_json()["error"]["message"]
    assert "consent" in message
    assert PROVIDER in message
    assert _exports(db_app) == 0  # nothing queued, nothing built
    # consent for another purpose, or for less than everything, is not consent for this
    _consent(db_app, world, "research")
    _consent(db_app, world, "learning_service", scope="portfolio")
    again = _export(client, world, world["admin"], recipient=PROVIDER, purpose="learning_service")
    assert again.status_code == 403
    assert _exports(db_app) == 0


def test_third_party_export_with_consent_is_built_and_downloaded(
    db_app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    _consent(db_app, world, "learning_service")
    started = _export(
        client, world, world["pupil_headers"], recipient=PROVIDER, purpose="learning_service"
    )
    assert started.status_code == 202, started.get_json()
    body = started.get_json()
    assert body["status"] == "finished", body
    assert body["recipient_kind"] == "third_party"
    assert body["recipient"] == PROVIDER
    assert body["purpose"] == "learning_service"
    package = client.get(body["package_url"], headers=world["pupil_headers"])
    assert package.status_code == 200
    assert package.data.startswith(b"PK")
    assert _logged(db_app, "consented", "export") == 1
    assert _logged(db_app, "consented", "export.download") == 1


def test_revocation_between_start_and_download_refuses_the_download(
    db_app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    consent = _consent(db_app, world, "learning_service")
    body = _export(
        client, world, world["admin"], recipient=PROVIDER, purpose="learning_service"
    ).get_json()
    assert body["status"] == "finished", body
    _revoke(db_app, consent)
    refused = client.get(body["package_url"], headers=world["admin"])
    assert refused.status_code == 403
    assert "taken back" in refused.get_json()["error"]["message"]
    assert _logged(db_app, "consented", "export.download") == 0  # nothing left
    # consent given again: the same package may go
    _consent(db_app, world, "learning_service")
    assert client.get(body["package_url"], headers=world["admin"]).status_code == 200


def test_revocation_before_the_job_runs_builds_nothing(
    db_app: Flask, world: dict[str, Any]
) -> None:
    consent = _consent(db_app, world, "admissions")
    with db_app.app_context(), new_session() as session:
        admin_id = session.scalar(select(Account.id).where(Account.email == "admin@a.example.jp"))
        view = start_export(
            session,
            load_account(session, admin_id),
            world["pupil"],
            datetime.now(UTC).date(),
            7,
            recipient=PROVIDER,
            purpose="admissions",
        )
        session.commit()
    _revoke(db_app, consent)
    with db_app.app_context():
        run_transfer_export(view.id)
        with new_session() as session:
            job = get_job(session, view.job_id)
    assert job.status == "failed"
    assert "no consent in force" in job.error


def test_own_copy_and_school_transfer_need_no_consent(
    db_app: Flask, client: FlaskClient, world: dict[str, Any]
) -> None:
    own = _export(client, world, world["pupil_headers"]).get_json()
    assert own["recipient_kind"] == "self"
    assert own["status"] == "finished"
    assert client.get(own["package_url"], headers=world["pupil_headers"]).status_code == 200
    assert _logged(db_app, "self", "export.download") == 1
    school = _export(client, world, world["admin"], recipient=REAL_SCHOOL).get_json()
    assert school["recipient_kind"] == "school"
    assert school["recipient"] == REAL_SCHOOL
    assert client.get(school["package_url"], headers=world["admin"]).status_code == 200
    assert _logged(db_app, "transfer", "export.download") == 1


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"recipient": "NOBODY-9"}, "no organisation"),
        ({"recipient": PROVIDER}, "purpose must be one of"),
        ({"recipient": PROVIDER, "purpose": "transfer"}, "purpose must be one of"),
        ({"recipient": REAL_SCHOOL, "purpose": "research"}, "is a transfer"),
        ({"purpose": "research"}, "must name its recipient"),
    ],
)
def test_bad_recipients_are_refused_with_the_reason(
    db_app: Flask,
    client: FlaskClient,
    world: dict[str, Any],
    params: dict[str, str],
    reason: str,
) -> None:
    answer = _export(client, world, world["admin"], **params)
    assert answer.status_code == 400
    assert reason in answer.get_json()["error"]["message"]
    assert _exports(db_app) == 0
