"""A whole roster package parsed into typed rows, with the checks that need no database:
duplicate sourcedIds, duplicate official codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from records.identity.oneroster.errors import Problems
from records.identity.oneroster.orgs import OrgRow, org_row
from records.identity.oneroster.package import Table, read_package
from records.identity.oneroster.rows import (
    ClassRow,
    CourseRow,
    EnrollmentRow,
    RoleRow,
    SessionRow,
    UserRow,
    class_row,
    course_row,
    enrollment_row,
    parse_rows,
    role_row,
    session_row,
    user_row,
)


@dataclass(slots=True)
class Roster:
    tables: dict[str, Table]
    unreadable: set[str] = field(default_factory=set)  # in the zip, but not read
    orgs: list[OrgRow] = field(default_factory=list)
    sessions: list[SessionRow] = field(default_factory=list)
    courses: list[CourseRow] = field(default_factory=list)
    classes: list[ClassRow] = field(default_factory=list)
    users: list[UserRow] = field(default_factory=list)
    enrollments: list[EnrollmentRow] = field(default_factory=list)
    roles: list[RoleRow] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return name in self.tables

    def bulk(self, name: str) -> bool:
        return name in self.tables and self.tables[name].bulk

    @property
    def row_count(self) -> int:
        return sum(len(table.rows) for table in self.tables.values())


def read_roster(data: bytes, problems: Problems) -> Roster:
    unreadable: set[str] = set()
    tables = read_package(data, problems, unreadable)
    roster = Roster(tables, unreadable)
    if "orgs" in tables:
        roster.orgs = parse_rows(tables["orgs"], problems, org_row)
    if "academicSessions" in tables:
        roster.sessions = parse_rows(tables["academicSessions"], problems, session_row)
    if "courses" in tables:
        roster.courses = parse_rows(tables["courses"], problems, course_row)
    if "classes" in tables:
        roster.classes = parse_rows(tables["classes"], problems, class_row)
    if "users" in tables:
        roster.users = parse_rows(tables["users"], problems, user_row)
    if "enrollments" in tables:
        roster.enrollments = parse_rows(tables["enrollments"], problems, enrollment_row)
    if "roles" in tables:
        roster.roles = parse_rows(tables["roles"], problems, role_row)
    if "demographics" in tables:  # read for well-formedness only: no demographics are kept
        parse_rows(tables["demographics"], problems, lambda c, sid, deleted: sid)
    for name, rows in (
        ("orgs", roster.orgs),
        ("academicSessions", roster.sessions),
        ("courses", roster.courses),
        ("classes", roster.classes),
        ("users", roster.users),
        ("enrollments", roster.enrollments),
        ("roles", roster.roles),
    ):
        _unique(f"{name}.csv", rows, "sourcedId", lambda row: row.sourced_id, problems)
    _unique(
        "orgs.csv",
        [o for o in roster.orgs if not o.deleted and o.code],
        "identifier",
        lambda row: row.code,
        problems,
        what="org code",
    )
    return roster


def _unique(
    file: str,
    rows: Sequence[Any],
    column: str,
    value: Any,
    problems: Problems,
    *,
    what: str = "sourcedId",
) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        key = value(row)
        if not key:
            continue
        if key in seen:
            problems.add(file, row.line, column, f"{what} {key!r} is also on line {seen[key]}")
        else:
            seen[key] = row.line
