"""Group commit (app/group_commit.py): concurrent writes share a transaction, yet each request
gets its own answer, and the writer waits only for writes that were announced."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.db import new_session
from app.group_commit import GroupCommitter
from records.credentials import create_credential, parse_scopes
from records.errors import StatementConflictError
from records.models import StoredStatement
from records.organisations import create_organisation
from records.store import Writer
from records.xapi import parse_statement
from tests.factories import make_statement

WRITERS = 3
AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://lrs.test/", "name": "x"}}


@pytest.fixture
def writer(db_app: Flask) -> Writer:
    with db_app.app_context(), new_session() as session:
        create_organisation(session, "school-g", "school-g 学校")
        new = create_credential(session, "school-g", parse_scopes("all"), "device", b"k")
        session.commit()
    return Writer(new.info.org_id, new.info.id, AUTHORITY)


def _write_concurrently(
    committer: GroupCommitter, writer: Writer, statements: list[dict[str, Any]]
) -> list[Any]:
    """Each statement from its own thread; all are announced before any is saved."""
    announced = threading.Barrier(len(statements))
    outcomes: list[Any] = [None] * len(statements)

    def request(n: int) -> None:
        with committer.expect() as pending:
            announced.wait()
            try:
                outcomes[n] = pending.save(writer, [parse_statement(statements[n])])
            except Exception as exc:  # the outcome under test
                outcomes[n] = exc

    threads = [threading.Thread(target=request, args=(n,)) for n in range(len(statements))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def _stored(db_app: Flask, ids: list[str]) -> dict[str, Any]:
    with db_app.app_context(), new_session() as session:
        rows = session.execute(
            select(StoredStatement.statement_id, StoredStatement.stored).where(
                StoredStatement.statement_id.in_(ids)
            )
        )
        return dict(rows.all())


def test_announced_writes_are_committed_in_one_transaction(db_app: Flask, writer: Writer) -> None:
    committer = GroupCommitter(db_app, wait_ms=10_000)
    statements = [make_statement(id=str(uuid.uuid4())) for _ in range(WRITERS)]

    outcomes = _write_concurrently(committer, writer, statements)

    ids = [st["id"] for st in statements]
    assert outcomes == [[sid] for sid in ids]
    stored = _stored(db_app, ids)
    assert set(stored) == set(ids)
    assert len(set(stored.values())) == 1  # one transaction: one `stored` time


def test_a_conflict_in_a_group_fails_only_its_own_request(db_app: Flask, writer: Writer) -> None:
    committer = GroupCommitter(db_app, wait_ms=10_000)
    taken = make_statement(id=str(uuid.uuid4()))
    assert _write_concurrently(committer, writer, [taken]) == [[taken["id"]]]
    conflicting = make_statement(id=taken["id"], result={"completion": False})
    others = [make_statement(id=str(uuid.uuid4())) for _ in range(WRITERS - 1)]

    outcomes = _write_concurrently(committer, writer, [conflicting, *others])

    assert isinstance(outcomes[0], StatementConflictError)
    assert outcomes[1:] == [[st["id"]] for st in others]
    assert set(_stored(db_app, [st["id"] for st in others])) == {st["id"] for st in others}


def test_the_writer_does_not_wait_for_a_request_that_gave_up(db_app: Flask, writer: Writer) -> None:
    committer = GroupCommitter(db_app, wait_ms=10_000)
    statement = make_statement(id=str(uuid.uuid4()))
    gave_up = threading.Event()

    def bad_request() -> None:
        with committer.expect():
            gave_up.wait(timeout=30)  # announced, then fails before saving (say, a 400)

    thread = threading.Thread(target=bad_request)
    thread.start()
    try:
        with committer.expect() as pending:
            threading.Timer(0.2, gave_up.set).start()
            began = time.monotonic()
            assert pending.save(writer, [parse_statement(statement)]) == [statement["id"]]
            waited = time.monotonic() - began
    finally:
        gave_up.set()
        thread.join(timeout=30)

    assert 0.1 < waited < 5  # waited for the announced write until it gave up, not 10 s
