"""Devices on flaky networks retry: the same batch sent by several clients at once is stored
exactly once, every client gets success, and a racing different version still gets 409."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select

from app.db import new_session
from records.models import StoredStatement
from tests.factories import make_statement

CLIENTS = 6


def _post_all_at_once(app: Flask, headers: dict[str, str], bodies: list[object]) -> list[int]:
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = [0] * len(bodies)

    def post(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        statuses[n] = client.post("/xapi/statements", json=bodies[n], headers=headers).status_code

    threads = [threading.Thread(target=post, args=(n,)) for n in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_same_batch_from_many_clients_is_stored_once(
    db_app: Flask, make_credential: Callable[..., dict[str, str]]
) -> None:
    headers = make_credential("all")
    batch = [make_statement(id=str(uuid.uuid4())) for _ in range(20)]
    statuses = _post_all_at_once(db_app, headers, [batch] * CLIENTS)
    assert statuses == [200] * CLIENTS
    with db_app.app_context(), new_session() as session:
        count = session.scalar(select(func.count()).select_from(StoredStatement))
    assert count == len(batch)


def test_racing_different_content_for_one_id_is_a_conflict(
    db_app: Flask, make_credential: Callable[..., dict[str, str]]
) -> None:
    headers = make_credential("all")
    statement_id = str(uuid.uuid4())
    bodies: list[object] = [
        make_statement(id=statement_id, result={"score": {"scaled": n / 10}}) for n in range(4)
    ]
    statuses = _post_all_at_once(db_app, headers, bodies)
    assert sorted(statuses) == [200, 409, 409, 409]
