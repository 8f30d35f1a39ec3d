"""Group commit (app/group_commit.py): writes collected into one group share a transaction, yet
each request gets its own answer, and one request's failure never becomes another's."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.db import new_session
from app.group_commit import GroupCommitter, _Write
from records.credentials import create_credential, parse_scopes
from records.errors import StatementConflictError
from records.models import StoredStatement
from records.organisations import create_organisation
from records.store import Writer
from records.xapi import parse_statement
from tests.factories import make_statement

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://lrs.test/", "name": "x"}}


@pytest.fixture
def writer(db_app: Flask) -> Writer:
    with db_app.app_context(), new_session() as session:
        create_organisation(session, "school-g", "school-g 学校")
        new = create_credential(session, "school-g", parse_scopes("all"), "device", b"k")
        session.commit()
    return Writer(new.info.org_id, new.info.id, AUTHORITY)


def _write_as_one_group(db_app: Flask, writer: Writer, statements: list[dict[str, Any]]) -> Any:
    """What the writer thread does with the writes it found queued together."""
    group = [_Write(writer, [parse_statement(st)], (), None) for st in statements]
    with db_app.app_context():
        GroupCommitter(db_app)._write_group(group)
    return [write.done.exception() or write.done.result() for write in group]


def _stored(db_app: Flask, ids: list[str]) -> dict[str, Any]:
    with db_app.app_context(), new_session() as session:
        rows = session.execute(
            select(StoredStatement.statement_id, StoredStatement.stored).where(
                StoredStatement.statement_id.in_(ids)
            )
        )
        return dict(rows.all())


def test_a_group_is_committed_in_one_transaction(db_app: Flask, writer: Writer) -> None:
    statements = [make_statement(id=str(uuid.uuid4())) for _ in range(3)]

    outcomes = _write_as_one_group(db_app, writer, statements)

    ids = [st["id"] for st in statements]
    assert outcomes == [[sid] for sid in ids]
    stored = _stored(db_app, ids)
    assert set(stored) == set(ids)
    assert len(set(stored.values())) == 1  # one transaction: one `stored` time


def test_a_conflict_in_a_group_fails_only_its_own_request(db_app: Flask, writer: Writer) -> None:
    taken = make_statement(id=str(uuid.uuid4()))
    assert _write_as_one_group(db_app, writer, [taken]) == [[taken["id"]]]
    conflicting = make_statement(id=taken["id"], result={"completion": False})
    others = [make_statement(id=str(uuid.uuid4())) for _ in range(2)]

    outcomes = _write_as_one_group(db_app, writer, [conflicting, *others])

    assert isinstance(outcomes[0], StatementConflictError)
    assert outcomes[1:] == [[st["id"]] for st in others]
    assert set(_stored(db_app, [st["id"] for st in others])) == {st["id"] for st in others}
