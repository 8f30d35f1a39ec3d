"""The `stored` clock and the consistency horizon.

Paging with `more` and `since` is only correct if no statement can become visible with a `stored`
time earlier than one a reader has already seen. Writers therefore take their `stored` time only
after announcing themselves, and readers only return statements older than the oldest writer still
in flight (the horizon, sent as X-Experience-API-Consistent-Through).

- PostgreSQL: writers hold a shared transaction-level advisory lock while they insert; taking it
  does not block other writers. Readers look up the start of the oldest transaction holding it.
- SQLite: there is one writer at a time. Writers update the single `store_clock` row first (which
  takes SQLite's write lock) and only then read the clock, so commit order is `stored` order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from records.models import StoreClock

# "ASHI" as a 32-bit number: the advisory lock key that marks statement writers.
WRITER_LOCK_KEY = 0x41534849
_TICK = timedelta(microseconds=1)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def take_stored_time(session: Session) -> datetime:
    """Call inside the writing transaction, just before inserting statements."""
    if _dialect(session) == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": WRITER_LOCK_KEY})
        moment = session.execute(text("SELECT clock_timestamp()")).scalar_one()
        assert isinstance(moment, datetime)  # noqa: S101 - driver contract
        return moment.astimezone(UTC)
    now = datetime.now(UTC)
    updated = session.execute(
        update(StoreClock).where(StoreClock.id == 1).values(last_stored=now)
    ).rowcount  # type: ignore[attr-defined]  # CursorResult has rowcount
    if not updated:
        session.add(StoreClock(id=1, last_stored=now))
        session.flush()
    return now


def consistent_through(session: Session) -> datetime:
    """Every statement stored before this moment is committed and visible to new readers."""
    if _dialect(session) != "postgresql":
        return datetime.now(UTC)
    now = session.execute(text("SELECT clock_timestamp()")).scalar_one()
    oldest = session.execute(
        text(
            "SELECT min(a.xact_start) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.objid = :k AND l.objsubid = 1 "
            "AND l.pid <> pg_backend_pid()"
        ),
        {"k": WRITER_LOCK_KEY},
    ).scalar_one()
    horizon = now if oldest is None else min(now, oldest)
    assert isinstance(horizon, datetime)  # noqa: S101 - driver contract
    return horizon.astimezone(UTC) - _TICK
