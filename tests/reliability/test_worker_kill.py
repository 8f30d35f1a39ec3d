"""rq workers killed with SIGKILL in the middle of a job: a transfer export, a transfer import
and a OneRoster import. Real processes: a private Redis, a private PostgreSQL cluster, and rq
workers started as operators start them. Each job is stopped at a known point (its work written
but not committed) by tests/reliability/held_worker.py, then its worker is killed:

- only the work horse (what the kernel's out-of-memory killer picks): the worker retries the
  job at once, and the retry finishes it;
- the whole worker, horse and all (a machine lost): a worker started afterwards finds the
  abandoned job once its heartbeat has lapsed (JOB_HEARTBEAT_SECONDS + 60 s) and runs it again;
- every run killed: once the retries are spent the job is failed with the reason.

At every point no partial package can be downloaded and nothing of a half-done import is
visible; at the end every job is finished (or failed, with its reason) and its results are
complete. The API (/api/v1/exports/<id>, /api/v1/imports/<id>, /api/v1/jobs/<id>) shows it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import subprocess
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import create_app
from app.cli import upgrade_database
from app.db import get_engine, new_session
from records.identity.accounts import create_account
from records.identity.models import Enrollment, Person, SchoolClass
from records.identity.people import Names, create_person, own_agent
from records.models import StoredStatement
from records.organisations import create_organisation
from records.portability.models import TransferExportChunk
from records.store import Writer, save_statements
from records.xapi import parse_statement
from tests.conftest import SERVICE_URL, repo_root
from tests.fixtures.roster import tokyo_roster
from tests.portability.helpers import export_from, trust
from tests.portability.world import SCHOOL_A, build_sender, master_link, token_for
from tests.reliability.conftest import VENV_BIN, PrivateRedis, app_env

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SCHOOL_B = "B113211000013"
PASSWORD = "correct horse battery staple"
EXTRA_STATEMENTS = 1200  # the imported package: three batches of 500, held after two
OWN_STATEMENTS = 300  # the exported pupil's records here
BOUND = 150.0  # seconds any wait may take


@dataclass
class World:
    """This instance (database, Redis, in-process app for the API) and what the jobs need."""

    app: Flask
    client: FlaskClient
    env: dict[str, str]
    hold_dir: Path
    logs: Path
    package: bytes
    pupil: str
    org_b: int
    admin_b: dict[str, str]
    ops: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    # --- processes ----------------------------------------------------------------------

    def start_worker(
        self, *queues: str, held: bool = True, **extra: str
    ) -> subprocess.Popen[bytes]:
        if held:
            argv = [str(VENV_BIN / "python"), "-m", "tests.reliability.held_worker", *queues]
        else:
            argv = [str(VENV_BIN / "flask"), "--app", "app", "worker"]
            argv += [part for q in queues for part in ("--queue", q)]
        env = {**self.env, "HOLD_DIR": str(self.hold_dir), **extra}
        log = (self.logs / f"worker-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(  # noqa: S603 - our own worker, fixed arguments
            argv, env=env, cwd=repo_root(), stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        self.processes.append(process)
        return process

    def held(self, job_id: str, runs: int = 1) -> int:
        """Wait until run number `runs` of the job is held; the pid of its work horse."""
        marker = self.hold_dir / f"{job_id}.held"

        def ready() -> bool:
            return marker.exists() and len(marker.read_text().splitlines()) >= runs

        wait_for(ready, f"job {job_id} held (run {runs})", self.worker_logs)
        return int(marker.read_text().splitlines()[runs - 1].split()[0])

    def worker_logs(self) -> str:
        return "\n".join(p.read_text()[-2000:] for p in sorted(self.logs.glob("worker-*.log")))

    # --- what the API and the database show ----------------------------------------------

    def get(self, url: str, headers: dict[str, str]) -> dict[str, Any]:
        answer = self.client.get(url, headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body: dict[str, Any] = answer.get_json()
        return body

    def statements_in_b(self) -> int:
        with self.app.app_context(), new_session() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(StoredStatement)
                    .where(StoredStatement.org_id == self.org_b)
                )
                or 0
            )

    def people(self) -> int:
        with self.app.app_context(), new_session() as session:
            return int(session.scalar(select(func.count()).select_from(Person)) or 0)

    def chunks(self, export_id: str) -> int:
        with self.app.app_context(), new_session() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(TransferExportChunk)
                    .where(TransferExportChunk.export_id == export_id)
                )
                or 0
            )


def wait_for(ready: Callable[[], bool], what: str, logs: Callable[[], str]) -> None:
    deadline = time.monotonic() + BOUND
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{logs()}")
        time.sleep(0.2)


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.kill(pid, signal.SIGKILL)


def _in_process_app(database_url: str, redis_url: str, instance: Path) -> Flask:
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "reliability-test-secret",  # as app_env gives the workers
            "PUBLIC_URL": SERVICE_URL,
            "REDIS_URL": redis_url,
            "LOG_JSON": False,
            "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        }
    )
    application.instance_path = str(instance)
    return application


def _package_from_another_school(tmp_path: Path) -> tuple[Flask, bytes]:
    """A signed transfer package of pupil P1 (userMasterIdentifier UMI-JP-0001) with
    EXTRA_STATEMENTS more records, exported by another instance (SQLite, jobs in-process)."""
    sender = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'sender.sqlite3'}",
            "SECRET_KEY": "the-sending-instance-secret",
            "PUBLIC_URL": "http://lrs-a.test/",
            "REDIS_URL": None,
            "LOG_JSON": False,
        }
    )
    sender.instance_path = str(tmp_path / "sender-instance")
    with sender.app_context():
        upgrade_database()
        with new_session() as session:
            found = build_sender(
                session, "http://lrs-a.test/", sender.config["CREDENTIAL_HASH_KEY"].encode()
            )
            _records(
                session, found["org_id"], found["pupil"], "http://lrs-a.test/", EXTRA_STATEMENTS
            )
            session.commit()
    package = export_from(sender.test_client(), found["pupil"], found["admin"])
    return sender, package


def _records(session: Any, org_id: int, public_id: str, service_url: str, n: int) -> None:
    writer = Writer(
        org_id=org_id,
        credential_id=None,
        authority={"objectType": "Agent", "account": {"homePage": service_url, "name": "dev-9"}},
    )
    start = datetime.now(UTC) - timedelta(days=30)
    statements = [
        parse_statement(
            {
                "id": str(uuid.uuid4()),
                "actor": own_agent(public_id, service_url),
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                "object": {"id": f"https://contents.example.jp/drill/{i % 40}"},
                "timestamp": (start + timedelta(minutes=i)).isoformat(),
            }
        )
        for i in range(n)
    ]
    for first in range(0, n, 500):
        save_statements(session, statements[first : first + 500], writer)


@pytest.fixture
def world(tmp_path: Path, private_redis: PrivateRedis, fresh_database: str) -> Iterator[World]:
    # The private PostgreSQL cluster: what runs at scale (several workers writing at once).
    database_url = fresh_database
    env = app_env(database_url, private_redis.url, tmp_path)
    env.update(
        {
            "ASHIATO_JOB_HEARTBEAT_SECONDS": "2",
            "ASHIATO_JOB_MAINTENANCE_SECONDS": "2",
            "ASHIATO_JOB_RETRIES": "2",
            "ASHIATO_LOG_JSON": "false",
        }
    )
    sender, package = _package_from_another_school(tmp_path)
    app = _in_process_app(database_url, private_redis.url, tmp_path / "instance")
    hash_key = app.config["CREDENTIAL_HASH_KEY"].encode()
    with app.app_context():
        upgrade_database()
        with new_session() as session:
            school = create_organisation(session, SCHOOL_B, "千代田区立第二小学校")
            create_organisation(session, "ops", "operations")
            person = create_person(
                session, "student", Names(family="山田", given="花子"), SERVICE_URL
            )
            master_link(session, person.id, school.id, SERVICE_URL)
            klass = SchoolClass(
                org_id=school.id, sourced_id="5-1", title="5年1組", class_code="5-1"
            )
            session.add(klass)
            session.flush()
            session.add(
                Enrollment(
                    org_id=school.id,
                    sourced_id="e-b-1",
                    person_id=person.id,
                    class_id=klass.id,
                    role="student",
                    begin_date=datetime.now(UTC).date() - timedelta(days=1),
                    end_date=None,
                    active=True,
                )
            )
            create_account(session, "admin@b.example.jp", PASSWORD, "school_admin", SCHOOL_B)
            create_account(session, "ops@example.jp", PASSWORD, "system_admin", "ops")
            _records(session, school.id, person.public_id, SERVICE_URL, OWN_STATEMENTS)
            found = {
                "pupil": person.public_id,
                "org_b": school.id,
                "admin_b": token_for(session, "admin@b.example.jp", hash_key),
                "ops": token_for(session, "ops@example.jp", hash_key),
            }
            session.commit()
    trust(app, sender, SCHOOL_A)
    (tmp_path / "held").mkdir()
    (tmp_path / "logs").mkdir()
    built = World(
        app,
        app.test_client(),
        env,
        tmp_path / "held",
        tmp_path / "logs",
        package,
        found["pupil"],
        found["org_b"],
        found["admin_b"],
        found["ops"],
    )
    try:
        yield built
    finally:
        for process in built.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        for marker in built.hold_dir.glob("*.held"):
            for line in marker.read_text().splitlines():
                kill(int(line.split()[0]))  # horses run in process groups of their own
        with app.app_context():
            get_engine().dispose()
        with sender.app_context():
            get_engine().dispose()


@dataclass
class Jobs:
    export_id: str
    export_job: str
    import_job: str
    roster_job: str


def start_jobs(w: World) -> Jobs:
    """The three jobs, started through the API as a school admin and an operator would."""
    started = w.client.post(f"/api/v1/learners/{w.pupil}/exports", headers=w.admin_b)
    assert started.status_code == 202, started.get_data(as_text=True)
    export = started.get_json()
    imported = w.client.post(
        "/api/v1/imports",
        headers={**w.admin_b, "Content-Type": "application/zip"},
        data=w.package,
    )
    assert imported.status_code == 202, imported.get_data(as_text=True)
    roster = w.client.post(
        "/api/v1/roster/imports",
        headers={**w.ops, "Content-Type": "application/zip"},
        data=tokyo_roster().files.to_zip(),
    )
    assert roster.status_code == 202, roster.get_data(as_text=True)
    return Jobs(export["id"], export["job"], imported.get_json()["id"], roster.get_json()["job"])


def no_package(w: World, jobs: Jobs) -> None:
    """The export's package cannot be downloaded: an error that says why, never a zip."""
    package = w.client.get(f"/api/v1/exports/{jobs.export_id}/package", headers=w.admin_b)
    assert package.status_code in (404, 409), package.status_code
    assert package.mimetype == "application/json"
    assert "not ready" in package.get_json()["error"]["message"]
    assert w.chunks(jobs.export_id) == 0


def nothing_imported(w: World) -> None:
    assert w.statements_in_b() == OWN_STATEMENTS  # none of the package's statements


def no_roster(w: World, people_before: int) -> None:
    assert w.people() == people_before  # none of the roster's people


def assert_nothing_partial(w: World, jobs: Jobs, people_before: int) -> None:
    no_package(w, jobs)
    nothing_imported(w)
    no_roster(w, people_before)


def statuses(w: World, jobs: Jobs) -> dict[str, dict[str, Any]]:
    return {
        "export": w.get(f"/api/v1/exports/{jobs.export_id}", w.admin_b),
        "import": w.get(f"/api/v1/imports/{jobs.import_job}", w.admin_b),
        "roster": w.get(f"/api/v1/jobs/{jobs.roster_job}", w.ops),
    }


def assert_complete(w: World, jobs: Jobs, people_before: int) -> None:
    """Every job finished, once, with complete results."""
    wait_for(
        lambda: all(s["status"] == "finished" for s in statuses(w, jobs).values()),
        "every job finished",
        lambda: json.dumps(statuses(w, jobs), ensure_ascii=False)[:3000] + w.worker_logs(),
    )
    final = statuses(w, jobs)
    assert all(s["error"] == "" for s in final.values()), final
    package = w.client.get(f"/api/v1/exports/{jobs.export_id}/package", headers=w.admin_b)
    data = package.get_data()
    assert package.status_code == 200
    assert package.mimetype == "application/zip"
    assert len(data) == int(package.headers["Content-Length"])
    assert package.headers["Digest"] == f"sha-256={hashlib.sha256(data).hexdigest()}"
    with zipfile.ZipFile(io.BytesIO(data)) as bag:
        assert bag.testzip() is None
        names = bag.namelist()
        lines = sum(
            bag.read(n).count(b"\n") for n in names if n.endswith(".ndjson") and "statements/" in n
        )
    assert lines >= OWN_STATEMENTS
    assert final["export"]["counts"]["statements"] == lines
    receipt = final["import"]["receipt"]["statements"]
    assert receipt["imported"] > EXTRA_STATEMENTS
    assert w.statements_in_b() == OWN_STATEMENTS + receipt["imported"]
    assert final["roster"]["result"]["files"]["users.csv"]["created"] == 30
    assert w.people() == people_before + 30


def test_a_killed_work_horse_is_retried_at_once_and_nothing_partial_shows(world: World) -> None:
    people_before = world.people()
    worker = world.start_worker("exports", "default")
    jobs = start_jobs(world)
    # One worker takes the jobs one by one; each retry runs after the jobs queued before it.
    checks: list[tuple[str, Callable[[], None]]] = [
        (jobs.export_job, lambda: no_package(world, jobs)),
        (jobs.import_job, lambda: nothing_imported(world)),
        (jobs.roster_job, lambda: no_roster(world, people_before)),
    ]
    for job, nothing_partial in checks:
        horse = world.held(job)
        assert world.get(f"/api/v1/jobs/{job}", world.ops)["status"] == "running"
        nothing_partial()
        kill(horse)
    assert_complete(world, jobs, people_before)
    assert worker.poll() is None  # the worker itself lived on


def test_a_lost_worker_is_noticed_and_its_jobs_run_again_elsewhere(world: World) -> None:
    people_before = world.people()
    workers = [world.start_worker("exports", "default") for _ in range(3)]
    jobs = start_jobs(world)
    horses = [world.held(j) for j in (jobs.export_job, jobs.import_job, jobs.roster_job)]
    for pid in [w.pid for w in workers] + horses:
        kill(pid)  # the machine is gone: workers and horses at once
    for process in workers:
        process.wait(timeout=30)
    killed_at = time.monotonic()
    assert {s["status"] for s in statuses(world, jobs).values()} == {"running"}
    assert_nothing_partial(world, jobs, people_before)
    # Another machine's worker (the operator's command) notices once the heartbeats lapse.
    world.start_worker("exports", "default", held=False)
    assert_complete(world, jobs, people_before)
    assert time.monotonic() - killed_at < 2 + 60 + 30  # heartbeat + rq's grace + a margin


def test_a_job_killed_on_every_run_is_failed_with_its_reason(world: World) -> None:
    people_before = world.people()
    world.start_worker("default", HOLD_EVERY_RUN="1")
    answer = world.client.post(
        "/api/v1/roster/imports",
        headers={**world.ops, "Content-Type": "application/zip"},
        data=tokyo_roster().files.to_zip(),
    )
    job = answer.get_json()["job"]
    # Enqueued by the in-process app, whose JOB_RETRIES is 2: three runs, each killed.
    for run in (1, 2, 3):
        kill(world.held(job, runs=run))
        assert world.people() == people_before
    wait_for(
        lambda: world.get(f"/api/v1/jobs/{job}", world.ops)["status"] == "failed",
        "the job failed",
        world.worker_logs,
    )
    status = world.get(f"/api/v1/jobs/{job}", world.ops)
    assert "killed (signal 9)" in status["error"]
    assert "start it again" in status["error"]
    assert world.people() == people_before
