"""gunicorn with the production settings (app/gunicorn_conf.py): every line it writes on stderr,
from its master as from its workers and the app, is one JSON object in the app's shape, and
no credential or personal data appears in any of them. Real gunicorn, real signals (a worker
killed with SIGKILL, the master stopped with SIGTERM); the embedded SQLite database."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import repo_root
from tests.factories import make_statement
from tests.reliability.conftest import VENV_BIN, app_env, flask_cli, free_port

pytestmark = pytest.mark.e2e

FIELDS = {"time", "level", "logger", "request_id", "pid", "message"}


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _wait(condition: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_every_gunicorn_log_line_is_json_without_secrets(tmp_path: Path) -> None:
    env = app_env(f"sqlite:///{tmp_path / 'ashiato.sqlite3'}", None, tmp_path)
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "orgs", "create", "--code", "school-a", "--name", "school A")
    key = json.loads(
        flask_cli(env, "credentials", "create", "--org", "school-a", "--scopes", "all", "--json")
    )
    basic = base64.b64encode(f"{key['key']}:{key['secret']}".encode()).decode()
    lrs = {"Authorization": f"Basic {basic}", "X-Experience-API-Version": "1.0.3"}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stderr_path, stdout_path = tmp_path / "stderr.log", tmp_path / "stdout.log"
    with stderr_path.open("wb") as err, stdout_path.open("wb") as out:
        master = subprocess.Popen(  # noqa: S603 - fixed command line: the documented one
            [
                str(VENV_BIN / "gunicorn"),
                "-c",
                "python:app.gunicorn_conf",
                "--workers",
                "2",
                "--threads",
                "2",
                "--worker-class",
                "gthread",
                "--bind",
                f"127.0.0.1:{port}",
                "app:create_app()",
            ],
            env=env,
            cwd=repo_root(),
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    try:
        _wait(lambda: _answers(url) and len(_children(master.pid)) == 2, "gunicorn to boot")
        assert requests.get(f"{url}/healthz", headers={"X-Request-Id": "log-test-1"}, timeout=30).ok
        posted = requests.post(
            f"{url}/xapi/statements", json=[make_statement()], headers=lrs, timeout=30
        )
        assert posted.status_code == 200
        agent = json.dumps({"mbox": "mailto:hanako.yamada@school.example.jp"})
        queried = requests.get(
            f"{url}/xapi/statements", params={"agent": agent}, headers=lrs, timeout=30
        )
        assert queried.status_code == 200
        refused = requests.get(
            f"{url}/api/v1/people",
            headers={"Authorization": "Bearer not-a-real-token-but-secret-looking"},
            timeout=30,
        )
        assert refused.status_code == 401
        assert requests.get(f"{url}/no/such/page", timeout=30).status_code == 404
        # A worker killed as the out-of-memory killer would: gunicorn's master reports it.
        victim = _children(master.pid)[0]
        os.kill(victim, signal.SIGKILL)
        _wait(
            lambda: victim not in _children(master.pid) and len(_children(master.pid)) == 2,
            "a new worker",
        )
        assert requests.get(f"{url}/healthz", timeout=30).ok
    finally:
        os.killpg(master.pid, signal.SIGTERM)
        master.wait(timeout=60)

    lines = stderr_path.read_text(encoding="utf-8").splitlines()
    parsed = []
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"not JSON: {line!r}")
        assert isinstance(entry, dict)
        assert entry.keys() >= FIELDS, entry
        parsed.append(entry)
    assert stdout_path.read_text() == ""  # nothing written around the logs

    gunicorn = [e for e in parsed if e["logger"] == "gunicorn.error"]
    messages = " | ".join(e["message"] for e in gunicorn)
    assert "Listening at" in messages
    assert "Booting worker" in messages
    assert any(e["level"] == "ERROR" and "SIGKILL" in e["message"] for e in gunicorn), (
        messages
    )  # the master saw its worker die
    assert "Shutting down" in messages
    assert {e["pid"] for e in gunicorn} >= {master.pid}
    access = [e for e in parsed if e["logger"] == "ashiato.access"]
    assert ("log-test-1", 200) in {(e["request_id"], e["status"]) for e in access}
    assert {e["status"] for e in access} >= {200, 401, 404}
    everything = stderr_path.read_text(encoding="utf-8")
    for secret in (
        key["secret"],
        basic,
        "not-a-real-token-but-secret-looking",
        "hanako.yamada",
        "school.example.jp",
    ):
        assert secret not in everything


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False
