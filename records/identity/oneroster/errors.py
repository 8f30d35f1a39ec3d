"""What a refused roster says: every problem, row by row, as a person finds it in a spreadsheet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from records.errors import BadRequestError

_SHOWN_IN_MESSAGE = 5
# Problems are reported file by file in this order, then row by row.
_FILE_ORDER = {
    name: index
    for index, name in enumerate(
        (
            "",
            "manifest.csv",
            "orgs.csv",
            "academicSessions.csv",
            "courses.csv",
            "classes.csv",
            "users.csv",
            "enrollments.csv",
            "roles.csv",
            "demographics.csv",
        )
    )
}


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem. `line` is the row number a spreadsheet shows (the header is 1, the first
    record 2, a quoted cell spanning several lines is still one row); 0 means the whole file.
    `column` is the column's name as the OneRoster CSV binding spells it, or "" for a row."""

    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class RosterRejectedError(BadRequestError):
    """The roster has problems; nothing was written. `errors` lists every one of them."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors: tuple[RowError, ...] = tuple(errors)
        count = len(self.errors)
        shown = "; ".join(str(error) for error in self.errors[:_SHOWN_IN_MESSAGE])
        more = f" (and {count - _SHOWN_IN_MESSAGE} more)" if count > _SHOWN_IN_MESSAGE else ""
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"roster refused, nothing was imported: {count} {noun}: {shown}{more}")


class Problems:
    """Collects RowErrors while a roster is read and checked."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []

    def add(self, file: str, line: int, column: str, message: str) -> None:
        self.errors.append(RowError(file, line, column, message))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        """Raise RosterRejectedError with every problem, by file and then by row (problems of
        one row stay in the order they were found: cells left to right, then references)."""
        if self.errors:
            raise RosterRejectedError(
                sorted(self.errors, key=lambda e: (_FILE_ORDER.get(e.file, 99), e.line))
            )
