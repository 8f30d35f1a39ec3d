"""The operator CLI: output usable by scripts, errors as messages, revocation at once."""

from __future__ import annotations

import base64
import json

from flask import Flask

from app.xapi.blueprint import VERSION


def _run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def test_create_org_and_credential_then_use_and_revoke_it(db_app: Flask) -> None:
    code, out = _run(db_app, "orgs", "create", "--code", "B113210000015", "--name", "第一小学校")
    assert code == 0, out
    code, out = _run(
        db_app,
        "credentials",
        "create",
        "--org",
        "B113210000015",
        "--scopes",
        "statements/write statements/read",
        "--json",
    )
    assert code == 0, out
    pair = json.loads(out)
    assert set(pair) == {"key", "secret"}
    assert len(pair["secret"]) >= 43  # 256 bits, base64url
    auth = base64.b64encode(f"{pair['key']}:{pair['secret']}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "X-Experience-API-Version": VERSION}
    client = db_app.test_client()
    assert client.get("/xapi/statements", headers=headers).status_code == 200

    code, out = _run(db_app, "credentials", "revoke", "--key", pair["key"])
    assert code == 0, out
    answer = client.get("/xapi/statements", headers=headers)
    assert answer.status_code == 401
    assert "revoked" in answer.get_json()["error"]["message"]


def test_unknown_scope_and_unknown_org_are_refused_with_a_message(db_app: Flask) -> None:
    _run(db_app, "orgs", "create", "--code", "school-x", "--name", "X")
    code, out = _run(db_app, "credentials", "create", "--org", "school-x", "--scopes", "root")
    assert code != 0
    assert "unknown scope" in out
    code, out = _run(db_app, "credentials", "create", "--org", "nowhere", "--scopes", "all")
    assert code != 0
    assert "no organisation" in out


def test_duplicate_org_code_is_refused(db_app: Flask) -> None:
    assert _run(db_app, "orgs", "create", "--code", "dup", "--name", "A")[0] == 0
    code, out = _run(db_app, "orgs", "create", "--code", "dup", "--name", "B")
    assert code != 0
    assert "already exists" in out


def test_secret_is_stored_only_as_a_keyed_hash(db_app: Flask) -> None:
    from sqlalchemy import select

    from app.db import new_session
    from records.models import Credential

    _run(db_app, "orgs", "create", "--code", "hashcheck", "--name", "H")
    pair = json.loads(
        _run(db_app, "credentials", "create", "--org", "hashcheck", "--scopes", "all", "--json")[1]
    )
    with db_app.app_context(), new_session() as session:
        stored = session.scalar(select(Credential.secret_hash).where(Credential.key == pair["key"]))
    assert stored is not None
    assert pair["secret"] not in stored
    assert len(stored) == 64


def test_a_read_records_the_credentials_last_use(db_app: Flask) -> None:
    """Reads never commit their own work, so the use must be committed on its own (else the
    row stays locked by every read and the time is never kept)."""
    from sqlalchemy import select

    from app.db import new_session
    from records.models import Credential

    _run(db_app, "orgs", "create", "--code", "usage", "--name", "U")
    pair = json.loads(
        _run(db_app, "credentials", "create", "--org", "usage", "--scopes", "all", "--json")[1]
    )
    auth = base64.b64encode(f"{pair['key']}:{pair['secret']}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "X-Experience-API-Version": VERSION}
    assert db_app.test_client().get("/xapi/statements", headers=headers).status_code == 200
    with db_app.app_context(), new_session() as session:
        used = session.scalar(select(Credential.last_used_at).where(Credential.key == pair["key"]))
    assert used is not None


def test_an_api_token_is_listed_without_its_secret_and_revoked_at_once(db_app: Flask) -> None:
    assert (
        _run(db_app, "orgs", "create", "--kind", "prefecture", "--code", "13", "--name", "東京都")[
            0
        ]
        == 0
    )
    code, out = _run(
        db_app, "users", "create", "--role", "system_admin", "--org", "13",
        "--email", "ops@example.jp", "--password", "correct horse battery",
    )  # fmt: skip
    assert code == 0, out
    code, out = _run(
        db_app, "tokens", "create", "--user", "ops@example.jp", "--label", "backup script", "--json"
    )
    assert code == 0, out
    token = json.loads(out)["token"]
    client = db_app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200

    code, out = _run(db_app, "tokens", "list", "--user", "ops@example.jp", "--json")
    assert code == 0, out
    [listed] = [json.loads(line) for line in out.splitlines()]
    assert listed["label"] == "backup script"
    assert listed["revoked_at"] is None
    assert listed["last_used_at"] is not None
    assert token not in out

    code, out = _run(db_app, "tokens", "revoke", "--id", str(listed["id"]))
    assert code == 0, out
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    [listed] = [
        json.loads(line)
        for line in _run(db_app, "tokens", "list", "--user", "ops@example.jp", "--json")[
            1
        ].splitlines()
    ]
    assert listed["revoked_at"] is not None

    code, out = _run(db_app, "tokens", "revoke", "--id", "999999")
    assert code != 0
    assert "no API token with id 999999" in out
