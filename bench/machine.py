"""Who used the CPU during a run: the server, PostgreSQL, this client, or anything else.

Load generator, server and database share one small machine, so every figure is printed with
this split; a large `other` share means the run was disturbed (e.g. a test suite running).
Reads /proc (Linux); elsewhere the split is empty. PostgreSQL backends count as `db` only for
databases whose name starts with "bench"; the shared machine's other databases count as `other`.
"""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
GROUPS = ("server", "db", "client", "other")


# PostgreSQL backends name their database: "postgres: 15/main: <user> <database> <client> ..."
_BACKEND = re.compile(r"^postgres: [^:]+: (?P<user>\S+) (?P<database>\S+) ")
OUR_DATABASES = "bench"  # backends of databases named bench* are ours; others are `other`


def _group(pid: int, command: str, port: int | None) -> str:
    if pid == os.getpid():
        return "client"
    if command.startswith("postgres"):
        backend = _BACKEND.match(command)
        if backend is None or backend["database"].startswith(OUR_DATABASES):
            return "db"  # our backends, and the shared writer/checkpointer processes
        return "other"
    if ("gunicorn" in command or "flask" in command) and (
        port is None or f":{port}" in command or f"--port {port}" in command
    ):
        return "server"  # the server under test: a gunicorn/flask bound to our port
    return "other"


def cpu_by_group(port: int | None = None) -> dict[tuple[int, str], float]:
    """Cumulative CPU seconds of every process, keyed by (pid, group).

    `port`: the server under test listens there; other gunicorn/flask processes are `other`.
    """
    seen: dict[tuple[int, str], float] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return seen
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / _HZ  # utime + stime
        pid = int(entry.name)
        seen[(pid, _group(pid, command or stat, port))] = seconds
    return seen


@dataclass(frozen=True, slots=True)
class CpuSplit:
    """CPU used per group during an interval, in percent of one core."""

    percent: dict[str, float]

    @classmethod
    def between(
        cls, before: dict[tuple[int, str], float], after: dict[tuple[int, str], float], wall: float
    ) -> CpuSplit:
        used = dict.fromkeys(GROUPS, 0.0)
        for key, seconds in after.items():
            used[key[1]] += seconds - before.get(key, 0.0)
        return cls({g: 100 * max(0.0, s) / wall for g, s in used.items()} if wall else used)

    def show(self) -> str:
        return "cpu " + " ".join(f"{g} {self.percent.get(g, 0):3.0f}%" for g in GROUPS)


def wait_for_quiet(
    max_other: float = 15.0, port: int | None = None, timeout: float = 600.0
) -> None:
    """Wait (up to `timeout` s) until processes that are not ours use < max_other% of a core.

    The machine is shared: a test suite started by someone else halves what we measure.
    """
    deadline = time.monotonic() + timeout
    told = False
    while True:
        before = cpu_by_group(port)
        time.sleep(2.0)
        other = CpuSplit.between(before, cpu_by_group(port), 2.0).percent["other"]
        if other < max_other or time.monotonic() > deadline:
            if told:
                print(f"  (machine quiet enough: other {other:.0f}%)", file=sys.stderr)
            return
        if not told:
            print(f"  (waiting: other processes use {other:.0f}% of a core)", file=sys.stderr)
            told = True
