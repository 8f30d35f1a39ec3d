"""The access log is tamper-evident: an edited, removed, inserted or cut-off row is found, and
the CLI says where. Concurrent writers on PostgreSQL queue on the chain head, never fork it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, select, text, update

from app.db import get_engine, new_session
from records.audit import Accessor, record_access, record_accesses, verify_chain
from records.identity.models import AccessLogEntry, AccessLogHead
from tests.conftest import SERVICE_URL
from tests.factories import build_school_world

pytestmark = pytest.mark.db


@pytest.fixture
def logged(db_app: Flask) -> dict[str, Any]:
    with db_app.app_context(), new_session() as session:
        world = build_school_world(session, SERVICE_URL)
        p1, p2 = world["people"]["P1"].id, world["people"]["P2"].id
        for n in range(5):
            record_access(session, Accessor(account_id=None), p1, f"page {n}", "teaching")
        record_accesses(
            session, Accessor(), [(p2, "class", "teaching", 1), (p1, "class", "teaching", 1)]
        )
        session.commit()
    return {"p1": p1, "p2": p2}


def _verify(app: Flask, person: int | None = None) -> Any:
    with app.app_context(), new_session() as session:
        return verify_chain(session, person)


def _row(app: Flask, person: int, position: int) -> int:
    with app.app_context(), new_session() as session:
        return session.scalars(
            select(AccessLogEntry.id).where(
                AccessLogEntry.subject_person_id == person, AccessLogEntry.position == position
            )
        ).one()


def _change(app: Flask, statement: Any) -> None:
    with app.app_context(), get_engine().begin() as conn:
        conn.execute(statement)


def test_an_untouched_log_verifies(db_app: Flask, logged: dict[str, Any]) -> None:
    report = _verify(db_app)
    assert report.intact
    assert (report.rows, report.people) == (7, 2)


def test_an_edited_row_is_found(db_app: Flask, logged: dict[str, Any]) -> None:
    target = _row(db_app, logged["p1"], 3)
    _change(
        db_app, update(AccessLogEntry).where(AccessLogEntry.id == target).values(purpose="self")
    )
    [broken] = _verify(db_app).broken
    assert (broken.subject_person_id, broken.position, broken.entry_id) == (logged["p1"], 3, target)
    assert "changed" in broken.reason
    assert _verify(db_app, logged["p2"]).intact  # the other chain is fine


def test_a_deleted_row_is_found(db_app: Flask, logged: dict[str, Any]) -> None:
    _change(
        db_app, delete(AccessLogEntry).where(AccessLogEntry.id == _row(db_app, logged["p1"], 2))
    )
    [broken] = _verify(db_app).broken
    assert broken.position == 2
    assert "missing" in broken.reason


def test_a_deleted_and_renumbered_row_is_found(db_app: Flask, logged: dict[str, Any]) -> None:
    _change(
        db_app, delete(AccessLogEntry).where(AccessLogEntry.id == _row(db_app, logged["p1"], 2))
    )
    _change(
        db_app,
        update(AccessLogEntry)
        .where(AccessLogEntry.subject_person_id == logged["p1"], AccessLogEntry.position > 2)
        .values(position=AccessLogEntry.position - 1),
    )
    [broken] = _verify(db_app).broken
    assert broken.position == 2
    assert "link" in broken.reason


def test_a_cut_off_tail_is_found(db_app: Flask, logged: dict[str, Any]) -> None:
    _change(
        db_app, delete(AccessLogEntry).where(AccessLogEntry.id == _row(db_app, logged["p1"], 6))
    )
    [broken] = _verify(db_app).broken
    assert "newest rows were removed" in broken.reason


def test_a_forged_hash_without_the_key_is_found(db_app: Flask, logged: dict[str, Any]) -> None:
    import hashlib

    target = _row(db_app, logged["p2"], 1)
    forged = hashlib.sha256(b"anything the forger can compute").hexdigest()
    _change(db_app, update(AccessLogEntry).where(AccessLogEntry.id == target).values(hash=forged))
    _change(
        db_app,
        update(AccessLogHead)
        .where(AccessLogHead.subject_person_id == logged["p2"])
        .values(last_hash=forged),
    )
    [broken] = _verify(db_app).broken
    assert broken.subject_person_id == logged["p2"]


def test_the_cli_reports_and_fails(db_app: Flask, logged: dict[str, Any]) -> None:
    runner = db_app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0
    assert "intact" in ok.output
    _change(db_app, text("UPDATE access_log SET resource = 'nothing to see' WHERE position = 4"))
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert "BROKEN" in bad.output
    assert "row 4" in bad.output


@pytest.mark.postgres
def test_concurrent_writers_queue_on_the_chain(db_app: Flask, logged: dict[str, Any]) -> None:
    with db_app.app_context():
        if get_engine().dialect.name != "postgresql":
            pytest.skip("row locks are PostgreSQL's; SQLite has one writer at a time")
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with db_app.app_context(), new_session() as session:
                for k in range(10):
                    record_access(session, Accessor(), logged["p1"], f"thread {n}.{k}", "teaching")
                    session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = _verify(db_app, logged["p1"])
    assert report.intact
    assert report.rows == 6 + 40
