"""orgs.csv: OneRoster org types as nodes of the organisation tree, with official codes.

school -> school (MEXT school code in `identifier`); district -> municipality (its 6-digit
local-government code; a prefecture's own code such as 130001 makes it the prefecture's board);
state -> prefecture (13, JP-13 or 130001); national -> nation (JP); department, local and
extensions -> other, whose code is the sourcedId. Codes are put in canonical form by
records.organisations.canonical_code, and parents follow the tree's rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from records.codes import InvalidCodeError, parse_municipality_code, parse_school_code
from records.identity.oneroster.cells import Cells
from records.organisations import canonical_code

ORG_TYPES: Final = ("department", "school", "district", "local", "state", "national")
# Which kinds of parent each kind may have: the rules of records.organisations.
PARENT_KINDS: Final = {
    "nation": (),
    "prefecture": ("nation",),
    "municipality": ("prefecture",),
    "school": ("municipality", "prefecture", "nation", "other"),
    "other": ("nation", "prefecture", "municipality", "other"),
}


@dataclass(frozen=True, slots=True)
class OrgRow:
    line: int
    sourced_id: str
    deleted: bool
    name: str = ""
    type: str = ""
    kind: str = "other"  # nation | prefecture | municipality | school | other
    code: str = ""
    parent: str = ""


def org_row(c: Cells, sourced_id: str, deleted: bool) -> OrgRow:
    need = not deleted
    org_type = c.enum("type", ORG_TYPES, required=need)
    identifier = c.text("identifier")
    kind, code = "other", sourced_id
    if org_type == "school":
        kind, code = "school", _official(c, identifier, need, "its MEXT school code", _school)
    elif org_type == "district":
        code = _official(c, identifier, need, "its 6-digit local-government code", _district)
        kind = "prefecture" if len(code) == 2 else "municipality"
    elif org_type == "state":
        kind, code = "prefecture", _official(c, identifier, need, "its prefecture code", _state)
    elif org_type == "national":
        kind = "nation"
        code = c.code("identifier", identifier or "JP", _nation) or ""
    elif sourced_id:
        code = c.code("sourcedId", sourced_id, _other) or ""
    return OrgRow(
        c.line,
        sourced_id,
        deleted,
        c.text("name", required=need),
        org_type,
        kind,
        code,
        c.reference("parentSourcedId", required=False),
    )


def parent_problem(kind: str, code: str, parent_kind: str, parent_code: str) -> str | None:
    """Why an org of `kind` cannot sit under the parent, or None when it can."""
    if parent_kind not in PARENT_KINDS.get(kind, ()):
        return f"a {kind} cannot belong to a {parent_kind} ({parent_code})"
    if not code or not parent_code:
        return None
    if kind == "municipality" and code[:2] != parent_code:
        return f"municipality {code} lies in prefecture {code[:2]}, not {parent_code}"
    if kind == "school" and parent_kind in ("prefecture", "municipality"):
        school_prefecture = parse_school_code(code).prefecture
        if school_prefecture != parent_code[:2]:
            return f"school {code} is in prefecture {school_prefecture}, not {parent_code[:2]}"
    return None


def _official(c: Cells, identifier: str, need: bool, what: str, parse: Callable[[str], str]) -> str:
    if not identifier:
        if need:
            c.error("identifier", f"is required for this type of org: {what}")
        return ""
    return c.code("identifier", identifier, parse) or ""


def _school(value: str) -> str:
    return canonical_code("school", value)


def _district(value: str) -> str:
    code = parse_municipality_code(value)
    return code[:2] if code[2:5] == "000" else code  # a prefecture's own board: 130001 -> 13


def _state(value: str) -> str:
    if len(value.strip()) == 6:
        code = parse_municipality_code(value)
        if code[2:5] != "000":
            raise InvalidCodeError(
                f"{code} is a municipality's code; a state's is its prefecture's (13 or 130001)"
            )
        return code[:2]
    return canonical_code("prefecture", value)


def _nation(value: str) -> str:
    return canonical_code("nation", value)


def _other(value: str) -> str:
    return canonical_code("other", value)
