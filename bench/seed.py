"""Fill a store with N generated statements through the domain writer, fast.

Each worker process opens its own SQLAlchemy session and calls
`records.store.save_statements(session, parse_statements(batch), Writer(...))` once per batch of
500, committing per batch: the same validation, index rows and activity definitions as POST
/xapi/statements, without HTTP and Flask. Statement ids come from the seed, so running it again
with the same --seed and --start is a no-op (identical re-posts), and --start resumes.

    ASHIATO_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
    ASHIATO_SECRET_KEY=x python -m bench.seed --count 1000000 --workers 2

Without --key it creates the organisation (if missing) and a credential with scope `all`, and
prints its key and secret (the secret is hashed with ASHIATO_CREDENTIAL_HASH_KEY, or
ASHIATO_SECRET_KEY, as the server does).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from bench.statements import StatementFactory
from records.credentials import create_credential, parse_scopes
from records.errors import NotFoundError
from records.models import Credential
from records.organisations import create_organisation, get_organisation
from records.store import Writer, save_statements
from records.xapi import Statement, parse_statements

RETRIES = 5


@dataclass(frozen=True, slots=True)
class Plan:
    url: str
    seed: int
    start: int
    count: int
    batch: int
    workers: int
    writer: Writer


def engine_for(url: str) -> Engine:
    return create_engine(url, pool_size=2, max_overflow=0)


def writer_for(session: Session, args: argparse.Namespace) -> Writer:
    """The Writer of an existing credential (--key), or of a new one with scope `all`."""
    if args.key:
        row = session.scalar(select(Credential).where(Credential.key == args.key))
        if row is None:
            raise SystemExit(f"no credential with key {args.key!r}")
        key, label, org_id, cred_id = row.key, row.label, row.org_id, row.id
    else:
        hash_key = os.environ.get("ASHIATO_CREDENTIAL_HASH_KEY") or os.environ.get(
            "ASHIATO_SECRET_KEY"
        )
        if not hash_key:
            raise SystemExit("set ASHIATO_SECRET_KEY (as the server has it) or give --key")
        try:
            get_organisation(session, args.org)
        except NotFoundError:
            create_organisation(session, args.org, args.org_name)
        new = create_credential(
            session, args.org, parse_scopes("all"), "bench seeder", hash_key.encode("utf-8")
        )
        session.commit()
        print(f"credential (org {args.org}, scope all): {new.info.key}:{new.secret}", flush=True)
        key, label, org_id, cred_id = new.info.key, new.info.label, new.info.org_id, new.info.id
    # The same authority the server builds for this credential (app.lrs_auth.authority_of).
    authority: dict[str, Any] = {
        "objectType": "Agent",
        "name": label,
        "account": {"homePage": args.public_url, "name": f"credential/{key}"},
    }
    return Writer(org_id, cred_id, authority)


def work(plan: Plan, worker: int, done: Any) -> None:
    """Batches worker, worker + workers, ...: generate, parse, save, commit."""
    engine = engine_for(plan.url)
    factory = StatementFactory(plan.seed)
    batches = (plan.count + plan.batch - 1) // plan.batch
    with Session(engine, expire_on_commit=False) as session:
        for number in range(worker, batches, plan.workers):
            first = plan.start + number * plan.batch
            size = min(plan.batch, plan.start + plan.count - first)
            statements = parse_statements(list(factory.range(first, size)))
            _save(session, statements, plan.writer)
            with done.get_lock():
                done.value += size
    engine.dispose()


def _save(session: Session, statements: list[Statement], writer: Writer) -> None:
    """Save and commit one batch; retry a batch that lost a race on a new activity row.

    (Concurrent writers that both meet an activity for the first time collide on
    uq_activities_org_id_key: a deadlock or a unique violation. See bench/README.md.)
    """
    for attempt in range(1, RETRIES + 1):
        try:
            save_statements(session, statements, writer)
            session.commit()
            return
        except (OperationalError, IntegrityError) as exc:
            session.rollback()
            if attempt == RETRIES:
                raise
            print(f"retrying a batch after {type(exc.orig).__name__}", flush=True)
            time.sleep(0.05 * attempt)


def maintain(url: str, command: str) -> None:
    """`VACUUM (ANALYZE)` or `ANALYZE` the tables the writer fills.

    Autovacuum may be off (it is on the benchmark machine); without statistics the planner
    scans the whole statements table for every `statement_id IN (...)` probe of the writer.
    """
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for table in ("statements", "statement_index", "activities"):
            conn.execute(text(f"{command} {table}"))
    engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("ASHIATO_DATABASE_URL"))
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--start", type=int, default=0, help="first statement index (resume)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="processes")
    parser.add_argument("--org", default="bench", help="organisation code")
    parser.add_argument("--org-name", default="みなと市教育委員会 (bench)")
    parser.add_argument("--key", help="write as this existing credential")
    parser.add_argument(
        "--public-url",
        default="http://127.0.0.1:8055/",
        help="the server's PUBLIC_URL, used in the authority (as the server would)",
    )
    parser.add_argument("--progress", type=float, default=30.0, help="seconds between reports")
    parser.add_argument(
        "--analyze-every",
        type=int,
        default=50_000,
        help="ANALYZE after this many statements (0: never), as autovacuum would",
    )
    parser.add_argument("--no-vacuum", action="store_true", help="skip VACUUM ANALYZE at the end")
    args = parser.parse_args(argv)
    if not args.database_url:
        raise SystemExit("give --database-url or set ASHIATO_DATABASE_URL")
    engine = engine_for(args.database_url)
    with Session(engine, expire_on_commit=False) as session:
        writer = writer_for(session, args)
    engine.dispose()
    plan = Plan(
        args.database_url, args.seed, args.start, args.count, args.batch, args.workers, writer
    )
    StatementFactory(args.seed).city.units  # noqa: B018 - fail fast before forking
    done = multiprocessing.Value("q", 0)
    began = time.perf_counter()
    procs = [
        multiprocessing.Process(target=work, args=(plan, n, done), daemon=True)
        for n in range(args.workers)
    ]
    for proc in procs:
        proc.start()
    last, shown, analysed = 0, began, 0
    while any(proc.is_alive() for proc in procs):
        time.sleep(0.2)
        now, elapsed = done.value, time.perf_counter() - began
        if args.analyze_every and now - analysed >= args.analyze_every:
            maintain(args.database_url, "ANALYZE")
            analysed = now
        if now != last and time.perf_counter() - shown >= args.progress:
            print(
                f"{now:>9} / {args.count} statements  {elapsed:7.0f} s  "
                f"{now / elapsed:6.0f} st/s overall",
                flush=True,
            )
            last, shown = now, time.perf_counter()
    for proc in procs:
        proc.join()
    failed = [proc.exitcode for proc in procs if proc.exitcode]
    elapsed = time.perf_counter() - began
    print(
        f"seeded {done.value} statements in {elapsed:.0f} s: {done.value / elapsed:.0f} st/s"
        + (f"  (worker exit codes {failed})" if failed else ""),
        flush=True,
    )
    if failed:
        raise SystemExit(1)
    if not args.no_vacuum:
        began = time.perf_counter()
        maintain(args.database_url, "VACUUM (ANALYZE)")
        print(f"VACUUM ANALYZE took {time.perf_counter() - began:.0f} s", flush=True)


if __name__ == "__main__":
    main()
