"""The one place that records access to a person's data (the access log), and proves the log
was not changed afterwards.

Every code path that reads, exports or changes a person's personal data calls `record_access`
in the same transaction, so nothing is read without a trace.

Tamper evidence: each person's rows form a chain numbered from 1. A row's hash is an HMAC
(keyed with the service's audit key, which is not in the database) over its own fields and the
previous row's hash, and `access_log_heads` keeps each chain's length and last hash. Editing a
row breaks its hash and the next row's link; deleting or inserting a row breaks the numbering
or the links; cutting off the newest rows no longer matches the head. Someone with the database
but not the key cannot forge a consistent chain. `verify_chain` walks it and names the first
broken link of each person.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from records.errors import BadRequestError
from records.identity.models import AccessLogEntry, AccessLogHead

PURPOSES = frozenset(
    {"self", "teaching", "administration", "transfer", "analytics", "support", "legal", "consented"}
)
# The app puts its audit key here (app/db.py); a session without one cannot write the log.
AUDIT_KEY = "ashiato.audit_key"


@dataclass(frozen=True, slots=True)
class Accessor:
    """Who is reading: a signed-in account or an LRS credential, and their organisation."""

    account_id: int | None = None
    credential_id: int | None = None
    org_id: int | None = None


def record_access(
    session: Session,
    accessor: Accessor,
    subject_person_id: int,
    resource: str,
    purpose: str,
    count: int = 1,
) -> None:
    record_accesses(session, accessor, [(subject_person_id, resource, purpose, count)])


def record_accesses(
    session: Session, accessor: Accessor, reads: Sequence[tuple[int, str, str, int]]
) -> None:
    """Several rows at once (a class list shows many pupils): a fixed number of statements
    however many people, and the heads locked in one order, so writers cannot deadlock."""
    for _, _, purpose, _ in reads:
        if purpose not in PURPOSES:
            raise BadRequestError(f"unknown purpose {purpose!r}")
    if not reads:
        return
    key = audit_key(session)
    heads = _locked_heads(session, sorted({subject for subject, _, _, _ in reads}))
    now = datetime.now(UTC)
    rows = []
    for subject, resource, purpose, count in reads:
        head = heads[subject]
        entry = AccessLogEntry(
            at=now,
            subject_person_id=subject,
            actor_account_id=accessor.account_id,
            actor_credential_id=accessor.credential_id,
            actor_org_id=accessor.org_id,
            resource=resource[:255],
            count=count,
            purpose=purpose,
            position=head.length + 1,
            prev_hash=head.last_hash,
        )
        entry.hash = row_hash(key, entry)
        head.length = entry.position
        head.last_hash = entry.hash
        rows.append({column: getattr(entry, column) for column in _COLUMNS})
    session.execute(insert(AccessLogEntry), rows)  # one executemany, however many rows


_COLUMNS = (
    "at",
    "subject_person_id",
    "actor_account_id",
    "actor_credential_id",
    "actor_org_id",
    "resource",
    "count",
    "purpose",
    "position",
    "prev_hash",
    "hash",
)


def audit_key(session: Session) -> bytes:
    key = session.info.get(AUDIT_KEY)
    if not isinstance(key, bytes) or not key:
        raise RuntimeError("this session has no audit key: open it through the app (app/db.py)")
    return key


def row_hash(key: bytes, entry: AccessLogEntry) -> str:
    fields = [
        str(entry.subject_person_id),
        str(entry.position),
        _moment(entry.at),
        str(entry.actor_account_id or ""),
        str(entry.actor_credential_id or ""),
        str(entry.actor_org_id or ""),
        entry.resource,
        str(entry.count),
        entry.purpose,
        entry.prev_hash,
    ]
    return hmac.new(key, "\x1f".join(fields).encode("utf-8"), hashlib.sha256).hexdigest()


def _moment(at: datetime) -> str:
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def _locked_heads(session: Session, subjects: list[int]) -> dict[int, AccessLogHead]:
    """The people's chain heads, locked until commit so concurrent writers queue, not fork."""
    values = [{"subject_person_id": s, "length": 0, "last_hash": ""} for s in subjects]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(pg_insert(AccessLogHead).values(values).on_conflict_do_nothing())
    else:
        session.execute(insert(AccessLogHead).values(values).prefix_with("OR IGNORE"))
    found = session.scalars(
        select(AccessLogHead)
        .where(AccessLogHead.subject_person_id.in_(subjects))
        .order_by(AccessLogHead.subject_person_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {head.subject_person_id: head for head in found}


# --- verification -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrokenLink:
    subject_person_id: int
    position: int
    entry_id: int | None
    reason: str


@dataclass(slots=True)
class ChainReport:
    rows: int = 0
    people: int = 0
    unchained: int = 0  # rows written before the chain existed (empty hash, at the start)
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.broken


def verify_chain(session: Session, subject_person_id: int | None = None) -> ChainReport:
    """Walk every chain (or one person's) and report the first broken link of each."""
    key = audit_key(session)
    report = ChainReport()
    heads = {
        h.subject_person_id: h
        for h in session.scalars(
            select(AccessLogHead).where(
                AccessLogHead.subject_person_id == subject_person_id
                if subject_person_id is not None
                else AccessLogHead.subject_person_id.isnot(None)
            )
        )
    }
    seen: set[int] = set()
    for subject, rows in _chains(session, subject_person_id):
        seen.add(subject)
        report.people += 1
        problem = _check_one(key, subject, rows, heads.get(subject), report)
        if problem is not None:
            report.broken.append(problem)
    for subject, head in heads.items():
        if subject not in seen and head.length > 0:
            report.broken.append(BrokenLink(subject, 1, None, "every row of this chain is gone"))
    return report


def _chains(
    session: Session, subject_person_id: int | None
) -> Iterator[tuple[int, list[AccessLogEntry]]]:
    stmt = select(AccessLogEntry).order_by(
        AccessLogEntry.subject_person_id, AccessLogEntry.position
    )
    if subject_person_id is not None:
        stmt = stmt.where(AccessLogEntry.subject_person_id == subject_person_id)
    current: int | None = None
    rows: list[AccessLogEntry] = []
    for entry in session.scalars(stmt.execution_options(yield_per=1000)):
        if entry.subject_person_id != current:
            if current is not None:
                yield current, rows
            current, rows = entry.subject_person_id, []
        rows.append(entry)
    if current is not None:
        yield current, rows


def _check_one(
    key: bytes,
    subject: int,
    rows: list[AccessLogEntry],
    head: AccessLogHead | None,
    report: ChainReport,
) -> BrokenLink | None:
    previous = ""
    chained = False
    for expected, entry in enumerate(rows, start=1):
        report.rows += 1
        if entry.position != expected:
            return BrokenLink(subject, expected, entry.id, "a row is missing or was inserted here")
        if not entry.hash and not chained:
            report.unchained += 1
            continue
        chained = True
        if entry.prev_hash != previous:
            return BrokenLink(
                subject, expected, entry.id, "does not link to the row before (changed or removed)"
            )
        if not hmac.compare_digest(entry.hash, row_hash(key, entry)):
            return BrokenLink(
                subject, expected, entry.id, "the row was changed after it was written"
            )
        previous = entry.hash
    if head is None:
        return BrokenLink(subject, len(rows), None, "the chain has no head")
    if head.length != len(rows) or head.last_hash != previous:
        return BrokenLink(
            subject, len(rows) + 1, None, "the newest rows were removed (the head is further on)"
        )
    return None
