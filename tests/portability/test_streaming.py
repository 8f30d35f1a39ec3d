"""Streaming at scale (issue 5): exporting, downloading and importing hold a few pieces of a
pupil's data in memory at a time, never the pupil. A pupil with ~60 MB of attachments (one of
them 24 MB, random bytes so that compression hides nothing) goes from instance A to instance B
while tracemalloc watches; the peak of each side stays a small fraction of the data.

And the upload: an import may be far larger than MAX_CONTENT_LENGTH (2 MB in the tests), up to
TRANSFER_MAX_PACKAGE_BYTES, above which it is refused with 413 and a message that says so."""

from __future__ import annotations

import gc
import hashlib
import io
import os
import tracemalloc
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.db import new_session
from app.jobs import run_transfer_export
from records.identity.accounts import AccountInfo, load_account
from records.identity.models import Account
from records.identity.people import own_agent
from records.models import Attachment
from records.portability.imports import UploadTooLargeError, run_import
from records.portability.imports import start_import as start_import_job
from records.portability.models import TransferUploadChunk
from records.portability.transfers import package_chunks, start_export
from records.store import AttachmentPart, Writer, save_statements
from records.xapi import parse_statement
from tests.conftest import SERVICE_URL
from tests.portability.conftest import SERVICE_URL_B
from tests.portability.helpers import import_into, trust
from tests.portability.world import SCHOOL_A

pytestmark = pytest.mark.db

MB = 1024 * 1024
SIZES = [24 * MB] + [4 * MB] * 9  # 60 MB
PEAK_LIMIT = 16 * MB


def add_attachments(session: Session, org_id: int, actor: dict[str, Any], sizes: list[int]) -> str:
    """Statements about the pupil, each with one attachment of random bytes; returns the
    hash of the first (largest) attachment."""
    writer = Writer(
        org_id=org_id,
        credential_id=None,
        authority={"objectType": "Agent", "account": {"homePage": SERVICE_URL, "name": "cam"}},
    )
    first = ""
    for size in sizes:
        content = os.urandom(size)
        sha = hashlib.sha256(content).hexdigest()
        first = first or sha
        statement = {
            "id": str(uuid.uuid4()),
            "actor": actor,
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"ja": "見た"}},
            "object": {"objectType": "Activity", "id": "https://contents.example.jp/video/1"},
            "attachments": [
                {
                    "usageType": "http://id.tincanapi.com/attachment/supporting_media",
                    "display": {"ja": "動画"},
                    "contentType": "video/mp4",
                    "length": size,
                    "sha2": sha,
                }
            ],
        }
        save_statements(
            session,
            [parse_statement(statement)],
            writer,
            parts=[AttachmentPart(sha, "video/mp4", content)],
        )
        session.commit()
        session.expunge_all()
    return first


def _account(session: Session, email: str) -> AccountInfo:
    account_id = session.scalar(select(Account.id).where(Account.email == email))
    return load_account(session, account_id)


def test_export_and_import_hold_little_in_memory(
    db_app: Flask,
    db_app_b: Flask,
    sender: dict[str, Any],
    receiver: dict[str, Any],
    tmp_path: Path,
) -> None:
    with db_app.app_context(), new_session() as session:
        big = add_attachments(
            session, sender["org_id"], own_agent(sender["pupil"], SERVICE_URL), SIZES
        )
    today = datetime.now(UTC).date()
    package = tmp_path / "package.zip"
    gc.collect()
    already = tracemalloc.is_tracing()  # PYTHONTRACEMALLOC: count only what this test adds
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    try:
        with db_app.app_context(), new_session() as session:
            admin = _account(session, "admin@a.example.jp")
            view = start_export(session, admin, sender["pupil"], today, 7)
            session.commit()
            run_transfer_export(view.id)  # the job, as a worker runs it
            _view, chunks = package_chunks(session, admin, view.id)
            with package.open("wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            session.commit()
        export_peak = tracemalloc.get_traced_memory()[1] - base
        trust(db_app_b, db_app, SCHOOL_A)
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        with db_app_b.app_context(), new_session() as session:
            admin_b = _account(session, "admin@b.example.jp")
            with package.open("rb") as upload:
                started = start_import_job(session, admin_b, upload, "package.zip", None)
            session.commit()
            receipt = run_import(session, started.job_id, SERVICE_URL_B, today, lambda _d, _t: None)
            session.commit()
        import_peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if not already:
            tracemalloc.stop()

    data = sum(SIZES)
    assert package.stat().st_size > data  # everything is in the package
    assert receipt.attachments_stored == len(SIZES) + 3  # and arrived (+ the world's own 3)
    print(
        f"data {data / MB:.0f} MB: peak export {export_peak / MB:.1f} MB, import "
        f"{import_peak / MB:.1f} MB"
    )
    assert export_peak < PEAK_LIMIT, f"export peaked at {export_peak / MB:.1f} MB"
    assert import_peak < PEAK_LIMIT, f"import peaked at {import_peak / MB:.1f} MB"
    with db_app_b.app_context(), new_session() as session:
        stored = session.scalar(
            select(Attachment.content).where(
                Attachment.org_id == receiver["org_id"], Attachment.sha2 == big
            )
        )
    assert stored is not None
    assert hashlib.sha256(stored).hexdigest() == big  # appended piece by piece, byte for byte


@pytest.fixture
def large_package(db_app: Flask, client: FlaskClient, sender: dict[str, Any]) -> bytes:
    """A package bigger than the tests' MAX_CONTENT_LENGTH (2 MB)."""
    with db_app.app_context(), new_session() as session:
        add_attachments(
            session, sender["org_id"], own_agent(sender["pupil"], SERVICE_URL), [3 * MB]
        )
    started = client.post(
        f"/api/v1/learners/{sender['pupil']}/exports", headers=sender["admin"]
    ).get_json()
    package = client.get(started["package_url"], headers=sender["admin"]).data
    assert len(package) > db_app.config["MAX_CONTENT_LENGTH"]
    return package


def _multipart(package: bytes) -> dict[str, Any]:
    """A form upload encoded in memory (the test client would spool a large one to a
    temporary file that nobody closes)."""
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(package), "package.zip")})
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def test_import_accepts_packages_beyond_max_content_length(
    db_app: Flask, client: FlaskClient, sender: dict[str, Any], large_package: bytes
) -> None:
    raw = import_into(client, sender["admin"], large_package)
    assert raw["status"] == "finished", raw
    assert raw["receipt"]["statements"]["conflicts"] == 0
    form = client.post("/api/v1/imports", headers=sender["admin"], **_multipart(large_package))
    assert form.status_code == 202, form.get_json()
    assert form.get_json()["status"] == "finished", form.get_json()


def test_import_beyond_the_package_limit_is_413_with_a_message(
    db_app: Flask,
    client: FlaskClient,
    sender: dict[str, Any],
    large_package: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(db_app.config, "TRANSFER_MAX_PACKAGE_BYTES", MB)
    for body in (
        {"data": large_package, "headers": {**sender["admin"], "Content-Type": "application/zip"}},
        {"headers": sender["admin"], **_multipart(large_package)},
    ):
        answer = client.post("/api/v1/imports", **body)
        assert answer.status_code == 413
        message = answer.get_json()["error"]["message"]
        assert "TRANSFER_MAX_PACKAGE_BYTES" in message
        assert str(MB) in message
    with db_app.app_context(), new_session() as session:
        assert session.scalar(select(func.count()).select_from(TransferUploadChunk)) == 0
        admin = _account(session, "admin@a.example.jp")
        with pytest.raises(UploadTooLargeError):  # a body without Content-Length is counted
            start_import_job(
                session, admin, io.BytesIO(b"x" * (MB + 1)), "p.zip", None, max_bytes=MB
            )
        session.rollback()
