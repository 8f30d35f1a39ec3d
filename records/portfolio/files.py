"""The files (photos, drawings, PDFs) attached to a pupil's entries, read one at a time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.errors import NotFoundError
from records.identity.people import find_person
from records.models import Attachment
from records.portfolio.access import Pupil
from records.portfolio.entries import statement_about


@dataclass(frozen=True, slots=True)
class EntryFile:
    content_type: str
    content: bytes
    name: str


def entry_file(session: Session, pupil: Pupil, statement_id: str, sha2: str) -> EntryFile:
    """A file of a statement about the pupil; only files the statement itself names."""
    row = statement_about(session, find_person(session, pupil.public_id), statement_id)
    meta = next(
        (a for a in row.full.get("attachments") or [] if a.get("sha2") == sha2),
        None,
    )
    if meta is None:
        raise NotFoundError("this entry has no such file")
    found = session.scalar(
        select(Attachment).where(Attachment.org_id == row.org_id, Attachment.sha2 == sha2)
    )
    if found is None:
        raise NotFoundError("the file was not stored with this entry")
    name = next(iter((meta.get("display") or {}).values()), "file")
    return EntryFile(found.content_type, found.content, str(name))
