"""Backups restore into a database that passes `flask ops check`, and the check fails on a
database that is broken in the ways a bad restore breaks one.

PostgreSQL: a populated database on the private cluster, `pg_dump -Fc`, `pg_restore` into a new
database (the commands docs/OPERATIONS.md gives), `flask --app app ops check`. Then copies of
the restored database, each broken in one way, fail the check by name. SQLite (the embedded
default): the online backup (`sqlite3 … ".backup …"`, here Python's sqlite3 backup API).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text

from app import create_app
from app.cli import upgrade_database
from app.db import get_engine, new_session
from records.consistency import run_checks
from tests.conftest import SERVICE_URL, repo_root
from tests.portability.world import build_sender
from tests.reliability.conftest import (
    PG_BIN,
    VENV_BIN,
    PrivatePostgres,
    app_env,
)

pytestmark = pytest.mark.e2e

SECRET = "reliability-test-secret"  # as app_env gives the CLI


def _app(database_url: str, instance: Path) -> Flask:
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET,
            "PUBLIC_URL": SERVICE_URL,
            "REDIS_URL": None,
            "LOG_JSON": False,
        }
    )
    application.instance_path = str(instance)
    return application


def _populate(app: Flask) -> dict[str, int]:
    """A school with a pupil's portfolio (entries with photos), LRS statements (one with an
    attachment, one signed), teachers' feedback, and reads of the pupil's records in the
    access log; returns row counts to compare after the restore."""
    with app.app_context():
        upgrade_database()
        with new_session() as session:
            found = build_sender(session, SERVICE_URL, app.config["CREDENTIAL_HASH_KEY"].encode())
            session.commit()
    client = app.test_client()
    for headers in (found["teacher"], found["admin"], found["teacher"]):
        read = client.get(f"/api/v1/people/{found['pupil']}/statements", headers=headers)
        assert read.status_code == 200, read.get_data(as_text=True)
    return _counts(app)


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        with get_engine().connect() as conn:
            counts = {
                table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608 - fixed names
                for table in (
                    "statements",
                    "statement_index",
                    "attachments",
                    "access_log",
                    "people",
                )
            }
        get_engine().dispose()
    return counts


def _check(app: Flask) -> dict[str, Any]:
    result = app.test_cli_runner().invoke(args=["ops", "check", "--json"])
    with app.app_context():
        get_engine().dispose()
    body: dict[str, Any] = json.loads(result.output)
    assert result.exit_code == (0 if body["ok"] else 1)
    return body


def _failed(body: dict[str, Any]) -> set[str]:
    return {c["name"] for c in body["checks"] if not c["ok"]}


@pytest.fixture
def admin(private_postgres: PrivatePostgres) -> Iterator[Callable[[str], None]]:
    """admin(sql): run SQL on the private cluster's `postgres` database (autocommit)."""
    dsn = f"host=127.0.0.1 port={private_postgres.port} user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        yield lambda sql: conn.execute(sql)  # type: ignore[arg-type]  # our fixed statements


def _run_sql(url: str, sql: str) -> None:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute(sql)  # type: ignore[arg-type]  # fixed statements of this test


# Each way a restore can go wrong, and the check that must notice it.
BREAKAGES = {
    "statement index": "DELETE FROM statement_index WHERE seq = (SELECT max(seq) FROM statements)",
    "attachments": "DELETE FROM attachments WHERE id = (SELECT min(id) FROM attachments)",
    "access log": "UPDATE access_log SET purpose = 'nothing to see' WHERE id = "
    "(SELECT min(id) FROM access_log)",
    "sequences": "SELECT setval(pg_get_serial_sequence('statements', 'seq'), 1, false)",
    "migrations": "UPDATE alembic_version SET version_num = '0006'",  # an older release's dump
}


def test_a_postgres_backup_restores_into_a_database_that_passes_the_check(
    tmp_path: Path,
    fresh_database: str,
    private_postgres: PrivatePostgres,
    admin: Callable[[str], None],
) -> None:
    original = _app(fresh_database, tmp_path / "original")
    before = _populate(original)
    assert before["attachments"] >= 2
    assert before["access_log"] >= 3
    assert _check(original)["ok"]

    name = fresh_database.rsplit("/", 1)[1]
    dump = tmp_path / "ashiato.dump"
    port = str(private_postgres.port)
    common = ["-h", "127.0.0.1", "-p", port, "-U", "postgres"]
    subprocess.run(  # noqa: S603 - fixed command line: the one docs/OPERATIONS.md gives
        [str(PG_BIN / "pg_dump"), *common, "-Fc", "-f", str(dump), name],
        check=True,
        timeout=120,
    )
    admin(f'CREATE DATABASE "{name}_restored"')
    subprocess.run(  # noqa: S603 - fixed command line
        [str(PG_BIN / "pg_restore"), *common, "--no-owner", "-d", f"{name}_restored", str(dump)],
        check=True,
        timeout=120,
    )
    restored_url = f"{fresh_database}_restored"

    # The operator's command, on the restored database.
    env = app_env(restored_url, None, tmp_path)
    done = subprocess.run(  # noqa: S603 - our own CLI
        [str(VENV_BIN / "flask"), "--app", "app", "ops", "check"],
        env=env,
        cwd=repo_root(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all checks passed" in done.stdout
    restored = _app(restored_url, tmp_path / "restored")
    assert _counts(restored) == before

    # Broken copies of the restored database: each fails the check that concerns it.
    for n, (check, sql) in enumerate(BREAKAGES.items()):
        copy = f"{name}_broken_{n}"
        admin(f'CREATE DATABASE "{copy}" TEMPLATE "{name}_restored"')
        broken_url = f"{fresh_database.rsplit('/', 1)[0]}/{copy}"
        _run_sql(broken_url, sql)
        body = _check(_app(broken_url, tmp_path / copy))
        assert not body["ok"]
        assert _failed(body) == {check}, body


def test_a_sqlite_backup_restores_into_a_database_that_passes_the_check(tmp_path: Path) -> None:
    source = tmp_path / "ashiato.sqlite3"
    original = _app(f"sqlite:///{source}", tmp_path / "original")
    before = _populate(original)
    copy = tmp_path / "backup.sqlite3"
    # What `sqlite3 instance/ashiato.sqlite3 ".backup backup.sqlite3"` does, while serving.
    with sqlite3.connect(source) as live, sqlite3.connect(copy) as backup:
        live.backup(backup)
    live.close()
    backup.close()
    restored = _app(f"sqlite:///{copy}", tmp_path / "restored")
    assert _counts(restored) == before
    body = _check(restored)
    assert body["ok"], body
    assert {c["name"] for c in body["checks"] if c["skipped"]} == {"sequences"}

    # Index rows lost and a row pointing nowhere: the check names both.
    with sqlite3.connect(copy) as conn:
        conn.execute(BREAKAGES["statement index"])
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute(
            "DELETE FROM people WHERE id = (SELECT min(subject_person_id) FROM access_log)"
        )
    conn.close()
    body = _check(restored)
    assert _failed(body) >= {"statement index", "integrity"}, body


def test_the_check_reads_the_suite_database_as_consistent(db_app: Flask) -> None:
    """On the suite's own backend (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""
    with db_app.app_context(), new_session() as session:
        build_sender(session, SERVICE_URL, db_app.config["CREDENTIAL_HASH_KEY"].encode())
        session.commit()
        results = {r.name: r for r in run_checks(session)}
    assert all(r.ok for r in results.values()), results
    assert "statements indexed" in results["statement index"].detail
