"""xAPI data types used everywhere: IRIs, UUIDs, timestamps, durations, language tags and maps,
extensions, and the small helpers that report a broken rule with its property path.

Values repeat across statements (verb ids, activity ids, language tags), so every check of a
string format is cached. Libraries do the parsing where a fast enough one exists: isodate for
timestamps and durations, langcodes for RFC 5646 tags. IRIs use a regular expression transcribed
from the RFC 3987 ABNF, because the grammar-based rfc3987-syntax takes about 10 ms per IRI;
tests/unit/xapi checks the two agree.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NoReturn

import isodate
import langcodes

from records.errors import InvalidStatementError

# ---------------------------------------------------------------------------------------------
# Reporting


def fail(path: str, rule: str) -> NoReturn:
    """Raise the one error type this package raises, naming the property path and the rule."""
    raise InvalidStatementError(f"{path}: {rule}")


def show(value: object) -> str:
    """A short, JSON-like rendering of a value for error messages."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        clipped = value if len(value) <= 60 else value[:57] + "..."
        rendered = json.dumps(clipped, ensure_ascii=False)
        return rendered.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, int | float):
        try:
            rendered = repr(value)
        except ValueError:  # int too large to render (sys.int_info.str_digits_check_threshold)
            return "a very large number"
        return rendered if len(rendered) <= 40 else "a very large number"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def key_path(path: str, key: object) -> str:
    """`statement.actor` + `mbox` -> `statement.actor.mbox`; other keys in JSON brackets."""
    name = key if isinstance(key, str) else str(key)
    if _IDENTIFIER.match(name):
        return f"{path}.{name}"
    return f"{path}[{show(name)}]"


# ---------------------------------------------------------------------------------------------
# JSON shapes

# PostgreSQL JSONB cannot hold U+0000 and UTF-8 cannot encode unpaired surrogates (which
# json.loads lets through); rejecting them here keeps the store from failing with a 500.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def require_object(value: object, path: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        fail(path, f"must be {what} (a JSON object), got {show(value)}")
    return value


def check_keys(value: Mapping[str, Any], allowed: frozenset[str], path: str, what: str) -> None:
    """Reject any property the spec does not define for this object (Data 2.2.s4.b1.b7)."""
    if allowed.issuperset(value):
        return
    for key in value:
        if key not in allowed:
            fail(key_path(path, key), f"is not a property of {what}")


def text(value: object, path: str) -> str:
    if not isinstance(value, str):
        fail(path, f"must be a string, got {show(value)}")
    if _UNSTORABLE.search(value):
        fail(path, "must not contain U+0000 or unpaired surrogate characters")
    return value


def boolean(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        fail(path, f"must be true or false, got {show(value)}")
    return value


def number(value: object, path: str) -> float:
    """A JSON number: int or float, never bool, never NaN or infinite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(path, f"must be a number, got {show(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        fail(path, f"must be a finite number, got {show(value)}")
    return value


def check_json_value(value: object, parent: str, key: object = None) -> None:
    """Any JSON value that can be stored: used for extension values, which are free-form.

    The value sits at `parent` (under `key`, if given); paths are only built for the error.
    """
    stack: list[tuple[object, str, object]] = [(value, parent, key)]
    while stack:
        item, parent, key = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                where = parent if key is None else _element_path(parent, key)
                fail(where, "must not contain U+0000 or unpaired surrogate characters")
        elif isinstance(item, dict):
            where = parent if key is None else _element_path(parent, key)
            for name, child in item.items():
                if not isinstance(name, str) or _UNSTORABLE.search(name):
                    fail(where, f"has a key that cannot be stored: {show(name)}")
                stack.append((child, where, name))
        elif isinstance(item, list):
            where = parent if key is None else _element_path(parent, key)
            stack.extend((child, where, index) for index, child in enumerate(item))
        elif isinstance(item, float):
            if not math.isfinite(item):
                fail(parent if key is None else _element_path(parent, key), "must be finite")
        elif item is not None and not isinstance(item, int | bool):
            fail(parent if key is None else _element_path(parent, key), "is not a JSON value")


def _element_path(parent: str, key: object) -> str:
    return f"{parent}[{key}]" if isinstance(key, int) else key_path(parent, key)


# ---------------------------------------------------------------------------------------------
# IRIs (RFC 3987 section 2.2: IRI = scheme ":" ihier-part [ "?" iquery ] [ "#" ifragment ])

_UCSCHAR = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    "\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd\U00040000-\U0004fffd"
    "\U00050000-\U0005fffd\U00060000-\U0006fffd\U00070000-\U0007fffd\U00080000-\U0008fffd"
    "\U00090000-\U0009fffd\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd"
    "\U000d0000-\U000dfffd\U000e1000-\U000efffd"
)
_IPRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_UNRESERVED_SUB = r"A-Za-z0-9\-._~!$&'()*+,;=" + _UCSCHAR  # iunreserved / sub-delims
_PCT = "%[0-9A-Fa-f]{2}"
_IPCHAR = f"(?:[{_UNRESERVED_SUB}:@]|{_PCT})"
_IAUTHORITY = (
    f"(?:(?:[{_UNRESERVED_SUB}:]|{_PCT})*@)?"  # iuserinfo "@"
    r"(?:\[(?P<ip>[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+)\]"  # IP-literal
    f"|(?:[{_UNRESERVED_SUB}]|{_PCT})*)"  # ireg-name (covers IPv4address)
    "(?::[0-9]*)?"  # port
)
_IRI = re.compile(
    "[A-Za-z][A-Za-z0-9+\\-.]*:"  # scheme
    f"(?://{_IAUTHORITY}(?:/{_IPCHAR}*)*"  # "//" iauthority ipath-abempty
    f"|(?:/?{_IPCHAR}+(?:/{_IPCHAR}*)*|/)?)"  # ipath-absolute / ipath-rootless / ipath-empty
    f"(?:\\?(?:{_IPCHAR}|[{_IPRIVATE}/?])*)?"  # "?" iquery
    f"(?:#(?:{_IPCHAR}|[/?])*)?"  # "#" ifragment
    r"\Z"
)


@lru_cache(maxsize=32768)
def _iri_ok(value: str) -> bool:
    match = _IRI.match(value)
    if match is None:
        return False
    literal = match.group("ip")
    if literal is not None and not literal.startswith("v"):
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return False
    return True


def is_iri(value: object) -> bool:
    """True for an absolute IRI (a scheme, then a valid IRI body; fragments allowed)."""
    return isinstance(value, str) and _iri_ok(value)


def check_iri(value: object, path: str, kind: str = "IRI") -> str:
    if not isinstance(value, str) or not _iri_ok(value):
        fail(path, f"must be an absolute {kind} with a scheme, got {show(value)}")
    return value


# ---------------------------------------------------------------------------------------------
# UUIDs (Data 4.4: standard string form; any version or variant, either case)

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def parse_uuid(value: object, path: str) -> str:
    """Return the canonical lower-case form of a UUID in standard string form."""
    if not isinstance(value, str) or _UUID.match(value) is None:
        fail(path, f"must be a UUID in standard string form, got {show(value)}")
    return value.lower()


# ---------------------------------------------------------------------------------------------
# Timestamps (Data 4.5: ISO 8601; "-00", "-0000" and "-00:00" mean "offset unknown" and are
# rejected, as the conformance suite demands) and durations (Data 4.6)

_UNKNOWN_OFFSET = re.compile(r"-00(?::?00)?\Z")


# The usual shape (RFC 3339 with a "T", seconds and an offset) goes to the C parser of the
# standard library, which reads exactly that shape the same way; every other ISO 8601 form
# ("20240514T0931Z", week dates, no offset...) goes to isodate.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})\Z"
)


@lru_cache(maxsize=4096)
def _timestamp(value: str) -> datetime | None:
    if _UNKNOWN_OFFSET.search(value):
        return None
    if _RFC3339.match(value) is not None:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    try:
        moment: datetime = isodate.parse_datetime(value)
    except (ValueError, OverflowError):  # isodate.ISO8601Error is a ValueError
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_timestamp(value: object, path: str) -> datetime:
    """An ISO 8601 date and time, time zone aware (UTC assumed when the value has none)."""
    moment = _timestamp(value) if isinstance(value, str) else None
    if moment is None:
        fail(path, f"must be an ISO 8601 timestamp with a known offset, got {show(value)}")
    return moment


_AMOUNT = "[0-9]+(?:[.,][0-9]+)?"
_DURATION = re.compile(  # ISO 8601:2004 4.4.3.2, format with designators; weeks stand alone
    f"P(?:{_AMOUNT}W"
    f"|(?=[0-9]|T[0-9])(?:{_AMOUNT}Y)?(?:{_AMOUNT}M)?(?:{_AMOUNT}D)?"
    f"(?:T(?=[0-9])(?:{_AMOUNT}H)?(?:{_AMOUNT}M)?(?:{_AMOUNT}S)?)?)\\Z"
)
_FRACTION_LAST = re.compile(r"[.,][0-9]+[YMWDHS]\Z")


@lru_cache(maxsize=4096)
def _duration_ok(value: str) -> bool:
    if _DURATION.match(value) is None:
        return False
    fractions = value.count(".") + value.count(",")
    if fractions and (fractions > 1 or _FRACTION_LAST.search(value) is None):
        return False  # only the smallest component may carry a decimal fraction
    try:
        isodate.parse_duration(value)
    except (ValueError, OverflowError):
        return False
    return True


def check_duration(value: object, path: str) -> str:
    if not isinstance(value, str) or not _duration_ok(value):
        fail(path, f'must be an ISO 8601 duration such as "PT1H30M", got {show(value)}')
    return value


# ---------------------------------------------------------------------------------------------
# Language tags and maps (Data 4.2, RFC 5646)

_TAG_SYNTAX = re.compile(r"[A-Za-z0-9]{1,8}(?:-[A-Za-z0-9]{1,8})*\Z")


@lru_cache(maxsize=4096)
def is_language_tag(tag: str) -> bool:
    """A well-formed RFC 5646 tag whose subtags are registered (langcodes decides)."""
    return _TAG_SYNTAX.match(tag) is not None and langcodes.tag_is_valid(tag)


def check_language_map(value: object, path: str) -> dict[str, Any]:
    mapping = require_object(value, path, "a language map")
    for tag, entry in mapping.items():
        if not isinstance(tag, str) or not is_language_tag(tag):
            fail(path, f"key {show(tag)} is not a valid RFC 5646 language tag")
        if not isinstance(entry, str):
            fail(key_path(path, tag), f"must be a string, got {show(entry)}")
        if _UNSTORABLE.search(entry):
            fail(key_path(path, tag), "must not contain U+0000 or unpaired surrogate characters")
    return mapping


# ---------------------------------------------------------------------------------------------
# Extensions (Data 4.1: keys are IRIs, values are any JSON, null included)


def check_extensions(value: object, path: str) -> None:
    mapping = require_object(value, path, "an extensions map")
    for key, entry in mapping.items():
        if not isinstance(key, str) or not _iri_ok(key):
            fail(path, f"key {show(key)} must be an absolute IRI with a scheme")
        if isinstance(entry, str):
            if _UNSTORABLE.search(entry):
                fail(
                    key_path(path, key), "must not contain U+0000 or unpaired surrogate characters"
                )
        elif entry is not None and not isinstance(entry, bool | int):
            check_json_value(entry, path, key)


def clear_caches() -> None:
    """Forget every cached check (benchmarks use it to measure cold runs)."""
    for cached in (_iri_ok, _timestamp, _duration_ok, is_language_tag):
        cached.cache_clear()


def check_array(value: object, path: str, what: str) -> list[Any]:
    if not isinstance(value, list):
        fail(path, f"must be an array of {what}, got {show(value)}")
    return value
