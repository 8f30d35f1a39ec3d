"""Statement comparison (Data 2.3.1): are two statements "the same" for the conflict rule?

Differences the immutability exceptions allow are ignored: what the LRS assigns (id, authority,
stored, version, and timestamp when the client left it out), verb displays and activity
definitions, the serialisation of timestamps (same instant), the order of group members, and the
case of case-insensitive text (mbox domain, language tags, UUIDs). Everything else, result
duration included, must match exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from records.jsontext import dump_json
from records.xapi.primitives import parse_timestamp

_ASSIGNED = ("id", "authority", "stored", "version")
_LANGUAGE_MAPS = ("display", "name", "description")


def same_statement(stored: Mapping[str, Any], incoming: Mapping[str, Any]) -> bool:
    """True when `incoming` (as a client sent it) matches the `stored` statement."""
    drop_timestamp = "timestamp" not in incoming
    return _canonical(stored, drop_timestamp) == _canonical(incoming, drop_timestamp)


def _canonical(statement: Mapping[str, Any], drop_timestamp: bool) -> bytes:
    body = {k: v for k, v in statement.items() if k not in _ASSIGNED}
    if drop_timestamp:
        body.pop("timestamp", None)
    return dump_json(_normalise(body, ""), sort_keys=True)


def _normalise(value: Any, key: str) -> Any:
    if isinstance(value, list):
        items = [_normalise(item, key) for item in value]
        if key == "member":  # group members are an unordered list
            items.sort(key=lambda item: dump_json(item, sort_keys=True))
        return items
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for name, item in value.items():
        if name == "definition" and key in ("object", "parent", "grouping", "category", "other"):
            continue  # activity definitions are not part of the statement
        if name == "display" and key == "verb":
            continue
        if name in _LANGUAGE_MAPS and isinstance(item, dict):
            out[name] = {tag.lower(): text for tag, text in item.items()}
        elif name == "mbox" and isinstance(item, str):
            local, _, domain = item.partition("@")
            out[name] = f"{local[:7].lower()}{local[7:]}@{domain.lower()}"
        elif name in ("registration",) and isinstance(item, str):
            out[name] = item.lower()
        elif name == "id" and key == "object" and value.get("objectType") == "StatementRef":
            out[name] = str(item).lower()
        elif name == "timestamp" and isinstance(item, str):
            out[name] = _instant(item)
        else:
            out[name] = _normalise(item, name)
    return out


def _instant(text: str) -> str:
    return parse_timestamp(text, "timestamp").astimezone(UTC).isoformat()
