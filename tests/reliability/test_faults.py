"""Faults against real processes: gunicorn workers killed with SIGKILL during ingest, PostgreSQL
stopped and restarted under load, Redis down. Each test gets an empty database of its own on a
private PostgreSQL cluster and a gunicorn of its own.

Scaled for a shared 2-core machine: RELIABILITY_DEVICES (default 12) devices of
RELIABILITY_BATCHES (default 15) batches of 5 statements; the kill -9 test runs the issue's 50
devices (RELIABILITY_KILL_DEVICES) with fewer batches each (RELIABILITY_KILL_BATCHES, default 10).
bench/load.py measures the full-size load.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from tests.fixtures.roster import tokyo_roster
from tests.reliability.conftest import (
    PrivatePostgres,
    PrivateRedis,
    Server,
    app_env,
    flask_cli,
    start_server,
    stop_server,
)
from tests.reliability.devices import Device, make_batches, run_devices

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

DEVICES = int(os.environ.get("RELIABILITY_DEVICES", "12"))
BATCHES = int(os.environ.get("RELIABILITY_BATCHES", "15"))
KILL_DEVICES = int(os.environ.get("RELIABILITY_KILL_DEVICES", "50"))
KILL_BATCHES = int(os.environ.get("RELIABILITY_KILL_BATCHES", "10"))
BOUND = 240.0  # seconds any one scenario may take before it counts as a hang


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _stored(database_url: str) -> dict[str, int]:
    """statement id -> how many rows hold it."""
    with psycopg.connect(_psycopg_url(database_url)) as conn:
        rows = conn.execute("SELECT statement_id, count(*) FROM statements GROUP BY 1").fetchall()
    return {str(sid): int(n) for sid, n in rows}


def _devices(server: Server, devices: int = DEVICES, batches: int = BATCHES) -> list[Device]:
    give_up = time.monotonic() + BOUND
    return [
        Device(server.url, server.auth, device_batches, give_up)
        for device_batches in make_batches(devices, batches, 5)
    ]


def _check_exactly_once(devices: list[Device], database_url: str) -> None:
    sent = [st["id"] for d in devices for batch in d.batches for st in batch]
    acknowledged = [sid for d in devices for sid in d.acknowledged]
    assert sorted(acknowledged) == sorted(sent)  # every batch acknowledged in the end
    stored = _stored(database_url)
    assert {sid for sid, n in stored.items() if n > 1} == set()  # no duplicates
    assert set(stored) == set(sent)  # every acknowledged statement is stored


@pytest.fixture
def server(fresh_database: str, tmp_path: Path) -> Iterator[Server]:
    running = start_server(fresh_database, tmp_path, workers=2)
    yield running
    stop_server(running)


def test_kill_9_of_workers_during_ingest_loses_and_duplicates_nothing(
    server: Server, fresh_database: str
) -> None:
    devices = _devices(server, KILL_DEVICES, KILL_BATCHES)
    for device in devices:
        device.start()
    # Kill a worker when 15%, 40% and 65% of the statements are acknowledged: in the middle of
    # the ingest however fast or slow the machine is (a fixed delay may land after the end).
    total = sum(len(batch) for d in devices for batch in d.batches)
    killed = 0
    deadline = time.monotonic() + BOUND
    for share in (0.15, 0.40, 0.65):
        while sum(len(d.acknowledged) for d in devices) < share * total:
            assert time.monotonic() < deadline, "the ingest did not progress"
            time.sleep(0.01)
        workers = server.workers()
        if workers:
            os.kill(workers[0], signal.SIGKILL)  # gunicorn's master starts a new one
            killed += 1
            time.sleep(0.3)  # let the master notice before the next kill
    for device in devices:
        device.join(timeout=BOUND)
    assert killed == 3
    # The kills met requests in flight (devices lost connections), not an idle server.
    assert sum(d.connection_errors for d in devices) > 0
    assert [u for d in devices for u in d.unexpected] == []
    _check_exactly_once(devices, fresh_database)
    # Retries of batches already stored (their acknowledgements lost) succeed, and add nothing.
    before = _stored(fresh_database)
    session = requests.Session()
    for device in devices[:3]:
        for batch in device.batches:
            response = session.post(
                f"{server.url}/xapi/statements", json=batch, headers=server.auth, timeout=30
            )
            assert response.status_code == 200
            assert response.json() == [st["id"] for st in batch]
    assert _stored(fresh_database) == before


def test_postgres_outage_gives_503_with_retry_after_and_recovers_without_restart(
    server: Server, fresh_database: str, private_postgres: PrivatePostgres
) -> None:
    devices = _devices(server)
    for device in devices:
        device.start()
    time.sleep(1.0)
    private_postgres.stop()
    alive_at_outage = any(d.is_alive() for d in devices)
    try:
        # Keep the database down until a device has met the outage (a loaded machine may
        # schedule the devices late), at most 20 s.
        deadline = time.monotonic() + 20.0
        time.sleep(2.0)
        while time.monotonic() < deadline and not any(d.statuses[503] for d in devices):
            if all(not d.is_alive() for d in devices):
                break
            time.sleep(0.2)
        during = requests.post(
            f"{server.url}/xapi/statements",
            json=devices[0].batches[0],
            headers=server.auth,
            timeout=30,
        )
        ready = requests.get(f"{server.url}/readyz", timeout=30)
    finally:
        private_postgres.start()
    for device in devices:
        device.join(timeout=BOUND)
    assert during.status_code == 503
    assert during.headers["Retry-After"]
    assert "database" in during.json()["error"]["message"]
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"]["status"] == "down"
    # The devices saw the outage too (unless they had all finished before it began).
    assert sum(d.statuses[503] for d in devices) > 0 or not alive_at_outage
    assert [u for d in devices for u in d.unexpected] == []  # never a 500, never a hang
    # Recovered by itself (the same gunicorn), and nothing half-written or duplicated.
    assert server.process.poll() is None
    ready_again = _readiness_within(server, seconds=10.0)
    assert ready_again.status_code == 200, ready_again.text
    _check_exactly_once(devices, fresh_database)


def _readiness_within(server: Server, seconds: float) -> requests.Response:
    """/readyz until it answers 200, for at most `seconds`: the last answer."""
    deadline = time.monotonic() + seconds
    while True:
        answer = requests.get(f"{server.url}/readyz", timeout=30)
        if answer.status_code == 200 or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


@pytest.fixture
def server_with_redis(
    fresh_database: str, tmp_path: Path, private_redis: PrivateRedis
) -> Iterator[Server]:
    running = start_server(fresh_database, tmp_path, redis_url=private_redis.url, workers=1)
    yield running
    stop_server(running)


def test_redis_down_ingest_reads_and_pages_keep_working_and_readyz_is_degraded(
    server_with_redis: Server, private_redis: PrivateRedis, fresh_database: str
) -> None:
    url = server_with_redis.url
    assert requests.get(f"{url}/readyz", timeout=30).json()["status"] == "ready"
    private_redis.stop()
    ready = requests.get(f"{url}/readyz", timeout=30)
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["redis"]["status"] == "down"
    devices = _devices(server_with_redis)[:4]
    run_devices(devices, BOUND)
    assert [u for d in devices for u in d.unexpected] == []
    _check_exactly_once(devices, fresh_database)
    read = requests.get(
        f"{url}/xapi/statements?limit=10", headers=server_with_redis.auth, timeout=30
    )
    assert read.status_code == 200
    assert len(read.json()["statements"]) == 10
    page = requests.get(f"{url}/sign-in", timeout=30)
    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    metrics = requests.get(f"{url}/metrics", timeout=30)
    assert metrics.status_code == 200
    assert "ashiato_redis_up 0.0" in metrics.text
    # Work that needs a job is not lost: it runs in the requesting process instead.
    env = app_env(fresh_database, None, Path("."))
    flask_cli(env, "orgs", "create", "--code", "ops", "--name", "operations")
    flask_cli(
        env, "users", "create", "--role", "system_admin", "--org", "ops",
        "--email", "ops@example.jp", "--password", "correct horse battery",
    )  # fmt: skip
    token = json.loads(flask_cli(env, "tokens", "create", "--user", "ops@example.jp", "--json"))
    bearer = {"Authorization": f"Bearer {token['token']}"}
    started = requests.post(
        f"{url}/api/v1/roster/imports",
        data=tokyo_roster().files.to_zip(),
        headers={**bearer, "Content-Type": "application/zip"},
        timeout=120,
    )
    assert started.status_code == 202, started.text
    job = requests.get(f"{url}{started.json()['status_url']}", headers=bearer, timeout=30).json()
    assert job["status"] == "finished", job
    assert job["result"]["files"]["users.csv"]["created"] == 30
