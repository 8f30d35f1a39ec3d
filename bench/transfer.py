"""Transfer packages (issue #5): export and import times for a pupil with N statements.

Two instances over their own databases (SQLite files, or --database-url/--database-url-b for
PostgreSQL). Instance A holds a pupil with portfolio entries, a teacher's feedback and an
achievement, LRS statements with attachments, and N more statements (bench.portfolio_page's
generator); instance B holds the same pupil (same userMasterIdentifier) in their next school.
Measured through the whole Flask stack, jobs run in-process:

- export: POST /api/v1/learners/<id>/exports (query, NDJSON, bag, CLR, signature, zip, stored
  in chunks) plus GET of the package;
- import: POST /api/v1/imports into B (every check, then every write), B emptied between runs;
- re-import: the same package again (everything checked, every statement skipped).

    python -m bench.transfer --records 10000 [--repeat 5] [--database-url ... --database-url-b ...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import delete, text

from app import create_app
from app.cli import upgrade_database
from app.db import get_engine, new_session
from bench.portfolio_page import SERVICE_URL, statements_for
from records.identity.models import ActorLink
from records.models import Activity, Attachment, StatementIndex, StoredStatement
from records.portability.keys import published_keys
from records.portability.models import TransferImport
from records.portability.trust import add_trusted
from records.store import Writer, save_statements
from records.xapi import parse_statements
from tests.portability.world import SCHOOL_A, build_receiver, build_sender

SERVICE_URL_B = "https://ashiato-b.bench/"


def _app(url: str, public_url: str, folder: Path, fresh: bool = True) -> Flask:
    """The app over its database; `fresh` empties a PostgreSQL schema first."""
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": f"bench-{public_url}",
            "PUBLIC_URL": public_url,
            "REDIS_URL": None,
            "MAX_CONTENT_LENGTH": 512 * 1024 * 1024,
        }
    )
    app.instance_path = str(folder)
    with app.app_context():
        if fresh and url.startswith("postgresql"):
            with get_engine().begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade_database()
    return app


def _seed_sender(app: Flask, records: int) -> dict[str, Any]:
    with app.app_context(), new_session() as session:
        found = build_sender(session, SERVICE_URL, app.config["SECRET_KEY"].encode())
        writer = Writer(
            found["org_id"], None, {"objectType": "Agent", "mbox": "mailto:bench@ashiato.bench"}
        )
        batch = statements_for(found["pupil"], records)
        for start in range(0, len(batch), 500):
            save_statements(session, parse_statements(batch[start : start + 500]), writer)
        session.commit()
        if app.config["DATABASE_URL"].startswith("postgresql"):
            session.execute(text("ANALYZE"))
            session.commit()
    return found


def _empty_receiver(app: Flask) -> None:
    with app.app_context(), new_session() as session:
        session.execute(delete(TransferImport))
        session.execute(delete(StatementIndex))
        session.execute(delete(StoredStatement))
        session.execute(delete(Attachment))
        session.execute(delete(Activity))
        session.execute(delete(ActorLink).where(ActorLink.source == "transfer"))
        session.commit()


def _median(times: list[float]) -> str:
    return f"median {statistics.median(times):7.3f} s  min {min(times):7.3f} s  (n={len(times)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--database-url-b", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ashiato-bench-transfer-"))
    app_a = _app(args.database_url or f"sqlite:///{folder / 'a.sqlite3'}", SERVICE_URL, folder)
    app_b = _app(args.database_url_b or f"sqlite:///{folder / 'b.sqlite3'}", SERVICE_URL_B, folder)
    began = time.perf_counter()
    sender = _seed_sender(app_a, args.records)
    with app_b.app_context(), new_session() as session:
        receiver = build_receiver(session, SERVICE_URL_B, app_b.config["SECRET_KEY"].encode())
        session.commit()
    print(
        f"seeded {args.records} statements (+ the pupil's portfolio) in "
        f"{time.perf_counter() - began:.1f} s ({app_a.config['DATABASE_URL'].split(':')[0]})"
    )
    client_a, client_b = app_a.test_client(), app_b.test_client()
    exports: list[float] = []
    package = b""
    counts: dict[str, Any] = {}
    for _ in range(args.repeat):
        began = time.perf_counter()
        started = client_a.post(
            f"/api/v1/learners/{sender['pupil']}/exports", headers=sender["admin"]
        ).get_json()
        assert started["status"] == "finished", started
        package = client_a.get(started["package_url"], headers=sender["admin"]).data
        exports.append(time.perf_counter() - began)
        counts = started["counts"]
    print(f"package: {len(package) / 1024 / 1024:.1f} MiB, {counts}")
    print(f"export    {_median(exports)}")
    with app_a.app_context(), new_session() as session:
        key = published_keys(session, SCHOOL_A)[0]
    with app_b.app_context(), new_session() as session:
        add_trusted(session, key.public_key, SCHOOL_A, "bench")
        session.commit()
    imports: list[float] = []
    again: list[float] = []
    for _ in range(args.repeat):
        _empty_receiver(app_b)
        for times, expect in ((imports, "imported"), (again, "skipped")):
            began = time.perf_counter()
            job = client_b.post(
                "/api/v1/imports",
                headers={**receiver["admin"], "Content-Type": "application/zip"},
                data=package,
            ).get_json()
            times.append(time.perf_counter() - began)
            assert job["status"] == "finished", job
            assert job["receipt"]["statements"][expect] == counts["statements"], job["receipt"]
    print(f"import    {_median(imports)}")
    print(f"re-import {_median(again)}  (every check, every statement skipped)")
    for app in (app_a, app_b):
        with app.app_context():
            get_engine().dispose()


if __name__ == "__main__":
    main()
