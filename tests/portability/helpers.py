"""Moving packages between the two test instances, and tampering with them."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bagit
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Text, cast, func, select

from app.db import new_session
from records.identity.models import AccessLogEntry, ActorLink
from records.models import Attachment, StatementIndex, StoredStatement
from records.portability.export import _sign
from records.portability.keys import signing_key
from records.portability.models import TransferImport


def export_from(client: FlaskClient, public_id: str, headers: dict[str, str]) -> bytes:
    started = client.post(f"/api/v1/learners/{public_id}/exports", headers=headers)
    assert started.status_code == 202, started.get_json()
    body = started.get_json()
    assert body["status"] == "finished", body
    package = client.get(body["package_url"], headers=headers)
    assert package.status_code == 200, package.get_json()
    assert package.headers["Content-Type"] == "application/zip"
    return package.data


def import_into(
    client: FlaskClient, headers: dict[str, str], package: bytes, **params: str
) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    answer = client.post(
        "/api/v1/imports" + (f"?{query}" if query else ""),
        headers={**headers, "Content-Type": "application/zip"},
        data=package,
    )
    assert answer.status_code == 202, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def trust(app: Flask, sender_app: Flask, org_code: str) -> None:
    """The receiving instance trusts the sender's current key, through the CLI."""
    keys = sender_app.test_cli_runner().invoke(
        args=["transfer", "keys", "list", "--org", org_code, "--json"]
    )
    assert keys.exit_code == 0, keys.output
    active = [k for k in json.loads(keys.output) if k["status"] == "active"]
    added = app.test_cli_runner().invoke(
        args=["transfer", "trust", "add", "--org", org_code, "--key", active[0]["publicKey"]]
    )
    assert added.exit_code == 0, added.output


def statement_texts(app: Flask) -> dict[str, tuple[Any, Any, bool]]:
    """statement id -> (the stored statement, stored, voided), every organisation.

    The statement is compared as the JSON value the database holds (JSONB keeps no key order
    or spacing of its own, so the text differs between PostgreSQL and SQLite while the value
    is the same), and `stored` as an instant in UTC."""
    with app.app_context(), new_session() as session:
        rows = session.execute(
            select(
                StoredStatement.statement_id,
                cast(StoredStatement.full, Text),
                StoredStatement.stored,
                StoredStatement.voided,
            )
        )
        return {sid: (json.loads(text), _utc(stored), voided) for sid, text, stored, voided in rows}


def _utc(moment: datetime) -> datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC)


def index_rows(app: Flask) -> Counter[tuple[str, str, str]]:
    """(statement id, kind, key) of every index row: the same statement, the same rows."""
    with app.app_context(), new_session() as session:
        rows = session.execute(
            select(StoredStatement.statement_id, StatementIndex.kind, StatementIndex.key).join(
                StoredStatement, StoredStatement.seq == StatementIndex.seq
            )
        )
        return Counter((sid, kind, key) for sid, kind, key in rows)


def row_counts(app: Flask) -> dict[str, int]:
    with app.app_context(), new_session() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (
                StoredStatement,
                StatementIndex,
                Attachment,
                ActorLink,
                TransferImport,
            )
        }


def access_rows(app: Flask, purpose: str) -> int:
    with app.app_context(), new_session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AccessLogEntry)
                .where(AccessLogEntry.purpose == purpose)
            )
            or 0
        )


def rewrite(package: bytes, edit: Callable[[str, bytes], bytes | None]) -> bytes:
    """The zip with each entry passed through `edit` (None drops it), nothing re-signed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = edit(info.filename, source.read(info))
            if content is not None:
                target.writestr(info.filename, content)
    return out.getvalue()


def rebag_and_resign(
    package: bytes, sender_app: Flask, org_id: int, edit: Callable[[Path], None]
) -> bytes:
    """Change files, then recompute every checksum and sign again with the sender's real key:
    a package whose bag and signature are valid, so only deeper checks can refuse it."""
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(io.BytesIO(package)) as source:
            source.extractall(tmp)
        root = next(Path(tmp).iterdir())
        edit(root)
        (root / "signature.jws").unlink()
        bag = bagit.Bag(str(root))
        bag.save(manifests=True)
        with sender_app.app_context(), new_session() as session:
            key = signing_key(session, org_id, sender_app.config["SECRET_KEY"].encode())
            _sign(root, key, "resigned")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    target.write(path, f"{root.name}/{path.relative_to(root).as_posix()}")
        return out.getvalue()
