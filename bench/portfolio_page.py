"""How long a pupil's pages take with N records about them (issue #4: 10,000).

Seeds one pupil of a small school world with N statements (device sessions from
bench.statements, spread over the current school year, half of them tagged with a subject;
every 20th a portfolio entry of the pupil's own), then requests the pupil's home page (charts,
streak, latest entries) and the history page through the whole Flask stack, signed in as the
pupil, and prints median and p95 server time and the number of SQL statements per page.

    python -m bench.portfolio_page --records 10000 [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from app import create_app
from app.cli import upgrade_database
from app.db import get_engine, new_session
from bench.statements import StatementFactory
from records.portfolio import vocabulary as v
from records.store import Writer, save_statements
from records.xapi import parse_statements
from tests.factories import PASSWORD, add_school_accounts, build_school_world

SERVICE_URL = "https://ashiato.bench/"


def statements_for(public_id: str, count: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    factory = StatementFactory(seed=seed)
    actor = {"objectType": "Agent", "account": {"homePage": SERVICE_URL, "name": public_id}}
    now = datetime.now(UTC)
    year_start = datetime(now.year if now.month >= 4 else now.year - 1, 4, 1, tzinfo=UTC)
    span = (now - year_start).total_seconds()
    subjects = list(v.SUBJECTS)
    found: list[dict[str, Any]] = []
    for number in range(count):
        st = dict(factory.statement(number))
        st["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        st["actor"] = actor
        st.pop("stored", None)
        moment = year_start + timedelta(seconds=rng.random() * span)
        st["timestamp"] = moment.isoformat()
        if rng.random() < 0.5:
            ctx = st.setdefault("context", {})
            acts = ctx.setdefault("contextActivities", {})
            acts["category"] = [
                *acts.get("category", []),
                {"id": v.subject_iri(rng.choice(subjects))},
            ]
        if len(found) % 20 == 0:
            st["context"].setdefault("contextActivities", {}).setdefault("category", []).append(
                {"id": v.ENTRY_CATEGORY}
            )
        found.append(st)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ashiato-bench-"))
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
            pupil = world["people"]["P1"]
            writer = Writer(
                world["school_a"].id,
                None,
                {"objectType": "Agent", "mbox": "mailto:bench@ashiato.bench"},
            )
            session.commit()
            began = time.perf_counter()
            batch = statements_for(pupil.public_id, args.records)
            for start in range(0, len(batch), 500):
                save_statements(session, parse_statements(batch[start : start + 500]), writer)
                session.commit()
            elapsed = time.perf_counter() - began
            print(f"seeded {len(batch)} statements in {elapsed:.1f} s ({url.split(':')[0]})")
            if url.startswith("postgresql"):
                session.execute(text("ANALYZE"))
                session.commit()
            public_id = pupil.public_id
    client = app.test_client()
    base = "https://localhost"
    client.environ_base["HTTP_REFERER"] = f"{base}/"
    page = client.get(f"{base}/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post(
        f"{base}/sign-in",
        data={"email": "p1@school.example.jp", "password": PASSWORD, "csrf_token": token},
    )
    queries = 0

    with app.app_context():
        engine = get_engine()

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        nonlocal queries
        queries += 1

    for name, path in (
        ("home", "/portfolio"),
        ("history", f"/portfolio/people/{public_id}/history"),
    ):
        times = []
        size = 0
        for _ in range(args.repeat):
            queries = 0
            began = time.perf_counter()
            answer = client.get(f"{base}{path}")
            times.append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200, answer.status_code
            size = len(answer.data)
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(
            f"{name:8s} median {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms  "
            f"{queries} SQL statements  {size / 1024:.0f} KiB html  (n={len(times)})"
        )


if __name__ == "__main__":
    main()
