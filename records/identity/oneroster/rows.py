"""One typed dataclass per roster row, parsed and checked cell by cell (no database needed).

A `tobedeleted` row needs only its sourcedId; its other cells are checked when they are given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, TypeVar

from records.codes import parse_grade
from records.identity.oneroster.cells import Cells
from records.identity.oneroster.errors import Problems
from records.identity.oneroster.package import Table

R = TypeVar("R")

SESSION_TYPES: Final = ("gradingPeriod", "semester", "schoolYear", "term")
CLASS_TYPES: Final = ("homeroom", "scheduled")
ENROLLMENT_ROLES: Final = ("administrator", "proctor", "student", "teacher", "guardian")
ROLE_TYPES: Final = ("primary", "secondary")
ROLES: Final = (
    "aide",
    "administrator",
    "counselor",
    "districtAdministrator",
    "guardian",
    "parent",
    "principal",
    "proctor",
    "relative",
    "siteAdministrator",
    "student",
    "systemAdministrator",
    "teacher",
)
_USER_IDS: Final = re.compile(r"\{([^{}:]+):([^{}]+)\}")
_USER_IDS_CELL: Final = re.compile(r"\{[^{}:]+:[^{}]+\}(\s*,\s*\{[^{}:]+:[^{}]+\})*\Z")
_FULLWIDTH_DIGITS: Final = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)})
_SHUSSEKI: Final = re.compile(r"[0-9]{1,5}\Z")


@dataclass(frozen=True, slots=True)
class SessionRow:
    line: int
    sourced_id: str
    deleted: bool
    title: str = ""
    type: str = ""
    start: date | None = None
    end: date | None = None
    parent: str = ""
    school_year: int | None = None


@dataclass(frozen=True, slots=True)
class CourseRow:
    line: int
    sourced_id: str
    deleted: bool
    title: str = ""
    course_code: str = ""
    org: str = ""
    school_year: str = ""
    subjects: str = ""


@dataclass(frozen=True, slots=True)
class ClassRow:
    line: int
    sourced_id: str
    deleted: bool
    title: str = ""
    grades: str = ""
    course: str = ""
    class_code: str = ""
    class_type: str = ""
    school: str = ""
    terms: tuple[str, ...] = ()
    subjects: str = ""


@dataclass(frozen=True, slots=True)
class UserRow:
    line: int
    sourced_id: str
    deleted: bool
    enabled: bool = True
    username: str = ""
    user_ids: tuple[tuple[str, str], ...] = ()
    given: str = ""
    family: str = ""
    middle: str = ""
    kana_given: str = ""
    kana_family: str = ""
    kana_middle: str = ""
    email: str = ""
    grade: str | None = None
    master_id: str = ""
    primary_org: str = ""
    home_class: str = ""
    orgs: tuple[str, ...] = ()  # OneRoster 1.1 orgSourcedIds
    role: str = ""  # OneRoster 1.1 role
    # Japan Profile metadata for Person.details, for the columns the file has (None: blank).
    jp: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EnrollmentRow:
    line: int
    sourced_id: str
    deleted: bool
    class_ref: str = ""
    school: str = ""
    user: str = ""
    role: str = ""
    primary: bool = False
    begin: date | None = None
    end: date | None = None
    jp: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RoleRow:
    line: int
    sourced_id: str
    deleted: bool
    user: str = ""
    role_type: str = ""
    role: str = ""
    begin: date | None = None
    end: date | None = None
    org: str = ""


def parse_rows(table: Table, problems: Problems, parse: Callable[[Cells, str, bool], R]) -> list[R]:
    """Every row of `table` through `parse(cells, sourced_id, deleted)`."""
    parsed: list[R] = []
    for row in table.rows:
        cells = Cells(table, row, problems)
        deleted = cells.status()
        sourced_id = cells.text("sourcedId", required=True)
        parsed.append(parse(cells, sourced_id, deleted))
    return parsed


def session_row(c: Cells, sourced_id: str, deleted: bool) -> SessionRow:
    need = not deleted
    start, end = c.date("startDate", required=need), c.date("endDate", required=need)
    if start and end and end < start:
        c.error("endDate", f"{end} is before startDate {start}")
    return SessionRow(
        c.line,
        sourced_id,
        deleted,
        c.text("title", required=need),
        c.enum("type", SESSION_TYPES, required=need),
        start,
        end,
        c.reference("parentSourcedId", required=False),
        c.year("schoolYear", required=need),
    )


def course_row(c: Cells, sourced_id: str, deleted: bool) -> CourseRow:
    need = not deleted
    _grades(c)
    return CourseRow(
        c.line,
        sourced_id,
        deleted,
        c.text("title", required=need),
        c.text("courseCode"),
        c.reference("orgSourcedId", required=need),
        c.reference("schoolYearSourcedId", required=False),
        _joined(c, "subjects", 255),
    )


def class_row(c: Cells, sourced_id: str, deleted: bool) -> ClassRow:
    need = not deleted
    c.boolean("metadata.jp.specialNeeds")  # checked; nowhere to keep it yet
    return ClassRow(
        c.line,
        sourced_id,
        deleted,
        c.text("title", required=need),
        ",".join(_grades(c)),
        c.reference("courseSourcedId", required=need),
        c.text("classCode"),
        c.enum("classType", CLASS_TYPES, required=need),
        c.reference("schoolSourcedId", required=need),
        tuple(c.items("termSourcedIds", required=need)),
        _joined(c, "subjects", 255),
    )


def user_row(c: Cells, sourced_id: str, deleted: bool) -> UserRow:
    need = not deleted
    grades = _grades(c)
    enabled = c.boolean("enabledUser", required=need)
    jp: dict[str, Any] = {}
    for column in c.row.cells:  # header order, so problems come out in reading order
        if column.startswith("metadata.jp.") and not column.startswith("metadata.jp.kana"):
            jp[column.removeprefix("metadata.jp.")] = _jp_value(c, column)
    for column in (
        "metadata.jp.kanaPreferredGivenName",
        "metadata.jp.kanaPreferredFamilyName",
        "metadata.jp.kanaPreferredMiddleName",
    ):
        if c.has(column):
            jp[column.removeprefix("metadata.jp.")] = c.text(column) or None
    if c.has("enabledUser") and enabled is not None:
        jp["enabledUser"] = enabled
    return UserRow(
        c.line,
        sourced_id,
        deleted,
        enabled=enabled is not False,
        username=c.text("username", required=need),
        user_ids=_user_ids(c),
        given=c.text("givenName", required=need),
        family=c.text("familyName", required=need),
        middle=c.text("middleName"),
        kana_given=c.text("metadata.jp.kanaGivenName"),
        kana_family=c.text("metadata.jp.kanaFamilyName"),
        kana_middle=c.text("metadata.jp.kanaMiddleName"),
        email=c.text("email"),
        grade=grades[0] if grades else None,
        master_id=c.text("userMasterIdentifier"),
        primary_org=c.reference("primaryOrgSourcedId", required=False),
        home_class=c.reference("metadata.jp.homeClass", required=False),
        orgs=tuple(item for item in c.items("orgSourcedIds") if item.upper() != "NULL"),
        role=c.enum("role", ROLES, required=False),
        jp=jp,
    )


def enrollment_row(c: Cells, sourced_id: str, deleted: bool) -> EnrollmentRow:
    need = not deleted
    begin, end = c.date("beginDate"), c.date("endDate")
    if begin and end and end < begin:
        c.error("endDate", f"{end} is before beginDate {begin}")
    jp = {
        column.removeprefix("metadata.jp."): _jp_value(c, column)
        for column in ("metadata.jp.ShussekiNo", "metadata.jp.PublicFlg")
        if c.has(column)
    }
    return EnrollmentRow(
        c.line,
        sourced_id,
        deleted,
        c.reference("classSourcedId", required=need),
        c.reference("schoolSourcedId", required=need),
        c.reference("userSourcedId", required=need),
        c.enum("role", ENROLLMENT_ROLES, required=need),
        c.boolean("primary") is True,
        begin,
        end,
        jp,
    )


def role_row(c: Cells, sourced_id: str, deleted: bool) -> RoleRow:
    need = not deleted
    begin, end = c.date("beginDate"), c.date("endDate")
    if begin and end and end < begin:
        c.error("endDate", f"{end} is before beginDate {begin}")
    return RoleRow(
        c.line,
        sourced_id,
        deleted,
        c.reference("userSourcedId", required=need),
        c.enum("roleType", ROLE_TYPES, required=need, ext=False),
        c.enum("role", ROLES, required=need),
        begin,
        end,
        c.reference("orgSourcedId", required=need),
    )


def _jp_value(c: Cells, column: str) -> Any:
    if column == "metadata.jp.ShussekiNo":
        value = c.text(column).translate(_FULLWIDTH_DIGITS)
        if value and not _SHUSSEKI.match(value):
            c.error(column, f"is {value!r}; 出席番号 is a whole number, e.g. 12")
            return None
        return int(value) if value else None
    if column == "metadata.jp.PublicFlg":
        return c.boolean(column)
    return c.text(column) or None


def _grades(c: Cells) -> list[str]:
    grades = []
    for item in c.items("grades"):
        grade = c.code("grades", item, parse_grade)
        if grade is not None:
            grades.append(grade)
    if len(",".join(grades)) > 64:
        c.error("grades", "lists more grades than fit (64 characters)")
    return grades


def _joined(c: Cells, column: str, limit: int) -> str:
    joined = ",".join(c.items(column))
    if len(joined) > limit:
        c.error(column, f"is {len(joined)} characters long; at most {limit} fit")
        return joined[:limit]
    return joined


def _user_ids(c: Cells) -> tuple[tuple[str, str], ...]:
    value = c.text("userIds", max_length=100_000)
    if not value:
        return ()
    if not _USER_IDS_CELL.match(value):
        c.error(
            "userIds",
            f"is {value!r}; expected {{type:id}} entries separated by commas, e.g. "
            "{Google:taro@example.jp},{Microsoft:taro@example.onmicrosoft.com}",
        )
        return ()
    return tuple((kind.strip(), ident.strip()) for kind, ident in _USER_IDS.findall(value))


def first_line(rows: Sequence[Any], sourced_id: str) -> int:
    return next((r.line for r in rows if r.sourced_id == sourced_id), 0)
