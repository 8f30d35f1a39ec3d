"""Devices offline for days send late, out-of-order batches: all accepted, ordered by `stored`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient


def test_late_out_of_order_batches_are_accepted_and_ordered_by_stored(
    client: FlaskClient,
    lrs: dict[str, str],
    statement_factory: Callable[..., dict[str, Any]],
) -> None:
    now = datetime.now(UTC)
    # Three devices come back online; each sends its oldest batch last.
    batches = []
    for device in range(3):
        for day in (1, 5, 9):  # days ago; sent newest first
            when = now - timedelta(days=day + device)
            batches.append(
                [
                    statement_factory(
                        id=str(uuid.uuid4()), timestamp=(when + timedelta(minutes=m)).isoformat()
                    )
                    for m in range(4)
                ]
            )
    sent: list[str] = []
    for batch in batches:
        response = client.post("/xapi/statements", json=batch, headers=lrs)
        assert response.status_code == 200
        assert response.get_json() == [st["id"] for st in batch]
        sent.extend(st["id"] for st in batch)
    # A retried batch (the acknowledgement was lost on the way) changes nothing.
    assert client.post("/xapi/statements", json=batches[2], headers=lrs).status_code == 200

    listed = client.get("/xapi/statements?limit=100", headers=lrs).get_json()["statements"]
    assert sorted(st["id"] for st in listed) == sorted(sent)  # each exactly once
    stored = [st["stored"] for st in listed]
    assert stored == sorted(stored, reverse=True)  # newest stored first, whatever the timestamp
    # The order of arrival survives, not the order of timestamps.
    batch_of = {st["id"]: n for n, batch in enumerate(batches) for st in batch}
    arrival = [batch_of[st["id"]] for st in reversed(listed)]
    assert arrival == sorted(arrival)
    by_id = {st["id"]: st for st in listed}
    for batch in batches:
        for st in batch:
            kept = datetime.fromisoformat(by_id[st["id"]]["timestamp"].replace("Z", "+00:00"))
            assert kept == datetime.fromisoformat(st["timestamp"])
            assert by_id[st["id"]]["stored"] >= by_id[st["id"]]["timestamp"][:10]

    # `since` is about stored time: late statements with old timestamps are still "new".
    since = client.get(
        "/xapi/statements",
        query_string={"since": (now - timedelta(minutes=1)).isoformat(), "limit": 100},
        headers=lrs,
    ).get_json()["statements"]
    assert len(since) == len(sent)
