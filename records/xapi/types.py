"""What `parse_statement` hands to the rest of the LRS: frozen, plain data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class AttachmentMeta:
    """The header of one Attachment (Data 2.4.11); the payload travels separately."""

    usage_type: str
    content_type: str
    length: int
    sha2: str
    file_url: str | None


@dataclass(frozen=True, slots=True)
class Statement:
    """A statement that passed every xAPI 1.0.3 rule, plus the facts the store indexes.

    `data` is a fresh top-level dict (nested values are shared with the input, treat them as
    read-only). It is the statement as received except that every contextActivities value is
    an array (Data 2.4.6.2.s4.b3). The store fills in id, stored, authority and version.
    """

    data: dict[str, Any]
    id: str | None
    verb_id: str
    object_type: str
    ref_id: str | None
    voided_id: str | None
    registration: str | None
    attachments: tuple[AttachmentMeta, ...]
    agents: tuple[tuple[str, bool], ...]
    activities: tuple[tuple[str, bool], ...]
    signed: bool
