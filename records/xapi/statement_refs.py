"""Statement References (Data 2.4.4.3): an object or context pointer to another Statement."""

from __future__ import annotations

from records.xapi.primitives import check_keys, fail, parse_uuid, require_object, show

_STATEMENT_REF_KEYS = frozenset({"objectType", "id"})


def check_statement_ref(value: object, path: str) -> str:
    """objectType "StatementRef" and a UUID id; returns the id in lower case."""
    ref = require_object(value, path, "a StatementRef")
    check_keys(ref, _STATEMENT_REF_KEYS, path, "a StatementRef")
    if "objectType" not in ref or ref["objectType"] != "StatementRef":
        fail(f"{path}.objectType", f'must be "StatementRef", got {show(ref.get("objectType"))}')
    if "id" not in ref:
        fail(f"{path}.id", "is required")
    return parse_uuid(ref["id"], f"{path}.id")
