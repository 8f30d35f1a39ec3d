"""The statement writer: the LRS rules for accepting statements.

Fills `id`, `stored`, `authority`, `version` and `timestamp`; treats an identical re-post as a
no-op and the same id with other content as a conflict; checks attachments and signatures; writes
each statement with its index rows, voids targets, and keeps activity definitions current. Flushes,
never commits: the caller owns the transaction, so nothing is acknowledged before it is committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from records.clock import take_stored_time
from records.errors import BadRequestError, InvalidStatementError, StatementConflictError
from records.keys import index_key
from records.models import Activity, Attachment, StatementIndex, StoredStatement
from records.statement_rows import Term, known_definitions, stored_referrers, write_rows
from records.xapi import Statement, agent_key, parse_timestamp, verify_signature
from records.xapi.comparison import same_statement

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"


@dataclass(frozen=True, slots=True)
class AttachmentPart:
    """One attachment sent in a multipart/mixed request."""

    sha2: str
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Writer:
    """Who is writing: the organisation, the credential and its authority Agent."""

    org_id: int
    credential_id: int | None
    authority: dict[str, Any]
    # xAPI `define` scope: may this writer (re)define activities for GET /xapi/activities?
    may_define: bool = True


def save_statements(
    session: Session,
    statements: Sequence[Statement],
    writer: Writer,
    parts: Sequence[AttachmentPart] = (),
    forced_id: str | None = None,
) -> list[str]:
    """Store a batch (all or nothing) and return the ids, in order.

    `forced_id` is the statementId of a PUT: the statement must not carry another id.
    """
    if not statements:
        raise BadRequestError("no statements in the request")
    ids = _assign_ids(statements, forced_id)
    _check_attachments(statements, parts)
    # Insert first and look only at ids the database says it has (retries are rare).
    fresh = list(range(len(ids)))
    _check_voiding(session, writer.org_id, [statements[i] for i in fresh])
    stored = take_stored_time(session)
    rows = [_row(statements[i], ids[i], stored, writer) for i in fresh]
    authority_key = agent_key(writer.authority)
    terms: list[Term] = []
    for i in fresh:
        found_by = index_terms(statements[i])
        if authority_key:
            found_by.add(("A", index_key(authority_key)))
        terms.extend((ids[i], kind, key) for kind, key in found_by)
    # xAPI `define` scope: only such writers' definitions reach GET /xapi/activities.
    defining = fresh if writer.may_define else []
    definitions = _latest_definitions(statements[i].data for i in defining)
    # In the writing transaction: a revocation committed before it refuses the write, even
    # where the request was let in by a cached authentication (app/lrs_auth.py).
    result = write_rows(session, rows, terms, list(definitions))
    inserted = result.inserted
    if len(inserted) < len(rows):
        # Some ids were stored already (a client retrying, perhaps in parallel): the same
        # content is a no-op, other content a conflict (and nothing of this batch is
        # committed, since the caller rolls back).
        raced = [i for i in fresh if ids[i] not in inserted]
        _drop_known(session, writer.org_id, [ids[i] for i in raced], [statements[i] for i in raced])
        fresh = [i for i in fresh if ids[i] in inserted]
        if not fresh:
            return ids
        defining = fresh if writer.may_define else []
        definitions = _latest_definitions(statements[i].data for i in defining)
    written = [(inserted[ids[i]], statements[i]) for i in fresh]
    referrers = [(seq, ref, voiding) for seq, ref, voiding in result.referrers if ref in inserted]
    _link(session, writer.org_id, written, referrers)
    _store_parts(session, writer.org_id, parts)
    _apply_definitions(session, writer.org_id, definitions, result.definitions)
    return ids


def format_stored(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- steps -----------------------------------------------------------------------------------


def _assign_ids(statements: Sequence[Statement], forced_id: str | None) -> list[str]:
    ids: list[str] = []
    seen: set[str] = set()
    for n, st in enumerate(statements):
        if forced_id is not None:
            if st.id is not None and st.id != forced_id:
                raise BadRequestError(
                    f"the statement's id {st.id} differs from the statementId parameter {forced_id}"
                )
            sid = forced_id
        else:
            sid = st.id or str(uuid.uuid4())
        if sid in seen:
            raise BadRequestError(f"statements[{n}]: id {sid} appears twice in the batch")
        seen.add(sid)
        ids.append(sid)
    return ids


def _check_attachments(statements: Sequence[Statement], parts: Sequence[AttachmentPart]) -> None:
    by_hash = {p.sha2: p for p in parts}
    used: set[str] = set()
    for n, st in enumerate(statements):
        for meta in st.attachments:
            part = by_hash.get(meta.sha2)
            if part is None:
                if meta.file_url is None:
                    raise BadRequestError(
                        f"statements[{n}]: attachment {meta.sha2} has no fileUrl and no "
                        "matching part was sent; send it as multipart/mixed with "
                        "X-Experience-API-Hash"
                    )
                if meta.usage_type == SIGNATURE_USAGE:
                    raise BadRequestError(
                        f"statements[{n}]: the signature attachment must be sent in the request"
                    )
                continue
            used.add(meta.sha2)
            if meta.usage_type == SIGNATURE_USAGE:
                if meta.content_type != "application/octet-stream":
                    raise InvalidStatementError(
                        f"statements[{n}]: a signature attachment must have contentType "
                        "application/octet-stream"
                    )
                verify_signature(st.data, part.content)
    extra = sorted(set(by_hash) - used)
    if extra:
        raise BadRequestError(
            f"attachment part(s) {', '.join(extra)} match no attachment of any statement"
        )


def _drop_known(
    session: Session, org_id: int, ids: list[str], statements: Sequence[Statement]
) -> list[int]:
    """Indexes of statements not yet stored; raises on an id stored with other content."""
    known: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(ids, 500):
        rows = session.connection().execute(
            select(StoredStatement.statement_id, StoredStatement.full).where(
                StoredStatement.org_id == org_id, StoredStatement.statement_id.in_(chunk)
            )
        )
        known.update(dict(rows.all()))
    fresh = []
    for i, sid in enumerate(ids):
        if sid not in known:
            fresh.append(i)
        elif not same_statement(known[sid], statements[i].data):
            raise StatementConflictError(
                f"statement {sid} is already stored with different content; statements are "
                "immutable (void it and send a new one)"
            )
    return fresh


def _check_voiding(session: Session, org_id: int, statements: Sequence[Statement]) -> None:
    targets = {st.voided_id for st in statements if st.voided_id}
    if not targets:
        return
    voiding_targets = set(
        session.connection().scalars(
            select(StoredStatement.statement_id).where(
                StoredStatement.org_id == org_id,
                StoredStatement.statement_id.in_(targets),
                StoredStatement.is_voiding.is_(True),
            )
        )
    )
    batch_voiding = {st.id for st in statements if st.voided_id and st.id}
    for st in statements:
        if st.voided_id and (st.voided_id in voiding_targets or st.voided_id in batch_voiding):
            raise InvalidStatementError(
                f"statement.object.id: {st.voided_id} is itself a voiding statement; a voiding "
                "statement cannot be voided"
            )


def _row(st: Statement, sid: str, stored: datetime, writer: Writer) -> dict[str, Any]:
    full = dict(st.data)
    full["id"] = sid
    stamp = format_stored(stored)
    full["stored"] = stamp
    full["authority"] = writer.authority
    full.setdefault("version", "1.0.0")
    if "timestamp" in full:
        timestamp = parse_timestamp(full["timestamp"], "statement.timestamp")
    else:
        full["timestamp"] = stamp
        timestamp = stored
    return {
        "org_id": writer.org_id,
        "statement_id": sid,
        "credential_id": writer.credential_id,
        "stored": stored,
        "timestamp": timestamp,
        "verb_id": st.verb_id,
        "ref_id": st.ref_id,
        "voided": False,
        "is_voiding": st.voided_id is not None,
        "full": full,
    }


def index_terms(st: Statement) -> set[tuple[str, str]]:
    """The (kind, key) pairs under which a statement is found; see StatementIndex."""
    terms: set[tuple[str, str]] = {("v", index_key(st.verb_id))}
    for key, direct in st.agents:
        k = index_key(key)
        terms.add(("A", k))
        if direct:
            terms.add(("a", k))
    for activity_id, direct in st.activities:
        k = index_key(activity_id)
        terms.add(("C", k))
        if direct:
            terms.add(("c", k))
    if st.registration:
        terms.add(("r", st.registration))
    return terms


def _link_and_void(
    session: Session,
    org_id: int,
    written: Sequence[tuple[int, Statement]],
    new_ids: Sequence[str],
) -> None:
    """Links between statements just written and those stored before (see `_link`), looking
    up the stored statements that point at the new ids."""
    _link(session, org_id, written, stored_referrers(session.connection(), org_id, new_ids))


def _link(
    session: Session,
    org_id: int,
    written: Sequence[tuple[int, Statement]],
    referrers: Sequence[tuple[int, str, bool]],
) -> None:
    """Links between statements, whichever arrives first:

    - a statement that targets another (StatementRef) is found by the target's filters too, so
      the target's index terms are copied onto it;
    - a voiding statement voids its target; a statement that arrives after the statement
      voiding it is stored already voided.

    `referrers` (seq, ref_id, is_voiding) are stored statements pointing at the new ones; one
    also in `written` is linked once, not twice.
    """
    pending: dict[int, str] = {seq: st.ref_id for seq, st in written if st.ref_id}
    voided: set[str] = {st.voided_id for _, st in written if st.voided_id}
    for seq, ref, is_voiding in referrers:
        pending[seq] = ref
        if is_voiding:
            voided.add(ref)
    if voided:
        session.connection().execute(
            update(StoredStatement)
            .where(
                StoredStatement.org_id == org_id,
                StoredStatement.statement_id.in_(voided),
                StoredStatement.is_voiding.is_(False),
            )
            .values(voided=True)
        )
    _copy_terms(session, org_id, list(pending.items()))


def _copy_terms(session: Session, org_id: int, pending: list[tuple[int, str]]) -> None:
    """Copy each target's index terms onto its referrer, following chains a few levels deep."""
    for _ in range(3):
        if not pending:
            return
        copied: list[dict[str, Any]] = []
        gained: set[int] = set()
        for referrer_seq, target_id in pending:
            rows = _inherited_rows(session, org_id, referrer_seq, target_id)
            if rows:
                copied.extend(rows)
                gained.add(referrer_seq)
        if not copied:
            return
        session.connection().execute(insert(StatementIndex), copied)
        target = aliased(StoredStatement)
        pending = [
            (seq, sid)
            for seq, sid in session.connection().execute(
                select(StoredStatement.seq, target.statement_id)
                .join(
                    target,
                    (target.statement_id == StoredStatement.ref_id)
                    & (target.org_id == StoredStatement.org_id),
                )
                .where(StoredStatement.org_id == org_id, target.seq.in_(gained))
            )
        ]


def _inherited_rows(
    session: Session, org_id: int, referrer_seq: int, target_id: str
) -> list[dict[str, Any]]:
    target_seq = session.connection().scalar(
        select(StoredStatement.seq).where(
            StoredStatement.org_id == org_id, StoredStatement.statement_id == target_id
        )
    )
    if target_seq is None:
        return []
    have: set[tuple[str, str]] = {
        (kind, key)
        for kind, key in session.connection().execute(
            select(StatementIndex.kind, StatementIndex.key).where(
                StatementIndex.seq == referrer_seq
            )
        )
    }
    referrer_stored = session.connection().scalar(
        select(StoredStatement.stored).where(StoredStatement.seq == referrer_seq)
    )
    rows = []
    for kind, key in session.connection().execute(
        select(StatementIndex.kind, StatementIndex.key).where(StatementIndex.seq == target_seq)
    ):
        if (kind, key) not in have:
            have.add((kind, key))
            rows.append(
                {
                    "org_id": org_id,
                    "seq": referrer_seq,
                    "kind": kind,
                    "key": key,
                    "stored": referrer_stored,
                }
            )
    return rows


def _store_parts(session: Session, org_id: int, parts: Sequence[AttachmentPart]) -> None:
    if not parts:
        return
    hashes = {p.sha2 for p in parts}
    known = set(
        session.connection().scalars(
            select(Attachment.sha2).where(Attachment.org_id == org_id, Attachment.sha2.in_(hashes))
        )
    )
    for part in parts:
        if part.sha2 not in known:
            known.add(part.sha2)
            session.add(
                Attachment(
                    org_id=org_id,
                    sha2=part.sha2,
                    content_type=part.content_type,
                    length=len(part.content),
                    content=part.content,
                )
            )
    session.flush()


def _activity_objects(data: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    obj = data.get("object")
    if isinstance(obj, Mapping):
        if obj.get("objectType", "Activity") == "Activity":
            yield obj
        elif obj.get("objectType") == "SubStatement":
            yield from _activity_objects(obj)
    context = data.get("context")
    if isinstance(context, Mapping):
        for value in (context.get("contextActivities") or {}).values():
            yield from (value if isinstance(value, list) else [value])


def _remember_activities(session: Session, org_id: int, datas: Iterable[Mapping[str, Any]]) -> None:
    """Keep the latest definition of every activity (merged), for GET /xapi/activities."""
    latest = _latest_definitions(datas)
    if not latest:
        return
    existing = known_definitions(session.connection(), org_id, list(latest))
    _apply_definitions(session, org_id, latest, existing)


def _latest_definitions(
    datas: Iterable[Mapping[str, Any]],
) -> dict[str, tuple[str, dict[str, Any]]]:
    """key -> (activity id, definition merged over the statements, in order)."""
    latest: dict[str, tuple[str, dict[str, Any]]] = {}
    for data in datas:
        for activity in _activity_objects(data):
            definition = activity.get("definition")
            if isinstance(definition, Mapping) and definition:
                aid = activity["id"]
                key = index_key(aid)
                merged = _merge_definition(latest.get(key, (aid, {}))[1], definition)
                latest[key] = (aid, merged)
    return latest


def _apply_definitions(
    session: Session,
    org_id: int,
    latest: Mapping[str, tuple[str, dict[str, Any]]],
    existing: Mapping[str, dict[str, Any]],
) -> None:
    """Write the definitions in `latest` that add to those on record (`existing`)."""
    new_rows = []
    # In key order, so that concurrent writers lock rows in the same order (no deadlock).
    for key, (aid, definition) in sorted(latest.items()):
        if key not in existing:
            new_rows.append(
                {"org_id": org_id, "activity_id": aid, "key": key, "definition": definition}
            )
            continue
        merged = _merge_definition(existing[key], definition)
        if merged != existing[key]:
            session.connection().execute(
                update(Activity)
                .where(Activity.org_id == org_id, Activity.key == key)
                .values(definition=merged)
            )
    if new_rows:
        # Two writers may define a new activity at once; the first definition stands.
        dialect = session.get_bind().dialect.name
        insert_new = pg_insert if dialect == "postgresql" else sqlite_insert
        session.connection().execute(
            insert_new(Activity).on_conflict_do_nothing(index_elements=["org_id", "key"]),
            new_rows,
        )


def _merge_definition(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key, value in new.items():
        if key in ("name", "description") and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
