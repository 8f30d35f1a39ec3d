"""The `stored` clock and the consistency horizon.

Paging with `more` and polling with `since` are only exact if no statement can become visible with
a `stored` time at or before a horizon some reader has already been given. So writers take their
`stored` time only after announcing themselves, and readers only return statements stored before
the earliest writer still in flight (the horizon, sent as X-Experience-API-Consistent-Through).

- PostgreSQL: a writer holds a shared transaction-level advisory lock (writers never block each
  other) and, in the same statement, right after getting it, publishes its `stored` time as its
  transaction-local application_name. A reader takes the minimum published time over the lock
  holders. A holder whose time is not visible yet is read again (it is microseconds away).
  Using the holder's transaction start instead would be safe but would let the horizon step back,
  which makes a polling client see statements twice.
- SQLite: one writer at a time. Writers update the single `store_clock` row first (which takes
  SQLite's write lock) and only then read the clock, so commit order is `stored` order; the
  horizon is the last committed `stored` time.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from records.models import StoreClock

# "ASHI" as a 32-bit number: the advisory lock key that marks statement writers.
WRITER_LOCK_KEY = 0x41534849
_MARK = "ashiato-writer@"
_TICK = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_RETRIES = 50
_TAKEN = "ashiato.stored_time"

# OFFSET 0 keeps the subquery (the lock) from being flattened, so it is taken before the clock
# is read and published.
_ANNOUNCE = text(
    "SELECT set_config('application_name', :mark || to_char(clock_timestamp() AT TIME ZONE "
    "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), true) "
    "FROM (SELECT pg_advisory_xact_lock_shared(:k) OFFSET 0) AS writer_lock"
)
_WRITERS = text(
    "SELECT a.application_name, a.xact_start FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.objid = :k AND l.objsubid = 1 AND l.granted "
    "AND l.pid <> pg_backend_pid() "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def take_stored_time(session: Session) -> datetime:
    """Call inside the writing transaction, just before inserting statements. Within one
    transaction every call returns the same time: the published mark must stay the earliest."""
    transaction = session.get_transaction()
    taken = session.info.get(_TAKEN)
    if taken is not None and taken[0] is transaction:
        moment: datetime = taken[1]
        return moment
    if session.get_bind().dialect.name == "postgresql":
        mark = (
            session.connection()
            .execute(_ANNOUNCE, {"mark": _MARK, "k": WRITER_LOCK_KEY})
            .scalar_one()
        )
        moment = _parse_mark(str(mark))
        session.info[_TAKEN] = (transaction, moment)
        return moment
    # The no-op update takes SQLite's write lock before the clock is read.
    touched = session.connection().execute(
        update(StoreClock).where(StoreClock.id == 1).values(last_stored=StoreClock.last_stored)
    )
    if not touched.rowcount:
        session.add(StoreClock(id=1, last_stored=None))
        session.flush()
    last = session.connection().scalar(select(StoreClock.last_stored).where(StoreClock.id == 1))
    now = datetime.now(UTC)
    if last is not None and _aware(last) >= now:
        now = _aware(last) + _TICK  # strictly increasing, even if the wall clock steps back
    session.connection().execute(
        update(StoreClock).where(StoreClock.id == 1).values(last_stored=now)
    )
    session.info[_TAKEN] = (transaction, now)
    return now


def consistent_through(session: Session) -> datetime:
    """Every statement stored at or before this moment is committed and visible."""
    if session.get_bind().dialect.name != "postgresql":
        return _sqlite_horizon(session)
    now = session.connection().execute(text("SELECT clock_timestamp()")).scalar_one()
    horizon: datetime = now.astimezone(UTC)
    for attempt in range(_RETRIES):
        unannounced = None
        for name, xact_start in session.connection().execute(_WRITERS, {"k": WRITER_LOCK_KEY}):
            if name and name.startswith(_MARK):
                horizon = min(horizon, _parse_mark(name) - _TICK)
            else:
                unannounced = xact_start
        if unannounced is None:
            return horizon
        if attempt == _RETRIES - 1:
            # Still not visible: fall back to the holder's start, which is safe.
            started: datetime = unannounced.astimezone(UTC)
            return min(horizon, started - _TICK)
        # pg_stat_activity is cached per transaction; look again after a moment.
        session.connection().execute(text("SELECT pg_stat_clear_snapshot()"))
        time.sleep(0.0002)
        horizon = now.astimezone(UTC)
    return horizon


def _sqlite_horizon(session: Session) -> datetime:
    """Now, if no writer is in flight (checked by taking the write lock for an instant);
    otherwise the last committed `stored` time, which every writer in flight will exceed."""
    raw = session.get_bind().raw_connection()  # type: ignore[union-attr]  # an Engine here
    try:
        connection: sqlite3.Connection = raw.driver_connection  # type: ignore[assignment]
        connection.execute("PRAGMA busy_timeout=0")
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # "database is locked": a writer holds the lock
            row = connection.execute("SELECT last_stored FROM store_clock WHERE id = 1").fetchone()
            last = _from_sqlite(row[0]) if row and row[0] else None
            return last if last is not None else _EPOCH
        try:
            now = datetime.now(UTC) - _TICK  # a writer after us reads a later clock
            row = connection.execute("SELECT last_stored FROM store_clock WHERE id = 1").fetchone()
            last = _from_sqlite(row[0]) if row and row[0] else None
            return max(now, last) if last is not None else now
        finally:
            connection.rollback()
    finally:
        connection.execute("PRAGMA busy_timeout=30000")
        raw.close()


def _from_sqlite(text_value: str) -> datetime:
    return _aware(datetime.fromisoformat(text_value))


def _parse_mark(mark: str) -> datetime:
    return datetime.fromisoformat(mark.removeprefix(_MARK)).replace(tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
