"""Erasure (APPI): a pupil, guardian or admin asks; a school admin of the pupil's school
approves; then everything of the person goes, in one transaction: statements about them (and
their index rows, files only those statements used, activity names the pupil typed), documents
kept for their identifiers, identity links, enrollments, consents, share links, access-log
chain, rollup rows and anything else that points at the person. Accounts are emptied of
personal data (so other people's access-log rows, which name the account, still verify). A
signed certificate lists what was removed, by count, never by content.

Nothing here knows every table: rows that point at the person are found through the schema's
foreign keys, so tables added later are erased too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import Table, and_, cast, delete, or_, select, update
from sqlalchemy import Text as SqlText
from sqlalchemy.orm import Session

from records.audit import Accessor, audit_key, record_access, record_accesses
from records.db import Base
from records.errors import BadRequestError, ForbiddenError, NotFoundError
from records.identity.access import may_manage_privacy
from records.identity.accounts import AccountInfo
from records.identity.models import Account, Person, SecurityEvent
from records.identity.people import find_person, person_agent_keys
from records.models import Activity, Attachment, Document, StatementIndex, StoredStatement
from records.portfolio.entries import home_org
from records.trust.models import ErasureRequest, LegalHold


def request_erasure(
    session: Session, viewer: AccountInfo, public_id: str, reason: str, today: date
) -> ErasureRequest:
    person = find_person(session, public_id)
    org_id = home_org(session, person.id, today)
    allowed = may_manage_privacy(session, viewer, person.id, today) or _administers(viewer, org_id)
    if not allowed:
        raise ForbiddenError(
            "only the pupil, their guardian or their school's admin ask for erasure"
        )
    if len(reason) > 4000:
        raise BadRequestError("the reason is longer than 4000 characters")
    pending = session.scalar(
        select(ErasureRequest).where(
            ErasureRequest.person_id == person.id, ErasureRequest.status == "requested"
        )
    )
    if pending is not None:
        raise BadRequestError("an erasure request for this person is already waiting")
    found = ErasureRequest(
        person_id=person.id,
        subject_hash=subject_hash(public_id),
        org_id=org_id,
        reason=reason.strip(),
        status="requested",
        requested_by_account_id=viewer.id,
        requested_at=datetime.now(UTC),
    )
    session.add(found)
    session.flush()
    purpose = "self" if viewer.person_id == person.id else "administration"
    record_access(session, Accessor(account_id=viewer.id), person.id, "erasure.request", purpose)
    return found


def pending_requests(session: Session, viewer: AccountInfo) -> list[ErasureRequest]:
    stmt = select(ErasureRequest).where(ErasureRequest.status == "requested")
    if not viewer.has_role("system_admin"):
        stmt = stmt.where(ErasureRequest.org_id.in_(viewer.orgs_for("school_admin") or {0}))
    found = list(session.scalars(stmt.order_by(ErasureRequest.id)))
    people = sorted({r.person_id for r in found if r.person_id is not None})
    record_accesses(
        session,
        Accessor(account_id=viewer.id),
        [(person_id, "erasure.request", "administration", 1) for person_id in people],
    )
    return found


def decide_erasure(
    session: Session, viewer: AccountInfo, request_id: int, approve: bool
) -> ErasureRequest:
    found = session.get(ErasureRequest, request_id)
    if found is None:
        raise NotFoundError(f"no erasure request {request_id}")
    if not _administers(viewer, found.org_id):
        raise ForbiddenError("only an admin of the pupil's school decides on erasure")
    if found.status != "requested" or found.person_id is None:
        raise BadRequestError("this request was already decided")
    now = datetime.now(UTC)
    found.decided_by_account_id = viewer.id
    found.decided_at = now
    if not approve:
        found.status = "refused"
        return found
    if _on_hold(session, found.person_id):
        raise BadRequestError("a legal hold stops erasure for this person; release it first")
    removed = erase_person(session, found.person_id)
    certificate = {
        "type": "AshiatoDeletionCertificate",
        "request": found.id,
        "subject": found.subject_hash,
        "organisation": found.org_id,
        "requested_at": found.requested_at.isoformat(),
        "approved_by_account": viewer.id,
        "erased_at": now.isoformat(),
        "removed": {str(kind): count for kind, count in sorted(removed.items()) if count},
    }
    found.person_id = None
    found.status = "done"
    found.certificate = certificate
    found.signature = _sign(audit_key(session), certificate)
    return found


def certificate_is_genuine(session: Session, certificate: dict[str, Any], signature: str) -> bool:
    return hmac.compare_digest(_sign(audit_key(session), certificate), signature)


def subject_hash(public_id: str) -> str:
    return hashlib.sha256(b"ashiato-erasure\x1f" + public_id.encode()).hexdigest()


@dataclass(slots=True)
class _Plan:
    nullify: list[tuple[Table, Any, list[Any]]] = field(default_factory=list)
    deletes: list[tuple[Table, Any, list[Any]]] = field(default_factory=list)


def erase_person(session: Session, person_id: int) -> Counter[str]:
    """Remove the person and everything of theirs; returns counts per kind of row."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFoundError(f"no person {person_id}")
    removed: Counter[str] = Counter()
    keys = person_agent_keys(session, person_id)
    _erase_records(session, keys, removed)
    _scrub_accounts(session, person_id, removed)
    plan = _Plan()
    _plan(session, Person.__table__, [person_id], plan, set())  # type: ignore[arg-type]
    for table, column, ids in plan.nullify:
        session.execute(update(table).where(column.in_(ids)).values({column.name: None}))
    for table, column, ids in reversed(plan.deletes):
        result = session.execute(delete(table).where(column.in_(ids)))
        removed[table.name] += _rows(result)
    session.execute(delete(Person).where(Person.id == person_id))
    removed["people"] += 1
    session.expire_all()
    return removed


def _erase_records(session: Session, keys: list[str], removed: Counter[str]) -> None:
    if not keys:
        return
    seqs = list(
        session.scalars(
            select(StatementIndex.seq)
            .where(StatementIndex.kind.in_(("a", "A")), StatementIndex.key.in_(keys))
            .distinct()
        )
    )
    delete_statements(session, seqs, removed)
    removed["documents"] += _rows(
        session.execute(delete(Document).where(Document.agent_key.in_(keys)))
    )


def delete_statements(session: Session, seqs: list[int], removed: Counter[str]) -> None:
    """Remove statements with their index rows, the files no other statement uses, and the
    names of portfolio activities only they carried (erasure and retention share this)."""
    files: set[tuple[int, str]] = set()
    entry_activities: set[tuple[int, str]] = set()
    for start in range(0, len(seqs), 500):
        chunk = seqs[start : start + 500]
        for org_id, data in session.execute(
            select(StoredStatement.org_id, StoredStatement.full).where(
                StoredStatement.seq.in_(chunk)
            )
        ):
            for holder in (
                data,
                data.get("object") if isinstance(data.get("object"), dict) else {},
            ):
                for att in holder.get("attachments") or []:
                    if isinstance(att, dict) and att.get("sha2"):
                        files.add((org_id, str(att["sha2"])))
            obj = data.get("object") or {}
            if isinstance(obj, dict) and "/portfolio/" in str(obj.get("id", "")):
                entry_activities.add((org_id, str(obj["id"])))
        removed["statement_index"] += _rows(
            session.execute(delete(StatementIndex).where(StatementIndex.seq.in_(chunk)))
        )
        removed["statements"] += _rows(
            session.execute(delete(StoredStatement).where(StoredStatement.seq.in_(chunk)))
        )
    text = cast(StoredStatement.full, SqlText)
    for org_id, sha2 in sorted(files):
        still_used = session.scalar(
            select(StoredStatement.seq)
            .where(StoredStatement.org_id == org_id, text.contains(sha2))
            .limit(1)
        )
        if still_used is None:
            removed["attachments"] += _rows(
                session.execute(
                    delete(Attachment).where(Attachment.org_id == org_id, Attachment.sha2 == sha2)
                )
            )
    for org_id, activity_id in sorted(entry_activities):
        removed["activities"] += _rows(
            session.execute(
                delete(Activity).where(
                    Activity.org_id == org_id, Activity.activity_id == activity_id
                )
            )
        )


def _scrub_accounts(session: Session, person_id: int, removed: Counter[str]) -> None:
    """Accounts stay as empty husks: other people's access-log rows name them by number."""
    accounts = list(session.scalars(select(Account).where(Account.person_id == person_id)))
    for account in accounts:
        old_email = account.email
        session.execute(
            update(SecurityEvent)
            .where(
                or_(SecurityEvent.account_id == account.id, SecurityEvent.login_name == old_email)
            )
            .values(login_name="", remote_addr="", detail="")
        )
        account.email = f"erased-{account.id}-{secrets.token_hex(4)}@erased.invalid"
        account.password_hash = "!erased"  # noqa: S105 - no password's hash: sign-in fails
        account.active = False
        account.person_id = None
        account.last_sign_in_at = None
        _plan_account_rows(session, account.id, removed)
        removed["accounts_emptied"] += 1
    session.flush()


def _plan_account_rows(session: Session, account_id: int, removed: Counter[str]) -> None:
    """Rows that exist only for the account (role grants, tokens, sessions of LTI hand-offs)."""
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "accounts" and not fk.parent.nullable:
                result = session.execute(delete(table).where(fk.parent == account_id))
                removed[table.name] += _rows(result)


def _plan(session: Session, target: Table, ids: list[Any], plan: _Plan, seen: set[str]) -> None:
    """Find, through foreign keys, every row that points at the doomed rows of `target`."""
    for table in Base.metadata.sorted_tables:
        if table.name in ("accounts",):
            continue  # emptied in place by _scrub_accounts
        for fk in table.foreign_keys:
            if fk.column.table is not target:
                continue
            column = table.c[fk.parent.name]
            if fk.parent.nullable:
                plan.nullify.append((table, column, ids))
                continue
            plan.deletes.append((table, column, ids))
            path = f"{table.name}.{column.name}"
            if "id" in table.c and table.c["id"].primary_key and path not in seen:
                child_ids = list(session.scalars(select(table.c["id"]).where(column.in_(ids))))
                if child_ids:
                    _plan(session, table, child_ids, plan, seen | {path})


def _on_hold(session: Session, person_id: int) -> bool:
    hold = session.scalar(
        select(LegalHold.id).where(
            and_(LegalHold.person_id == person_id, LegalHold.released_at.is_(None))
        )
    )
    return hold is not None


def _administers(viewer: AccountInfo, org_id: int) -> bool:
    return viewer.has_role("system_admin") or org_id in viewer.orgs_for("school_admin")


def _sign(key: bytes, body: dict[str, Any]) -> str:
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    return hmac.new(key, b"deletion-certificate\x1f" + canonical, hashlib.sha256).hexdigest()


def _rows(result: Any) -> int:
    """Rows a DELETE removed (every DBAPI we run on reports it)."""
    return int(getattr(result, "rowcount", 0) or 0)
