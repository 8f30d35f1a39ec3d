"""Organisations: schools and boards. The identity issue grows this into the org tree."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.errors import BadRequestError, NotFoundError
from records.models import Organisation

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class OrgInfo:
    id: int
    code: str
    name: str


def create_organisation(session: Session, code: str, name: str) -> OrgInfo:
    if not _CODE.match(code):
        raise BadRequestError(
            f"organisation code {code!r} must be 1-64 letters, digits, '.', '_' or '-'"
        )
    if not name.strip():
        raise BadRequestError("organisation name must not be empty")
    if session.scalar(select(Organisation.id).where(Organisation.code == code)) is not None:
        raise BadRequestError(f"an organisation with code {code!r} already exists")
    org = Organisation(code=code, name=name.strip(), created_at=datetime.now(UTC))
    session.add(org)
    session.flush()
    return OrgInfo(org.id, org.code, org.name)


def get_organisation(session: Session, code: str) -> OrgInfo:
    org = session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise NotFoundError(f"no organisation with code {code!r}")
    return OrgInfo(org.id, org.code, org.name)
