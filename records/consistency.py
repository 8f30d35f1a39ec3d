"""Consistency checks of a database, for operators: after a restore from a backup, after an
upgrade, or whenever in doubt (`flask ops check`). Each check reads only, and says what it
found; none repairs anything.

- statement index: every statement has its index rows (the verb row at least, and for the
  newest `sample` statements every term the store derives from the statement), and every index
  row agrees with its statement on organisation and stored time;
- attachments: every attachment a statement names by hash (without a fileUrl) is stored;
- access log: every person's hash chain verifies (records.audit.verify_chain);
- sequences (PostgreSQL): no id sequence is behind its table (a restore that leaves them behind
  makes the next insert fail on a duplicate key);
- integrity (SQLite): the file's own integrity check and its foreign keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Text, cast, exists, func, or_, select, text, tuple_
from sqlalchemy.orm import Session, aliased

from records.audit import verify_chain
from records.db import Base
from records.errors import InvalidStatementError
from records.keys import index_key
from records.models import Attachment, StatementIndex, StoredStatement
from records.store import index_terms
from records.xapi import agent_key, parse_statement


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    skipped: bool = False


def run_checks(session: Session, sample: int = 2000) -> list[CheckResult]:
    checks: list[Callable[[Session], CheckResult]] = [
        lambda s: check_statement_index(s, sample),
        check_attachments,
        check_access_log,
        check_sequences,
        check_integrity,
    ]
    return [check(session) for check in checks]


def check_statement_index(session: Session, sample: int = 2000) -> CheckResult:
    name = "statement index"
    statements = session.scalar(select(func.count()).select_from(StoredStatement)) or 0
    without_verb = (
        session.scalar(
            select(func.count())
            .select_from(StoredStatement)
            .where(
                ~exists().where(
                    StatementIndex.seq == StoredStatement.seq, StatementIndex.kind == "v"
                )
            )
        )
        or 0
    )
    stmt = aliased(StoredStatement)
    disagreeing = (
        session.scalar(
            select(func.count())
            .select_from(StatementIndex)
            .join(stmt, stmt.seq == StatementIndex.seq)
            .where(or_(StatementIndex.org_id != stmt.org_id, StatementIndex.stored != stmt.stored))
        )
        or 0
    )
    missing_terms, checked = _missing_terms(session, sample)
    problems = []
    if without_verb:
        problems.append(f"{without_verb} statements have no index rows")
    if disagreeing:
        problems.append(f"{disagreeing} index rows disagree with their statement")
    if missing_terms:
        problems.append(f"{missing_terms} of the newest {checked} statements lack index terms")
    if problems:
        return CheckResult(name, False, "; ".join(problems) + " (queries would miss them)")
    return CheckResult(
        name, True, f"{statements} statements indexed; newest {checked} re-derived and found"
    )


def _missing_terms(session: Session, sample: int) -> tuple[int, int]:
    """(statements among the newest `sample` whose derived index terms are not all there,
    how many were checked)."""
    rows = session.execute(
        select(StoredStatement.seq, StoredStatement.full)
        .order_by(StoredStatement.seq.desc())
        .limit(sample)
    ).all()
    if not rows:
        return 0, 0
    present: dict[int, set[tuple[str, str]]] = defaultdict(set)
    seqs = [seq for seq, _full in rows]
    for first in range(0, len(seqs), 500):
        for seq, kind, key in session.execute(
            select(StatementIndex.seq, StatementIndex.kind, StatementIndex.key).where(
                StatementIndex.seq.in_(seqs[first : first + 500])
            )
        ):
            present[seq].add((kind, key))
    missing = 0
    for seq, full in rows:
        try:
            wanted = index_terms(parse_statement(full))
        except InvalidStatementError:
            missing += 1  # a stored statement that no longer parses is a problem too
            continue
        authority = agent_key(full["authority"]) if full.get("authority") else None
        if authority:
            wanted.add(("A", index_key(authority)))
        if not wanted <= present[seq]:
            missing += 1
    return missing, len(rows)


def check_attachments(session: Session) -> CheckResult:
    name = "attachments"
    wanted: set[tuple[int, str]] = set()
    query = select(StoredStatement.org_id, StoredStatement.full).where(
        cast(StoredStatement.full, Text).like('%"attachments"%')
    )
    for org_id, full in session.execute(query.execution_options(yield_per=1000)):
        for meta in _attachments(full):
            if not meta.get("fileUrl") and isinstance(meta.get("sha2"), str):
                wanted.add((org_id, meta["sha2"]))
    stored: set[tuple[int, str]] = set()
    pairs = sorted(wanted)
    for first in range(0, len(pairs), 500):
        chunk = pairs[first : first + 500]
        stored.update(
            (org, sha)
            for org, sha in session.execute(
                select(Attachment.org_id, Attachment.sha2).where(
                    tuple_(Attachment.org_id, Attachment.sha2).in_(chunk)
                )
            )
        )
    lost = wanted - stored
    if lost:
        return CheckResult(
            name, False, f"{len(lost)} of {len(wanted)} attachments statements name are missing"
        )
    return CheckResult(name, True, f"{len(wanted)} attachments named by statements, all stored")


def _attachments(full: Any) -> list[dict[str, Any]]:
    found = full.get("attachments") if isinstance(full, dict) else None
    return [a for a in found if isinstance(a, dict)] if isinstance(found, list) else []


def check_access_log(session: Session) -> CheckResult:
    report = verify_chain(session)
    if not report.intact:
        first = report.broken[0]
        return CheckResult(
            "access log",
            False,
            f"{len(report.broken)} of {report.people} people's chains are broken (first: "
            f"person {first.subject_person_id}, row {first.position}: {first.reason})",
        )
    return CheckResult(
        "access log", True, f"{report.rows} rows of {report.people} people's chains verify"
    )


def check_sequences(session: Session) -> CheckResult:
    name = "sequences"
    if session.get_bind().dialect.name != "postgresql":
        return CheckResult(name, True, "SQLite has no sequences", skipped=True)
    behind = []
    checked = 0
    for table in Base.metadata.sorted_tables:
        columns = list(table.primary_key.columns)
        if len(columns) != 1 or not isinstance(columns[0].type, Integer):
            continue
        column = columns[0]
        sequence = session.scalar(select(func.pg_get_serial_sequence(table.name, column.name)))
        if sequence is None:
            continue
        checked += 1
        # The sequence's name comes from the catalogue (pg_get_serial_sequence), quoted there.
        last = session.execute(
            text(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 - see above
        ).one()
        highest = session.scalar(select(func.max(column)))
        if highest is not None and (last[0] < highest or (last[0] == highest and not last[1])):
            behind.append(
                f"{table.name}.{column.name} (sequence at {last[0]}, rows up to {highest})"
            )
    if behind:
        return CheckResult(
            name, False, "behind their tables, the next insert would fail: " + ", ".join(behind)
        )
    return CheckResult(name, True, f"{checked} id sequences ahead of their tables")


def check_integrity(session: Session) -> CheckResult:
    name = "integrity"
    if session.get_bind().dialect.name != "sqlite":
        return CheckResult(name, True, "PostgreSQL enforces it", skipped=True)
    verdict = [row[0] for row in session.execute(text("PRAGMA quick_check"))]
    if verdict != ["ok"]:
        return CheckResult(name, False, "the database file is damaged: " + "; ".join(verdict[:5]))
    broken_keys = session.execute(text("PRAGMA foreign_key_check")).all()
    if broken_keys:
        tables = sorted({row[0] for row in broken_keys})
        return CheckResult(
            name, False, f"{len(broken_keys)} rows point at missing rows (in {', '.join(tables)})"
        )
    return CheckResult(name, True, "file intact, every foreign key found")
