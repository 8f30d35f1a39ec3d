"""Under concurrent writers, a reader that polls with `since` = the previous answer's
X-Experience-API-Consistent-Through, following every `more` link, sees each statement exactly once.

This is what breaks when `stored` is taken before the writer is ordered (SQLite) or when readers
ignore writers still in flight (PostgreSQL): a statement committed late with an early `stored`
time falls behind the reader's cursor and is never seen.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.factories import make_statement

WRITERS = 4
BATCHES = 15
BATCH_SIZE = 10


def _read_all_since(client: FlaskClient, headers: dict[str, str], since: str | None) -> Any:
    url = "/xapi/statements?ascending=true&limit=7"
    if since:
        url += f"&since={since}"
    ids: list[str] = []
    first = client.get(url, headers=headers)
    assert first.status_code == 200, first.get_data(as_text=True)
    horizon = first.headers["X-Experience-API-Consistent-Through"]
    page = first.get_json()
    while True:
        ids.extend(st["id"] for st in page["statements"])
        if not page["more"]:
            return ids, horizon
        answer = client.get(page["more"], headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        page = answer.get_json()


def test_polling_reader_sees_every_statement_exactly_once(
    db_app: Flask, make_credential: Callable[..., dict[str, str]]
) -> None:
    headers = make_credential("all")
    posted: list[str] = []
    posted_lock = threading.Lock()
    errors: list[str] = []

    def write(worker: int) -> None:
        client = db_app.test_client()
        for _ in range(BATCHES):
            batch = [make_statement(id=str(uuid.uuid4())) for _ in range(BATCH_SIZE)]
            answer = client.post("/xapi/statements", json=batch, headers=headers)
            if answer.status_code != 200:
                errors.append(answer.get_data(as_text=True))
                return
            with posted_lock:
                posted.extend(answer.get_json())

    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in writers:
        thread.start()
    reader = db_app.test_client()
    seen: list[str] = []
    since = None
    while any(thread.is_alive() for thread in writers):
        ids, since = _read_all_since(reader, headers, since)
        seen.extend(ids)
    for thread in writers:
        thread.join()
    ids, since = _read_all_since(reader, headers, since)
    seen.extend(ids)

    assert errors == []
    assert len(posted) == WRITERS * BATCHES * BATCH_SIZE
    duplicates = [sid for sid, count in Counter(seen).items() if count > 1]
    assert duplicates == []
    assert set(seen) == set(posted)
