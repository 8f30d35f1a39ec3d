"""Japan profile values in launches: `custom.grade` (P1-P6, J1-J3, H1-H3), deployment ids shaped
like MEXT school codes, and the portal's `tool_platform.guid`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from records.codes import InvalidCodeError, parse_grade, parse_school_code

SCHOOL_GRADES = frozenset(
    [f"P{n}" for n in range(1, 7)] + [f"J{n}" for n in range(1, 4)] + [f"H{n}" for n in range(1, 4)]
)


def launch_grade(custom: Mapping[str, Any]) -> str | None:
    """The pupil's grade from custom.grade when it is a school grade (P1-P6, J1-J3, H1-H3);
    anything else is not understood and ignored (the launch still works)."""
    value = custom.get("grade")
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        grade = parse_grade(value)
    except InvalidCodeError:
        return None
    return grade if grade in SCHOOL_GRADES else None


def school_code_of(deployment_id: str) -> str | None:
    """The MEXT school code a deployment id is, if it is one (e.g. "B113210000015")."""
    try:
        return parse_school_code(deployment_id).code
    except InvalidCodeError:
        return None
