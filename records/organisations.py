"""Organisations form a tree: nation -> prefecture -> municipality (its board) -> school.

Official codes are validated by kind (records.codes): a prefecture's JIS X 0401 code, a
municipality's 6-digit local-government code, a school's 13-character MEXT code; a wrong check
digit is refused with a message that says so. Other organisations (demo schools, private
providers, boards of several municipalities) take a free code of letters and digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from records.codes import (
    municipality_prefecture,
    parse_municipality_code,
    parse_prefecture_code,
    parse_school_code,
)
from records.errors import BadRequestError, NotFoundError
from records.models import Organisation

# "provider": a company outside the school system (a learning service); it reads pupils'
# records only with their consent (records.trust.lrs_reads). "other": anything unclassified.
KINDS = ("nation", "prefecture", "municipality", "school", "provider", "other")
# Which kinds of parent each kind may have (any kind may also be a root).
PARENT_KINDS: dict[str, tuple[str, ...]] = {
    "nation": (),
    "prefecture": ("nation",),
    "municipality": ("prefecture",),
    "school": ("municipality", "prefecture", "nation", "other"),
    "other": ("nation", "prefecture", "municipality", "other"),
    "provider": (),
}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class OrgInfo:
    id: int
    code: str
    name: str
    kind: str = "other"
    parent_id: int | None = None


def canonical_code(kind: str, code: str) -> str:
    """The code in canonical form for its kind, or InvalidCodeError / BadRequestError."""
    if kind == "prefecture":
        return parse_prefecture_code(code)
    if kind == "municipality":
        return parse_municipality_code(code)
    if kind == "school":
        return parse_school_code(code).code
    if kind == "nation":
        if code.strip().upper() != "JP":
            raise BadRequestError("the nation's code is JP")
        return "JP"
    if kind in ("other", "provider"):
        if not _CODE.match(code):
            raise BadRequestError(
                f"organisation code {code!r} must be 1-64 letters, digits, '.', '_' or '-'"
            )
        return code
    raise BadRequestError(f"organisation kind {kind!r} is not one of {', '.join(KINDS)}")


def create_organisation(
    session: Session,
    code: str,
    name: str,
    *,
    kind: str = "other",
    parent_code: str | None = None,
    sourced_id: str | None = None,
) -> OrgInfo:
    code = canonical_code(kind, code)
    if not name.strip():
        raise BadRequestError("organisation name must not be empty")
    if session.scalar(select(Organisation.id).where(Organisation.code == code)) is not None:
        raise BadRequestError(f"an organisation with code {code!r} already exists")
    parent = _parent(session, kind, code, parent_code)
    org = Organisation(
        code=code,
        name=name.strip(),
        kind=kind,
        parent_id=parent.id if parent else None,
        sourced_id=sourced_id,
        created_at=datetime.now(UTC),
    )
    session.add(org)
    session.flush()
    return _info(org)


def get_organisation(session: Session, code: str) -> OrgInfo:
    org = session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise NotFoundError(f"no organisation with code {code!r}")
    return _info(org)


def subtree_ids(session: Session, org_id: int) -> set[int]:
    """The organisation and everything below it (a board's region)."""
    tree = select(Organisation.id).where(Organisation.id == org_id).cte("tree", recursive=True)
    child = aliased(Organisation)
    tree = tree.union_all(select(child.id).join(tree, child.parent_id == tree.c.id))
    return set(session.scalars(select(tree.c.id)))


def _parent(session: Session, kind: str, code: str, parent_code: str | None) -> Organisation | None:
    if parent_code is None:
        if kind == "municipality":  # attach to its prefecture when that is known
            prefecture = municipality_prefecture(code)
            return session.scalar(
                select(Organisation).where(
                    Organisation.kind == "prefecture", Organisation.code == prefecture
                )
            )
        return None
    parent = session.scalar(select(Organisation).where(Organisation.code == parent_code))
    if parent is None:
        raise NotFoundError(f"no parent organisation with code {parent_code!r}")
    problem = parent_problem(kind, code, parent.kind, parent.code)
    if problem is not None:
        raise BadRequestError(problem)
    return parent


def parent_problem(kind: str, code: str, parent_kind: str, parent_code: str) -> str | None:
    """Why an organisation of `kind` cannot sit under the parent, or None when it can."""
    if parent_kind not in PARENT_KINDS.get(kind, ()):
        return f"a {kind} cannot belong to a {parent_kind} ({parent_code})"
    if not code or not parent_code:
        return None
    if kind == "municipality" and municipality_prefecture(code) != parent_code:
        return (
            f"municipality {code} lies in prefecture {municipality_prefecture(code)}, "
            f"not {parent_code}"
        )
    if kind == "school" and parent_kind in ("prefecture", "municipality"):
        school_prefecture = parse_school_code(code).prefecture
        if school_prefecture != parent_code[:2]:
            return f"school {code} is in prefecture {school_prefecture}, not {parent_code[:2]}"
    return None


def _info(org: Organisation) -> OrgInfo:
    return OrgInfo(org.id, org.code, org.name, org.kind, org.parent_id)
