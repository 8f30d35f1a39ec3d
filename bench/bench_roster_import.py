"""Roster import benchmark: seconds to import a board-sized OneRoster 1.2 CSV package.

The package comes from the test fixture builder (tests/fixtures/roster.py): 東京都, its 23
special wards, 60 primary schools, six homerooms each with a teacher, pupils up to 10,000
users, with roles and enrollments. Each run imports it into a fresh SQLite database file (the
embedded default, migrated with Alembic) and commits, as `flask roster import` does; then the
same package is imported again (nothing changes: the idempotent path). Median of the runs.

    python -m bench.bench_roster_import --users 10000 --schools 60 --repeat 3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from app import create_app
from app.cli import upgrade_database
from app.db import get_engine, new_session
from bench.report import median
from records.identity.oneroster import import_roster
from tests.fixtures.roster import large_roster

SERVICE_URL = "http://localhost:5000/"
TODAY = date(2026, 4, 10)


def _import(data: bytes) -> float:
    with new_session() as session:
        started = time.perf_counter()
        import_roster(session, data, service_url=SERVICE_URL, today=TODAY)
        session.commit()
        return time.perf_counter() - started


def one_run(data: bytes, folder: Path) -> tuple[float, float]:
    """(first import, second import) seconds, into a new database file under `folder`."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{folder / 'roster.sqlite3'}",
            "SECRET_KEY": "bench-not-secret",
            "PUBLIC_URL": SERVICE_URL,
            "REDIS_URL": None,
        }
    )
    app.instance_path = str(folder)
    with app.app_context():
        upgrade_database()
        try:
            return _import(data), _import(data)
        finally:
            get_engine().dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--schools", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    files = large_roster(args.users, args.schools)
    data = files.to_zip()
    built = time.perf_counter() - started
    sizes = {name: len(rows) for name, rows in files.tables.items()}
    print(f"package: {len(data) / 1e6:.1f} MB zip, built in {built:.1f} s; rows: {sizes}")
    firsts, seconds = [], []
    for run in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="roster-bench-") as folder:
            first, second = one_run(data, Path(folder))
        firsts.append(first)
        seconds.append(second)
        print(f"run {run + 1}: import {first:6.2f} s   re-import (no changes) {second:6.2f} s")
    print(
        f"median of {args.repeat}: import {median(firsts):.2f} s, re-import "
        f"{median(seconds):.2f} s  ({args.users} users, {args.schools} schools, SQLite)"
    )


if __name__ == "__main__":
    main()
