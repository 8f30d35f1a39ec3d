"""Who used the CPU during a run: the server, PostgreSQL, this client, or anything else.

Load generator, server and database share one small machine, so every figure is printed with
this split; a large `other` share means the run was disturbed (e.g. a test suite running).
Reads /proc (Linux); elsewhere the split is empty.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
GROUPS = ("server", "db", "client", "other")


def _group(pid: int, command: str) -> str:
    if pid == os.getpid():
        return "client"
    if command.startswith("postgres") or "/postgres" in command:
        return "db"
    if "gunicorn" in command or "flask" in command:
        return "server"
    return "other"


def cpu_by_group() -> dict[tuple[int, str], float]:
    """Cumulative CPU seconds of every process, keyed by (pid, group)."""
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
        seen[(pid, _group(pid, command or stat))] = seconds
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
