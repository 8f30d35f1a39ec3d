"""Transfer pages (issues 5 and 8): a pupil downloads their own portfolio, a school admin
exports a pupil's records and imports packages (with progress, then the download link or the
receipt, and the choice of pupil when nobody matches); both starts ask for the password again;
an export to a third party without consent is refused with the reason; uploads beyond
TRANSFER_MAX_PACKAGE_BYTES get 413 with a message."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from app.db import new_session
from records.identity.accounts import load_account
from records.identity.models import AccessLogEntry, Account, ActorLink, Person
from records.models import BackgroundJob
from records.organisations import create_organisation
from records.portability.models import TransferExport
from records.portfolio.entries import EntryInput, write_entry
from tests.conftest import SERVICE_URL
from tests.web.conftest import BASE, form_token

pytestmark = pytest.mark.db

PROVIDER = "EDU-LEARN-01"


@pytest.fixture
def records(db_app: Flask, school: dict[str, Any]) -> dict[str, Any]:
    """P1 wrote two entries."""
    with db_app.app_context(), new_session() as session:
        account_id = session.scalar(
            select(Account.id).where(Account.email == school["emails"]["P1"])
        )
        pupil = load_account(session, account_id)
        today = datetime.now(UTC).date()
        for title in ("かけ算の振り返り", "漢字の練習"):
            write_entry(
                session,
                pupil,
                EntryInput(kind="reflection", title=title, text="がんばった", subject="japanese"),
                SERVICE_URL,
                today,
            )
        session.commit()
    return school


def _count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context(), new_session() as session:
        stmt = select(func.count()).select_from(model)
        if where:
            stmt = stmt.where(*where)
        return int(session.scalar(stmt) or 0)


def _person_id(app: Flask, public_id: str) -> int:
    with app.app_context(), new_session() as session:
        return int(session.scalars(select(Person.id).where(Person.public_id == public_id)).one())


def _start_export(client: FlaskClient, data: dict[str, str], query: str = "") -> Any:
    token = form_token(client, f"/transfers/exports/new{query}")
    return client.post(f"{BASE}/transfers/exports/new", data={"csrf_token": token, **data})


def _export_id(answer: Any) -> str:
    assert answer.status_code == 303, answer.get_data(as_text=True)
    found = re.search(r"/transfers/exports/([0-9a-f-]{36})$", answer.headers["Location"])
    assert found is not None, answer.headers["Location"]
    return found.group(1)


def test_pupil_downloads_their_own_portfolio(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], records: dict[str, Any]
) -> None:
    pupil = sign_in("P1")
    start = pupil.get(f"{BASE}/transfers").get_data(as_text=True)
    assert "/transfers/exports/new" in start
    form = pupil.get(f"{BASE}/transfers/exports/new")
    assert form.status_code == 200
    export_id = _export_id(_start_export(pupil, {}))
    page = pupil.get(f"{BASE}/transfers/exports/{export_id}").get_data(as_text=True)
    assert 'id="download"' in page
    assert f"/transfers/exports/{export_id}/package" in page
    assert 'id="expires"' in page
    package = pupil.get(f"{BASE}/transfers/exports/{export_id}/package")
    assert package.status_code == 200
    assert package.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(package.data)) as archive:
        names = archive.namelist()
    assert any(name.endswith("/data/portfolio.json") for name in names)
    mine = _person_id(db_app, records["ids"]["P1"])
    logged = _count(
        db_app,
        AccessLogEntry,
        AccessLogEntry.subject_person_id == mine,
        AccessLogEntry.purpose == "self",
        AccessLogEntry.resource.like("export%"),
    )
    assert logged >= 4  # the form, the start, the page, the download
    downloads = _count(
        db_app,
        AccessLogEntry,
        AccessLogEntry.subject_person_id == mine,
        AccessLogEntry.resource == "export.download",
    )
    assert downloads == 1
    listed = pupil.get(f"{BASE}/transfers").get_data(as_text=True)
    assert f"/transfers/exports/{export_id}" in listed
    # another pupil sees neither the page nor the package
    other = sign_in("P2")
    assert other.get(f"{BASE}/transfers/exports/{export_id}").status_code == 403
    assert other.get(f"{BASE}/transfers/exports/{export_id}/package").status_code == 403


def test_starting_an_export_or_import_asks_for_the_password_again(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], records: dict[str, Any]
) -> None:
    pupil = sign_in("P1")
    token = form_token(pupil, "/transfers")
    with pupil.session_transaction() as browser:
        browser["authenticated_at"] = int(datetime.now(UTC).timestamp()) - 3600
    asked = pupil.get(f"{BASE}/transfers/exports/new")
    assert asked.status_code == 302
    assert "/confirm-password" in asked.headers["Location"]
    posted = pupil.post(f"{BASE}/transfers/exports/new", data={"csrf_token": token})
    assert posted.status_code == 302
    assert "/confirm-password" in posted.headers["Location"]
    assert _count(db_app, TransferExport) == 0
    admin = sign_in("adminA")
    with admin.session_transaction() as browser:
        browser["authenticated_at"] = 0
    upload = admin.post(
        f"{BASE}/transfers/imports/new",
        data={"csrf_token": token, "file": (io.BytesIO(b"PK"), "p.zip")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    assert "/confirm-password" in upload.headers["Location"]
    assert _count(db_app, BackgroundJob, BackgroundJob.kind == "transfer_import") == 0


def test_third_party_export_without_consent_is_refused_with_the_reason(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], records: dict[str, Any]
) -> None:
    with db_app.app_context(), new_session() as session:
        create_organisation(session, PROVIDER, "まなびサービス株式会社", kind="provider")
        session.commit()
    admin = sign_in("adminA")
    p1 = records["ids"]["P1"]
    form = admin.get(f"{BASE}/transfers/exports/new?pupil={p1}").get_data(as_text=True)
    assert "山田 花子" in form
    refused = _start_export(
        admin, {"pupil": p1, "recipient": PROVIDER, "purpose": "learning_service"}, f"?pupil={p1}"
    )
    assert refused.status_code == 403
    page = refused.get_data(as_text=True)
    assert "no consent in force" in page  # the reason, in the domain's words
    assert "同意" in page  # and in the page's language
    assert _count(db_app, TransferExport) == 0
    unknown = _start_export(admin, {"pupil": p1, "recipient": "NOBODY-1"}, f"?pupil={p1}")
    assert unknown.status_code == 400
    assert "no organisation with code" in unknown.get_data(as_text=True)
    # a teacher exports nobody
    teacher = sign_in("T1")
    assert teacher.get(f"{BASE}/transfers/exports/new?pupil={p1}").status_code == 403


def _package(admin: FlaskClient, p1: str) -> bytes:
    export_id = _export_id(_start_export(admin, {"pupil": p1}, f"?pupil={p1}"))
    package = admin.get(f"{BASE}/transfers/exports/{export_id}/package")
    assert package.status_code == 200
    return package.data


def _upload(admin: FlaskClient, package: bytes, **fields: str) -> Any:
    token = form_token(admin, "/transfers/imports/new")
    return admin.post(
        f"{BASE}/transfers/imports/new",
        data={"csrf_token": token, "file": (io.BytesIO(package), "package.zip"), **fields},
        content_type="multipart/form-data",
    )


def _job_page(admin: FlaskClient, answer: Any) -> tuple[str, str]:
    assert answer.status_code == 303, answer.get_data(as_text=True)
    job_id = answer.headers["Location"].rsplit("/", 1)[1]
    page = admin.get(f"{BASE}/transfers/imports/{job_id}")
    assert page.status_code == 200
    return job_id, page.get_data(as_text=True)


def _receipt(page: str) -> dict[str, str]:
    table = page.split('<table id="receipt">', 1)[1].split("</table>", 1)[0]
    return dict(re.findall(r'data-key="(\w+)"><th scope="row">[^<]+</th><td>([^<]*)</td>', table))


def test_admin_imports_a_package_and_reads_the_receipt(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], records: dict[str, Any]
) -> None:
    admin = sign_in("adminA")
    package = _package(admin, records["ids"]["P1"])
    _job, page = _job_page(admin, _upload(admin, package))
    receipt = _receipt(page)
    assert receipt["imported"] == "0"  # the school's own records: all here already
    assert int(receipt["skipped"]) >= 2
    assert receipt["conflicts"] == "0"
    listed = admin.get(f"{BASE}/transfers").get_data(as_text=True)
    assert "/transfers/imports/" in listed
    assert admin.get(f"{BASE}/transfers/imports/new").status_code == 200
    # not a zip: refused by the job with its reason, nothing written
    _job, refused = _job_page(admin, _upload(admin, b"not a zip at all"))
    assert "not a zip file" in refused
    # no file, no CSRF token: 400
    token = form_token(admin, "/transfers/imports/new")
    assert (
        admin.post(f"{BASE}/transfers/imports/new", data={"csrf_token": token}).status_code == 400
    )
    no_token = admin.post(
        f"{BASE}/transfers/imports/new",
        data={"file": (io.BytesIO(package), "package.zip")},
        content_type="multipart/form-data",
    )
    assert no_token.status_code == 400
    # pupils and teachers import nothing
    assert sign_in("T1").get(f"{BASE}/transfers/imports/new").status_code == 403


def test_import_waits_for_the_admin_to_choose_the_pupil(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], records: dict[str, Any]
) -> None:
    admin = sign_in("adminA")
    p1 = records["ids"]["P1"]
    package = _package(admin, p1)
    with db_app.app_context(), new_session() as session:  # nobody here has its identifiers now
        session.execute(delete(ActorLink).where(ActorLink.person_id == _person_id(db_app, p1)))
        session.commit()
    job_id, page = _job_page(admin, _upload(admin, package))
    assert f"/transfers/imports/{job_id}/pupil" in page
    with db_app.app_context(), new_session() as session:
        assert session.get(BackgroundJob, job_id).status == "needs_pupil"  # type: ignore[union-attr]
    token = form_token(admin, f"/transfers/imports/{job_id}")
    wrong = admin.post(
        f"{BASE}/transfers/imports/{job_id}/pupil", data={"csrf_token": token, "person": "p-x"}
    )
    assert wrong.status_code == 400
    chosen = admin.post(
        f"{BASE}/transfers/imports/{job_id}/pupil", data={"csrf_token": token, "person": p1}
    )
    _job, done = _job_page(admin, chosen)
    receipt = _receipt(done)
    assert receipt["pupil"] == p1
    assert int(receipt["aliases"]) >= 1  # the links are back
    again = admin.post(
        f"{BASE}/transfers/imports/{job_id}/pupil", data={"csrf_token": token, "person": p1}
    )
    assert again.status_code == 400  # not waiting any more


def test_upload_beyond_the_package_limit_is_413(
    db_app: Flask,
    sign_in: Callable[[str], FlaskClient],
    records: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = sign_in("adminA")
    monkeypatch.setitem(db_app.config, "TRANSFER_MAX_PACKAGE_BYTES", 1024)
    answer = _upload(admin, b"PK" + b"\0" * 4096)
    assert answer.status_code == 413
    assert "MB" in answer.get_data(as_text=True)
    assert _count(db_app, BackgroundJob, BackgroundJob.kind == "transfer_import") == 0
