"""What an import did, file by file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["created", "updated", "deactivated", "unchanged"]


@dataclass(slots=True)
class FileCounts:
    """Rows of one file (and, for bulk files, rows the file no longer lists) by outcome."""

    created: int = 0
    updated: int = 0
    deactivated: int = 0
    unchanged: int = 0

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "deactivated": self.deactivated,
            "unchanged": self.unchanged,
        }


@dataclass(slots=True)
class ImportReport:
    """`files` maps each imported file name ("users.csv") to its counts; `modes` to bulk|delta.
    For users.csv the outcome is the person's: a user row of someone already known (another
    sourcedId, say) is `updated` when it adds an identifier, else `unchanged`."""

    files: dict[str, FileCounts] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    people_created: int = 0
    identifiers_linked: int = 0

    def counts(self, file: str) -> FileCounts:
        return self.files.setdefault(file, FileCounts())

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated or c.deactivated for c in self.files.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "files": {name: counts.as_dict() for name, counts in self.files.items()},
            "modes": dict(self.modes),
            "people_created": self.people_created,
            "identifiers_linked": self.identifiers_linked,
        }
