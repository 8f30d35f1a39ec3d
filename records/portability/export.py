"""The package builder: one zipped BagIt bag per pupil, signed by the exporting school.

Streamed: statements are read a page at a time and written as NDJSON exactly as the database
holds them (in `stored` order), attachments are copied from the database to files a piece at a
time (never one whole file in memory), the bag's checksums are
computed from the files, and the zip is written file by file. Nothing holds the whole pupil in
memory. The caller hands in a work directory and owns its removal.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import bagit  # type: ignore[import-untyped]  # bagit ships no type information
import jwt
import orjson
from sqlalchemy import Integer, Text, cast, func, select, tuple_
from sqlalchemy.orm import Session, aliased

from records.errors import NotFoundError
from records.identity.models import Person
from records.identity.people import person_agent_keys
from records.keys import index_key
from records.models import Attachment, Organisation, StatementIndex, StoredStatement
from records.portability import profile
from records.portability.clr import Issuer, build_clr
from records.portability.keys import SigningKey
from records.portability.subject import (
    person_document,
    portfolio_entry,
    portfolio_items,
    pupil_view,
    recognised_achievements,
    roster_subset,
)
from records.portfolio.labels import categories
from records.portfolio.vocabulary import ENTRY_CATEGORY, FEEDBACK_CATEGORY, VERB_RECOGNISED
from records.xapi import agent_key

PAGE = 2500
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
RECOGNISED = VERB_RECOGNISED
ENTRY = ENTRY_CATEGORY
ZIP_CHUNK = 1024 * 1024
ATTACHMENT_PIECE = 4 * 1024 * 1024  # bytes of an attachment read from the database at once
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ExportRequest:
    export_id: str
    person_id: int
    org_id: int  # the exporting school: its key signs
    service_url: str


@dataclass(slots=True)
class Counts:
    statements: int = 0
    voided: int = 0
    voiding: int = 0
    attachments: int = 0
    attachment_bytes: int = 0
    portfolio_entries: int = 0
    achievements: int = 0
    duplicate_ids_skipped: int = 0
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "statements": self.statements,
            "voided": self.voided,
            "voiding": self.voiding,
            "attachments": self.attachments,
            "attachmentBytes": self.attachment_bytes,
            "portfolioEntries": self.portfolio_entries,
            "achievements": self.achievements,
            "duplicateIdsSkipped": self.duplicate_ids_skipped,
        }


@dataclass(frozen=True, slots=True)
class BuiltPackage:
    path: Path
    size: int
    sha256: str
    kid: str
    counts: dict[str, int]


def build_package(
    session: Session,
    request: ExportRequest,
    key: SigningKey,
    workdir: Path,
    progress: Progress | None = None,
) -> BuiltPackage:
    person = session.get(Person, request.person_id)
    org = session.get(Organisation, request.org_id)
    if person is None or org is None:
        raise NotFoundError("the pupil or the exporting school no longer exists")
    now = datetime.now(UTC)
    root = workdir / f"ashiato-transfer-{request.export_id}"
    for sub in ("statements", "attachments", "roster", "credentials"):
        (root / sub).mkdir(parents=True)
    keys = tuple(person_agent_keys(session, person.id))
    counts = Counts()
    marks: list[dict[str, Any]] = []
    entries: list[str] = []
    _write_statements(
        session, keys, root, counts, (marks, entries), progress or (lambda _d, _t: None)
    )
    _write_json(root / "person.json", person_document(session, person))
    for name, rows in roster_subset(session, person).items():
        _write_json(root / "roster" / f"{name}.json", rows)
    _write_portfolio(session, pupil_view(person, keys), entries, root, counts)
    achievements = recognised_achievements(session, marks)
    counts.achievements = len(achievements)
    issuer = Issuer(
        id=f"{request.service_url}orgs/{org.code}",
        name=org.name,
        key=key.private,
        multikey=key.public_key,
    )
    name = " ".join(p for p in (person.family_name, person.given_name) if p)
    clr = build_clr(issuer, person.public_id, name, achievements, request.export_id, now)
    _write_json(root / "credentials" / "clr.json", clr)
    _write_json(
        root / "export.json",
        {
            "exportId": request.export_id,
            "format": profile.FORMAT,
            "formatVersion": profile.FORMAT_VERSION,
            "profile": profile.PROFILE_ID,
            "createdAt": now.isoformat(),
            "exportingSchool": {
                "code": org.code,
                "name": org.name,
                "kid": key.kid,
                "publicKey": key.public_key,
                "issuer": issuer.id,
            },
            "learner": {"publicId": person.public_id},
            "counts": counts.as_dict(),
            "statementFiles": counts.files,
            "formats": profile.FORMATS,
        },
    )
    bagit.make_bag(
        str(root),
        {
            "Source-Organization": org.name,
            "Organization-Identifier": org.code,
            "External-Identifier": request.export_id,
            "External-Description": "Ashiato transfer package (learning records of one pupil)",
            "BagIt-Profile-Identifier": profile.PROFILE_ID,
        },
        checksums=["sha256"],
    )
    _sign(root, key, request.export_id)
    out = workdir / f"{root.name}.zip"
    digest = _zip(root, out)
    return BuiltPackage(out, out.stat().st_size, digest, key.kid, counts.as_dict())


# --- statements and attachments --------------------------------------------------------------


def person_statement_count(session: Session, keys: tuple[str, ...]) -> int:
    if not keys:
        return 0
    seqs = (
        select(StatementIndex.seq)
        .where(StatementIndex.kind == "A", StatementIndex.key.in_(keys))
        .distinct()
        .subquery()
    )
    return int(session.scalar(select(func.count()).select_from(seqs)) or 0)


def _statement_pages(session: Session, keys: tuple[str, ...]) -> Iterator[list[Any]]:
    """(seq, org_id, stored, statement_id, voided, full text) of every statement that names
    the pupil anywhere, in stored order, a page at a time. Driven by the index range, like the
    query engine; a statement found under two of the pupil's identifiers comes once."""
    if not keys:
        return
    after: tuple[datetime, int] | None = None
    idx = aliased(StatementIndex)
    last_seq = None
    while True:
        stmt = (
            select(
                idx.seq,
                StoredStatement.org_id,
                idx.stored,
                StoredStatement.statement_id,
                StoredStatement.voided,
                cast(StoredStatement.full, Text),
            )
            .select_from(idx)
            .join(StoredStatement, StoredStatement.seq == idx.seq)
            .where(idx.kind == "A", idx.key.in_(keys))
        )
        if after is not None:
            stmt = stmt.where(tuple_(idx.stored, idx.seq) > after)
        rows = list(session.execute(stmt.order_by(idx.stored, idx.seq).limit(PAGE)))
        if not rows:
            return
        page = []
        for row in rows:
            if row[0] != last_seq:
                page.append(row)
            last_seq = row[0]
        yield page
        after = (rows[-1][2], rows[-1][0])


def _write_statements(
    session: Session,
    keys: tuple[str, ...],
    root: Path,
    counts: Counts,
    found: tuple[list[dict[str, Any]], list[str]],
    progress: Progress,
) -> None:
    """NDJSON files and attachments; on the way, note the teachers' achievement marks and the
    pupil's own portfolio entries (found = (marks, entry ids))."""
    total = person_statement_count(session, keys)
    seen_ids: set[str] = set()
    written_files: set[str] = set()
    out: IO[bytes] | None = None
    try:
        for rows in _statement_pages(session, keys):
            for _seq, org_id, _stored, statement_id, voided, text in rows:
                if statement_id in seen_ids:
                    counts.duplicate_ids_skipped += 1
                    continue
                seen_ids.add(statement_id)
                if counts.statements % profile.STATEMENTS_PER_FILE == 0:
                    if out is not None:
                        out.close()
                    name = profile.statements_file(len(counts.files) + 1)
                    counts.files.append(f"data/{name}")
                    out = (root / name).open("wb")
                assert out is not None  # noqa: S101  # opened just above on the first row
                out.write(text.encode("utf-8"))
                out.write(b"\n")
                counts.statements += 1
                counts.voided += bool(voided)
                if '"attachments"' in text:
                    statement = orjson.loads(text)
                    _write_attachments(session, org_id, statement, root, written_files, counts)
                if VOIDED in text or RECOGNISED in text or ENTRY in text:
                    _note(orjson.loads(text), bool(voided), keys, counts, found)
            progress(counts.statements, total)
    finally:
        if out is not None:
            out.close()


def _note(
    statement: dict[str, Any],
    voided: bool,
    keys: tuple[str, ...],
    counts: Counts,
    found: tuple[list[dict[str, Any]], list[str]],
) -> None:
    marks, entries = found
    verb = (statement.get("verb") or {}).get("id")
    if verb == VOIDED:
        counts.voiding += 1
    elif voided:
        return
    elif verb == RECOGNISED and FEEDBACK_CATEGORY in categories(statement):
        marks.append(statement)
    elif ENTRY in categories(statement):
        actor = agent_key(statement.get("actor") or {})
        if actor is not None and index_key(actor) in keys:
            entries.append(str(statement["id"]))


def attachment_metas(statement: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Attachment headers of a statement and of its SubStatement."""
    for meta in statement.get("attachments") or []:
        if isinstance(meta, dict):
            yield meta
    target = statement.get("object")
    if isinstance(target, dict) and target.get("objectType") == "SubStatement":
        yield from attachment_metas(target)


def _write_attachments(
    session: Session,
    org_id: int,
    statement: dict[str, Any],
    root: Path,
    written: set[str],
    counts: Counts,
) -> None:
    for meta in attachment_metas(statement):
        sha2 = str(meta.get("sha2", ""))
        if not sha2 or sha2 in written:
            continue
        length = attachment_length(session, org_id, sha2)
        if length is None:
            continue  # sent by fileUrl only: the LRS never had the bytes
        with (root / "attachments" / sha2).open("wb") as out:
            for piece in attachment_pieces(session, org_id, sha2, length):
                out.write(piece)
        written.add(sha2)
        counts.attachments += 1
        counts.attachment_bytes += length


def attachment_length(session: Session, org_id: int, sha2: str) -> int | None:
    """Bytes of a stored attachment (None: the LRS does not hold it)."""
    found = session.scalar(
        select(func.length(Attachment.content)).where(
            Attachment.org_id == org_id, Attachment.sha2 == sha2
        )
    )
    return None if found is None else int(found)


def attachment_pieces(
    session: Session, org_id: int, sha2: str, length: int, piece: int = ATTACHMENT_PIECE
) -> Iterator[bytes]:
    """An attachment's bytes a piece at a time (substr works on BLOB and bytea alike), so a
    large file is copied from the database to the bag without ever being whole in memory."""
    where = (Attachment.org_id == org_id, Attachment.sha2 == sha2)
    for start in range(0, max(length, 1), piece):
        content = session.scalar(
            select(
                func.substr(Attachment.content, cast(start + 1, Integer), cast(piece, Integer))
            ).where(*where)
        )
        if content is None:
            return
        yield bytes(content)


# --- portfolio, signature, zip -------------------------------------------------------------


def _write_portfolio(
    session: Session, pupil: Any, entries: list[str], root: Path, counts: Counts
) -> None:
    with (root / "portfolio.json").open("wb") as out:
        out.write(b'{"entries":[')
        for item in portfolio_items(session, pupil, entries):
            if counts.portfolio_entries:
                out.write(b",\n")
            out.write(orjson.dumps(portfolio_entry(item)))
            counts.portfolio_entries += 1
        out.write(b"]}\n")


def _sign(root: Path, key: SigningKey, export_id: str) -> None:
    """Detached EdDSA JWS (RFC 7515 appendix F) over the tag manifest's bytes."""
    manifest = (root / profile.TAG_MANIFEST).read_bytes()
    token = jwt.api_jws.encode(
        manifest,
        key.private,
        algorithm="EdDSA",
        headers={
            "kid": key.kid,
            "typ": profile.JWS_TYPE,
            "org": key.org_code,
            "export": export_id,
        },
        is_payload_detached=True,
    )
    (root / profile.SIGNATURE_FILE).write_text(token + "\n", encoding="ascii")


def _zip(root: Path, out: Path) -> str:
    """Zip the bag under one top-level folder; returns the zip's SHA-256."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_dir():
                continue
            arcname = f"{root.name}/{path.relative_to(root).as_posix()}"
            stored = "/data/attachments/" in f"/{path.relative_to(root).as_posix()}"
            archive.write(
                path, arcname, compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            )
    digest = hashlib.sha256()
    with out.open("rb") as handle:
        while chunk := handle.read(ZIP_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
