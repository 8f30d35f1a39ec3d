"""What writing the access log costs a statement query (issue #8: under 10% of the median).

Seeds one pupil with N statements, then times GET /api/v1/people/<id>/statements (a page of
100, as a teacher with a Bearer token) through the whole Flask stack, alternating runs with the
real access log (hash chain, head row lock) and runs where `record_accesses` does nothing.
Prints both medians and the overhead.

    python -m bench.audit_overhead --records 10000 [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

import records.audit as audit
from app import create_app
from app.cli import upgrade_database
from app.db import get_engine, new_session
from bench.portfolio_page import SERVICE_URL, statements_for
from records.identity.accounts import create_token
from records.store import Writer, save_statements
from records.xapi import parse_statements
from tests.factories import add_school_accounts, build_school_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ashiato-audit-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "PUBLIC_URL": SERVICE_URL,
            "REDIS_URL": None,
            "LOG_JSON": False,
        }
    )
    app.instance_path = str(folder)
    with app.app_context():
        if url.startswith("postgresql"):
            with get_engine().begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade_database()
        with new_session() as session:
            world = build_school_world(session, SERVICE_URL)
            add_school_accounts(session, world)
            pupil = world["people"]["P1"].public_id
            writer = Writer(world["school_a"].id, None, {"mbox": "mailto:bench@ashiato.bench"})
            batch = statements_for(pupil, args.records)
            for start in range(0, len(batch), 500):
                save_statements(session, parse_statements(batch[start : start + 500]), writer)
            key = app.config["CREDENTIAL_HASH_KEY"].encode()
            token = create_token(session, "t1@school.example.jp", "bench", key)
            session.commit()
            if url.startswith("postgresql"):
                session.execute(text("ANALYZE"))
                session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/people/{pupil}/statements?limit=100"
    real = audit.record_accesses

    def skip(*_args: Any, **_kwargs: Any) -> None:
        return None

    timings: dict[str, list[float]] = {"with log": [], "without log": []}
    for _ in range(10):  # warm up both paths
        client.get(path, headers=headers)
    for n in range(args.repeat * 2):
        logged = n % 2 == 0
        audit.record_accesses = real if logged else skip  # type: ignore[assignment]
        began = time.perf_counter()
        answer = client.get(path, headers=headers)
        timings["with log" if logged else "without log"].append(
            (time.perf_counter() - began) * 1000
        )
        assert answer.status_code == 200, answer.status_code
    audit.record_accesses = real  # type: ignore[assignment]
    with_log = statistics.median(timings["with log"])
    without = statistics.median(timings["without log"])
    where = url.split(":")[0]
    print(f"database: {where}, {args.records} statements, page of 100, n={args.repeat} each")
    print(f"median with the access log    {with_log:7.2f} ms")
    print(f"median without the access log {without:7.2f} ms")
    print(f"overhead {100 * (with_log - without) / without:+.1f}%")


if __name__ == "__main__":
    main()
