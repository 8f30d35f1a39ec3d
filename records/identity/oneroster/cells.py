"""Reading one row's cells as OneRoster types, collecting a RowError for every bad value.

A required column missing from the header was reported once, on the header row; its cells read
as empty here without further complaint.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import Final, TypeVar

from records.errors import RecordsError
from records.identity.oneroster.errors import Problems
from records.identity.oneroster.package import Row, Table

T = TypeVar("T")

STATUSES: Final = ("active", "tobedeleted")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_YEAR: Final = re.compile(r"[0-9]{4}\Z")
_EXTENSION: Final = re.compile(r"ext:[A-Za-z0-9_.-]+\Z")
_BOOLEANS: Final = {"true": True, "false": False}


class Cells:
    def __init__(self, table: Table, row: Row, problems: Problems) -> None:
        self.table, self.row, self.problems = table, row, problems

    @property
    def line(self) -> int:
        return self.row.line

    def has(self, column: str) -> bool:
        return column in self.table.columns

    def error(self, column: str, message: str) -> None:
        self.problems.add(self.table.file, self.row.line, column, message)

    def text(self, column: str, *, required: bool = False, max_length: int = 255) -> str:
        value = self.row.get(column)
        if not value:
            if required and self.has(column):
                self.error(column, "a value is required")
            return ""
        if len(value) > max_length:
            self.error(column, f"is {len(value)} characters long; at most {max_length} fit")
            return value[:max_length]
        return value

    def status(self) -> bool:
        """True when the row says `tobedeleted`."""
        value = self.row.get("status")
        if value and value not in STATUSES:
            self.error("status", f"is {value!r}; expected active, tobedeleted or empty")
        self.when()
        return value == "tobedeleted"

    def when(self) -> datetime | None:
        value = self.row.get("dateLastModified")
        if not value:
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            self.error(
                "dateLastModified",
                f"is {value!r}; expected an ISO 8601 date and time, e.g. 2026-04-01T09:00:00Z",
            )
            return None

    def enum(
        self, column: str, allowed: Collection[str], *, required: bool = True, ext: bool = True
    ) -> str:
        value = self.text(column, required=required, max_length=32)
        if value and value not in allowed and not (ext and _EXTENSION.match(value)):
            extension = " or an extension 'ext:...'" if ext else ""
            self.error(column, f"is {value!r}; expected one of {', '.join(allowed)}{extension}")
            return ""
        return value

    def date(self, column: str, *, required: bool = False) -> date | None:
        value = self.text(column, required=required)
        if not value:
            return None
        if not _DATE.match(value):
            self.error(column, f"is {value!r}; expected a date YYYY-MM-DD, e.g. 2026-04-01")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.error(column, f"is {value!r}, which is not a day of the calendar")
            return None

    def year(self, column: str, *, required: bool = False) -> int | None:
        value = self.text(column, required=required)
        if not value:
            return None
        if not _YEAR.match(value):
            self.error(column, f"is {value!r}; expected a year of four digits, e.g. 2026")
            return None
        return int(value)

    def boolean(self, column: str, *, required: bool = False) -> bool | None:
        value = self.text(column, required=required)
        if not value:
            return None
        if value.lower() not in _BOOLEANS:
            self.error(column, f"is {value!r}; expected true or false")
            return None
        return _BOOLEANS[value.lower()]

    def items(self, column: str, *, required: bool = False) -> list[str]:
        """A list field: comma-separated values inside one (quoted) cell."""
        value = self.text(column, required=required, max_length=100_000)
        return [item.strip() for item in value.split(",") if item.strip()] if value else []

    def code(self, column: str, value: str, parse: Callable[[str], T]) -> T | None:
        """`parse(value)` (a records.codes parser), its error message reported on `column`."""
        try:
            return parse(value)
        except RecordsError as exc:
            self.error(column, exc.message)
            return None

    def reference(self, column: str, *, required: bool = True) -> str:
        """A sourcedId of another row; the literal NULL some exporters write means none."""
        value = self.text(column, required=required)
        if value.upper() != "NULL":
            return value
        if required:
            self.error(column, "a value is required (NULL names no row)")
        return ""
