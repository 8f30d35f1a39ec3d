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

from records.codes import InvalidCodeError, parse_municipality_code
from records.identity.oneroster.cells import Cells
from records.organisations import canonical_code

ORG_TYPES: Final = ("department", "school", "district", "local", "state", "national")


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
