"""Real processes for the fault tests: a private PostgreSQL cluster and a private Redis (each on
a free port, so that two runs on one machine never meet) and gunicorn serving the app over them.
Never the shared services: these tests stop and kill what they start. Missing binaries skip
the tests locally and fail them in CI.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.conftest import need_service, repo_root

PG_BIN = Path("/usr/lib/postgresql/15/bin")
VENV_BIN = Path(sys.executable).parent


def _as_postgres(*argv: str) -> list[str]:
    # initdb refuses to run as root; run it (and pg_ctl) as the postgres user then.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return list(argv)


@dataclass
class PrivatePostgres:
    datadir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 - fixed command line
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-w", *args),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1"
        self._ctl("-o", options, "-l", str(self.datadir / "server.log"), "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    if not (PG_BIN / "initdb").exists():
        need_service("PostgreSQL 15 binaries", f"no {PG_BIN / 'initdb'}")
    root = Path(tempfile.mkdtemp(prefix="ashiato-pg-"))
    datadir = root / "data"
    datadir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(datadir, "postgres")
    subprocess.run(  # noqa: S603 - fixed command line
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(datadir), "-A", "trust", "-U", "postgres"),
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=120,
    )
    server = PrivatePostgres(datadir, free_port())
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()  # a test may have left it stopped
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class PrivateRedis:
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed command line
            [  # noqa: S607 - found on PATH, as an operator would
                "redis-server",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--bind",
                "127.0.0.1",
            ],
            stdout=subprocess.DEVNULL,
        )
        _wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        need_service("redis-server", "redis-server is not installed")
    server = PrivateRedis(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _wait_for_port(port: int, seconds: float = 30) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port}")


@dataclass
class Server:
    """gunicorn serving Ashiato; `auth` is a device credential of school "school-a"."""

    url: str
    process: subprocess.Popen[bytes]
    auth: dict[str, str]

    def workers(self) -> list[int]:
        """The worker processes' ids (children of gunicorn's master)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended while we looked
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found


def flask_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [str(VENV_BIN / "flask"), "--app", "app", *args],
        env=env,
        cwd=repo_root(),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout


def app_env(database_url: str, redis_url: str | None, instance: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "ASHIATO_DATABASE_URL": database_url,
        "ASHIATO_SECRET_KEY": "reliability-test-secret",
        "ASHIATO_PUBLIC_URL": "http://lrs.test/",
        "ASHIATO_LOG_JSON": "true",
    }
    env.pop("ASHIATO_REDIS_URL", None)
    if redis_url:
        env["ASHIATO_REDIS_URL"] = redis_url
    return env


@pytest.fixture
def fresh_database(private_postgres: PrivatePostgres) -> str:
    """An empty database of its own on the private cluster, for one test."""
    import psycopg

    name = f"t{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(
        f"host=127.0.0.1 port={private_postgres.port} user=postgres dbname=postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return private_postgres.url.rsplit("/", 1)[0] + f"/{name}"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(
    database_url: str, tmp_path: Path, redis_url: str | None = None, workers: int = 2
) -> Server:
    port = free_port()
    env = app_env(database_url, redis_url, tmp_path)
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "orgs", "create", "--code", "school-a", "--name", "school A")
    key = json.loads(
        flask_cli(env, "credentials", "create", "--org", "school-a", "--scopes", "all", "--json")
    )
    token = base64.b64encode(f"{key['key']}:{key['secret']}".encode()).decode()
    with (tmp_path / "gunicorn.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed command line
            [
                str(VENV_BIN / "gunicorn"),
                "-c",
                "python:app.gunicorn_conf",  # the production settings (JSON logs)
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--graceful-timeout",
                "5",
                "app:create_app()",
            ],
            env=env,
            cwd=repo_root(),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    server = Server(
        f"http://127.0.0.1:{port}",
        process,
        {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"},
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            answered = requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
            if answered and process.poll() is None:  # ours, not something else on the port
                break
        except requests.RequestException:
            pass  # still booting
        if time.monotonic() > deadline or process.poll() is not None:
            stop_server(server)
            raise RuntimeError((tmp_path / "gunicorn.log").read_text()[-3000:])
        time.sleep(0.2)
    return server


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=30)
