"""The importer: writes a package the verifier passed. Statements go in verbatim (their ids,
`stored` and `authority` as the exporting instance stored them) with index rows built by the
store's own functions; an identical statement already present is skipped, the same id with
other content is reported as a conflict and left as it is. Then attachments, the incoming
identifiers as aliases of the local person, and a receipt. Flushes, never commits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, bindparam, cast, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from records import store
from records.errors import RecordsError
from records.identity.models import ActorLink, Person
from records.identity.oneroster.identifiers import (
    account_agent,
    oneroster_home_page,
    stored_key,
)
from records.identity.people import find_person
from records.keys import index_key
from records.models import Attachment, StatementIndex, StoredStatement
from records.portability.models import TransferImport
from records.portability.verify import VerifiedPackage, read_statements
from records.portability.zipsafe import PackageRefusedError
from records.xapi import agent_key, parse_statement, parse_timestamp, parse_uuid

BATCH = 500
ATTACHMENT_PIECE = 4 * 1024 * 1024  # bytes of an attachment written to the database at once
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
Progress = Callable[[int, int], None]


@dataclass(slots=True)
class Receipt:
    export_id: str
    source_school: str
    kid: str
    person: str  # public id of the local pupil
    statements_imported: int = 0
    statements_skipped: int = 0
    conflicts: list[str] = field(default_factory=list)
    attachments_stored: int = 0
    attachments_present: int = 0
    aliases_linked: int = 0
    alias_conflicts: list[str] = field(default_factory=list)
    credentials_verified: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "exportId": self.export_id,
            "sourceSchool": self.source_school,
            "kid": self.kid,
            "person": self.person,
            "statements": {
                "imported": self.statements_imported,
                "skipped": self.statements_skipped,
                "conflicts": len(self.conflicts),
                "conflictIds": self.conflicts[:100],
            },
            "attachments": {"stored": self.attachments_stored, "present": self.attachments_present},
            "aliases": {
                "linked": self.aliases_linked,
                "conflicts": len(self.alias_conflicts),
                "conflictIdentifiers": self.alias_conflicts[:100],
            },
            "credentialsVerified": self.credentials_verified,
        }


class PupilNotFoundError(PackageRefusedError):
    """No pupil here has the package's identifiers: the receiving school chooses the pupil."""


def match_person(
    session: Session, package: VerifiedPackage, service_url: str, chosen: str | None
) -> Person:
    return match_person_document(session, package.person, service_url, chosen)


def match_person_document(
    session: Session, person: dict[str, Any], service_url: str, chosen: str | None
) -> Person:
    """The local pupil: the one the admin chose, else the one with the package's
    userMasterIdentifier, else the one already holding the package's identifiers."""
    if chosen:
        try:
            return find_person(session, chosen)
        except RecordsError as exc:
            raise PackageRefusedError(exc.message) from None
    masters = person.get("userMasterIdentifiers")
    keys = [
        stored_key(account_agent(oneroster_home_page(service_url, "userMasterIdentifier"), name))
        for name in (masters if isinstance(masters, list) else [])
        if isinstance(name, str) and name
    ]
    for group in (keys, _identifier_keys(person)):
        people = set(
            session.scalars(select(ActorLink.person_id).where(ActorLink.agent_key.in_(group)))
        )
        if len(people) == 1:
            found = session.get(Person, people.pop())
            if found is not None:
                return found
        if len(people) > 1:
            raise PackageRefusedError(
                "the package's identifiers belong to more than one person here; choose the pupil"
            )
    raise PupilNotFoundError(
        "no pupil here has the package's userMasterIdentifier or identifiers; import the "
        "roster first, or choose the pupil (person = their public id)"
    )


def import_package(
    session: Session,
    package: VerifiedPackage,
    org_id: int,
    person: Person,
    job_id: str,
    progress: Progress | None = None,
) -> Receipt:
    school = package.export["exportingSchool"]
    receipt = Receipt(
        export_id=str(package.export["exportId"]),
        source_school=str(school.get("code", "")),
        kid=package.signer.kid,
        person=person.public_id,
        credentials_verified=package.credentials,
    )
    batch: list[dict[str, Any]] = []
    report = progress or (lambda _d, _t: None)
    for _where, raw in read_statements(package):
        batch.append(raw)
        if len(batch) >= BATCH:
            _insert(session, org_id, batch, receipt)
            batch = []
            report(receipt.statements_imported + receipt.statements_skipped, package.statements)
    if batch:
        _insert(session, org_id, batch, receipt)
    report(package.statements, package.statements)
    _store_attachments(session, org_id, package, receipt)
    _link_aliases(session, org_id, person.id, package, receipt)
    session.add(
        TransferImport(
            job_id=job_id,
            org_id=org_id,
            person_id=person.id,
            export_id=receipt.export_id,
            source_org_code=receipt.source_school,
            kid=receipt.kid,
            receipt=receipt.as_dict(),
            imported_at=datetime.now(UTC),
        )
    )
    session.flush()
    return receipt


def _insert_new(dialect: str) -> Any:
    insert_for = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert_for(StoredStatement)
        .on_conflict_do_nothing(index_elements=["org_id", "statement_id"])
        .returning(StoredStatement.statement_id, StoredStatement.seq)
    )


def _insert(
    session: Session, org_id: int, raws: Sequence[dict[str, Any]], receipt: Receipt
) -> None:
    rows = [_row(org_id, raw) for raw in raws]
    conn = session.connection()
    inserted = dict(conn.execute(_insert_new(conn.dialect.name), rows).all())
    known = [raw for raw in raws if raw["id"] not in inserted]
    if known:
        _compare_known(session, org_id, known, receipt)
    # Only new statements need their index terms: parse (verified already: cannot fail).
    fresh = [raw for raw in raws if raw["id"] in inserted]
    written = [(inserted[raw["id"]], parse_statement(raw)) for raw in fresh]
    receipt.statements_imported += len(written)
    if not written:
        return
    index_rows: list[dict[str, Any]] = []
    for (seq, st), row in zip(
        written, (r for r in rows if r["statement_id"] in inserted), strict=True
    ):
        terms = store.index_terms(st)
        authority = agent_key(row["full"]["authority"])
        if authority:
            terms.add(("A", index_key(authority)))
        index_rows.extend(
            {"org_id": org_id, "seq": seq, "kind": kind, "key": key, "stored": row["stored"]}
            for kind, key in terms
        )
    if index_rows:
        # RETURNING makes SQLAlchemy send multi-row INSERTs (insertmanyvalues), as the store
        # does: one round trip per thousand rows rather than one per row on PostgreSQL.
        conn.execute(insert(StatementIndex).returning(StatementIndex.id), index_rows)
    # A referrer whose target is in this batch is found by the store's own referrer lookup
    # (target first, in stored order); handing it in as well would copy its terms twice.
    batch_ids = {st.id for _, st in written}
    referrers = [(seq, st) for seq, st in written if st.ref_id not in batch_ids]
    store._link_and_void(session, org_id, referrers, [str(st.id) for _, st in written])
    store._remember_activities(session, org_id, (st.data for _, st in written))


def _row(org_id: int, raw: dict[str, Any]) -> dict[str, Any]:
    """The row of a verified statement, its columns read straight from it."""
    stored = parse_timestamp(raw["stored"], "statement.stored")
    stamp = raw.get("timestamp")
    verb = raw["verb"]["id"]
    target = raw["object"]
    is_ref = target.get("objectType") == "StatementRef"
    ref_id = parse_uuid(target["id"], "statement.object.id") if is_ref else None
    return {
        "org_id": org_id,
        "statement_id": raw["id"],
        "credential_id": None,
        "stored": stored,
        "timestamp": parse_timestamp(stamp, "statement.timestamp") if stamp else stored,
        "verb_id": verb,
        "ref_id": ref_id,
        "voided": False,
        "is_voiding": verb == VOIDED and ref_id is not None,
        "full": raw,  # verbatim: ids, stored, authority as the exporting instance stored them
    }


def _compare_known(
    session: Session, org_id: int, raws: Sequence[dict[str, Any]], receipt: Receipt
) -> None:
    present: dict[str, Any] = dict(
        session.execute(
            select(StoredStatement.statement_id, StoredStatement.full).where(
                StoredStatement.org_id == org_id,
                StoredStatement.statement_id.in_([r["id"] for r in raws]),
            )
        ).all()
    )
    for raw in raws:
        if present.get(raw["id"]) == raw:
            receipt.statements_skipped += 1
        else:
            receipt.conflicts.append(str(raw["id"]))


def _store_attachments(
    session: Session, org_id: int, package: VerifiedPackage, receipt: Receipt
) -> None:
    """One file at a time, a piece at a time, so a large package never sits in memory."""
    for sha2, content_type in package.attachments.items():
        exists = session.scalar(
            select(Attachment.id).where(Attachment.org_id == org_id, Attachment.sha2 == sha2)
        )
        if exists is not None:
            receipt.attachments_present += 1
            continue
        store_attachment_file(session, org_id, sha2, content_type, package.attachment_path(sha2))
        receipt.attachments_stored += 1


def store_attachment_file(
    session: Session,
    org_id: int,
    sha2: str,
    content_type: str,
    path: Path,
    piece: int = ATTACHMENT_PIECE,
) -> None:
    """An attachment row written from a file: the first piece inserted, the rest appended, so
    no more than one piece is ever in memory (the hash was checked by the verifier). The bytes
    travel as parameters, never inside a statement: the compiled-statement cache would keep a
    statement holding them, and with it every piece."""
    conn = session.connection()
    with path.open("rb") as source:
        conn.execute(
            _ADD_ATTACHMENT,
            {
                "org_id": org_id,
                "sha2": sha2,
                "content_type": content_type[:255],
                "length": path.stat().st_size,
                "content": source.read(piece),
            },
        )
        append = _append_statement(conn.dialect.name)
        while more := source.read(piece):
            conn.execute(append, {"b_org": org_id, "b_sha2": sha2, "more": more})


_ADD_ATTACHMENT = insert(Attachment)


def _append_statement(dialect: str) -> Any:
    joined: ColumnElement[Any] = Attachment.content.op("||")(bindparam("more", type_=LargeBinary))
    if dialect == "sqlite":  # || makes text of two blobs there; CAST makes it a blob again
        joined = cast(joined, LargeBinary)
    return (
        update(Attachment)
        .where(Attachment.org_id == bindparam("b_org"), Attachment.sha2 == bindparam("b_sha2"))
        .values(content=joined)
    )


def _identifier_keys(person: dict[str, Any]) -> list[str]:
    keys = []
    entries = person.get("identifiers")
    for entry in entries if isinstance(entries, list) else []:
        agent = entry.get("agent") if isinstance(entry, dict) else None
        key = agent_key(agent) if isinstance(agent, dict) else None
        if key:
            keys.append(index_key(key))
    return keys


def _link_aliases(
    session: Session, org_id: int, person_id: int, package: VerifiedPackage, receipt: Receipt
) -> None:
    """Every incoming identifier becomes an alias of the local pupil; one that is another
    person's here already is reported, never moved."""
    now = datetime.now(UTC)
    for entry in package.person.get("identifiers") or []:
        agent = entry["agent"]
        raw_key = agent_key(agent)
        if not raw_key:
            continue
        key = index_key(raw_key)
        owner = session.scalar(select(ActorLink.person_id).where(ActorLink.agent_key == key))
        if owner == person_id:
            continue
        if owner is not None:
            receipt.alias_conflicts.append(raw_key)
            continue
        session.add(
            ActorLink(
                person_id=person_id,
                agent_key=key,
                agent=agent,
                source="transfer",
                org_id=org_id,
                created_at=now,
            )
        )
        session.flush()
        receipt.aliases_linked += 1
