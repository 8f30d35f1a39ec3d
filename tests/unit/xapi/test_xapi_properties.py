"""Properties over generated data: any JSON in gives a Statement or InvalidStatementError, valid
statements round-trip, and breaking any part of a valid statement is caught."""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from records.errors import InvalidStatementError
from records.xapi import (
    agent_key,
    format_statement,
    parse_agent,
    parse_statement,
    parse_statements,
    verify_signature,
)

Json = Any
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------
# JSON values

TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
JSON: st.SearchStrategy[Json] = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

# ---------------------------------------------------------------------------------------------
# Valid statements

SEGMENT = st.text(st.sampled_from("abcxyz019-._~あ語"), min_size=1, max_size=8)
IRIS = st.builds(
    "{}://{}.example.jp/{}".format,
    st.sampled_from(["http", "https"]),
    st.sampled_from(["contents", "idp", "xn--eckwd4c7c", "例え"]),
    SEGMENT,
) | st.sampled_from(
    ["urn:isbn:9784000000000", "http://adlnet.gov/expapi/verbs/answered", "tag:x.jp,2025:a"]
)
TAGS = st.sampled_from(["ja", "ja-JP", "en", "en-US", "en-GB", "zh-Hant", "sr-Latn-RS", "es-419"])
LANGUAGE_MAPS = st.dictionaries(TAGS, TEXT, max_size=3)
UUIDS = st.uuids().map(str) | st.uuids().map(lambda u: str(u).upper())
EXTENSIONS = st.dictionaries(IRIS, JSON, max_size=3)
DURATIONS = st.sampled_from(["PT1M32.5S", "P3Y1M29DT4H35M59.14S", "P4W", "PT0S", "P1D", "PT1,5S"])


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    earliest, latest = datetime(1970, 1, 2), datetime(2100, 1, 1)  # noqa: DTZ001 -- naive bounds
    moment = draw(st.datetimes(min_value=earliest, max_value=latest))
    zone = draw(st.sampled_from([UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))]))
    return moment.replace(tzinfo=zone).isoformat(
        timespec=draw(st.sampled_from(["seconds", "milliseconds"]))
    )


@st.composite
def agents(draw: st.DrawFn, typed: bool = False) -> dict[str, Json]:
    ifi = draw(st.sampled_from(["mbox", "mbox_sha1sum", "openid", "account"]))
    agent: dict[str, Json] = {}
    if typed or draw(st.booleans()):
        agent["objectType"] = "Agent"
    if draw(st.booleans()):
        agent["name"] = draw(TEXT)
    n = draw(st.integers(0, 10**6))
    agent[ifi] = {
        "mbox": f"mailto:pupil{n}@school.example.jp",
        "mbox_sha1sum": f"{n:040x}",
        "openid": f"http://openid.example.jp/{n}",
        "account": {"homePage": "https://idp.example-city.jp/", "name": f"P{n}"},
    }[ifi]
    return agent


@st.composite
def groups(draw: st.DrawFn, anonymous: bool | None = None) -> dict[str, Json]:
    group: dict[str, Json] = {"objectType": "Group"}
    if anonymous is None:
        anonymous = draw(st.booleans())
    if not anonymous:
        group.update({k: v for k, v in draw(agents()).items() if k != "objectType"})
    if anonymous or draw(st.booleans()):
        group["member"] = draw(st.lists(agents(), min_size=1 if anonymous else 0, max_size=3))
    return group


ACTORS = agents() | groups()


@st.composite
def definitions(draw: st.DrawFn) -> dict[str, Json]:
    definition: dict[str, Json] = {}
    for name, strategy in (
        ("name", LANGUAGE_MAPS),
        ("description", LANGUAGE_MAPS),
        ("type", IRIS),
        ("moreInfo", IRIS),
        ("extensions", EXTENSIONS),
    ):
        if draw(st.booleans()):
            definition[name] = draw(strategy)
    if draw(st.booleans()):
        kind, lists = draw(
            st.sampled_from(
                [
                    ("true-false", ()),
                    ("choice", ("choices",)),
                    ("sequencing", ("choices",)),
                    ("likert", ("scale",)),
                    ("matching", ("source", "target")),
                    ("performance", ("steps",)),
                    ("numeric", ()),
                    ("other", ()),
                ]
            )
        )
        definition["interactionType"] = kind
        if draw(st.booleans()):
            definition["correctResponsesPattern"] = draw(st.lists(TEXT, max_size=2))
        for name in lists:
            ids = draw(st.lists(SEGMENT, unique=True, max_size=4))
            definition[name] = [
                {"id": i, "description": draw(LANGUAGE_MAPS)} if draw(st.booleans()) else {"id": i}
                for i in ids
            ]
    return definition


@st.composite
def activities(draw: st.DrawFn) -> dict[str, Json]:
    activity: dict[str, Json] = {"id": draw(IRIS)}
    if draw(st.booleans()):
        activity["objectType"] = "Activity"
    if draw(st.booleans()):
        activity["definition"] = draw(definitions())
    return activity


STATEMENT_REFS = st.builds(lambda i: {"objectType": "StatementRef", "id": i}, UUIDS)
VERBS = st.builds(lambda i, d: {"id": i, "display": d}, IRIS, LANGUAGE_MAPS) | st.builds(
    lambda i: {"id": i}, IRIS
)


@st.composite
def results(draw: st.DrawFn) -> dict[str, Json]:
    result: dict[str, Json] = {}
    if draw(st.booleans()):
        low, high = sorted(
            draw(st.lists(st.integers(-1000, 1000), min_size=2, max_size=2, unique=True))
        )
        score: dict[str, Json] = {"min": low, "max": high, "raw": draw(st.integers(low, high))}
        score["scaled"] = draw(st.floats(-1, 1))
        result["score"] = {k: v for k, v in score.items() if draw(st.booleans())}
    for name, strategy in (
        ("success", st.booleans()),
        ("completion", st.booleans()),
        ("response", TEXT),
        ("duration", DURATIONS),
        ("extensions", EXTENSIONS),
    ):
        if draw(st.booleans()):
            result[name] = draw(strategy)
    return result


@st.composite
def contexts(draw: st.DrawFn, object_is_activity: bool) -> dict[str, Json]:
    context: dict[str, Json] = {}
    kinds = draw(
        st.lists(st.sampled_from(["parent", "grouping", "category", "other"]), unique=True)
    )
    options: list[tuple[str, st.SearchStrategy[Json]]] = [
        ("registration", UUIDS),
        ("instructor", ACTORS),
        ("team", groups()),
        (
            "contextActivities",
            st.just({k: draw(st.lists(activities(), max_size=2)) for k in kinds}),
        ),
        ("language", TAGS),
        ("statement", STATEMENT_REFS),
        ("extensions", EXTENSIONS),
    ]
    if object_is_activity:
        options += [("revision", TEXT), ("platform", TEXT)]
    for name, strategy in options:
        if draw(st.booleans()):
            context[name] = draw(strategy)
    return context


ATTACHMENTS = st.builds(
    lambda usage, display, length, sha2, url: {
        "usageType": usage,
        "display": display,
        "contentType": "text/plain; charset=utf-8",
        "length": length,
        "sha2": sha2,
        "fileUrl": url,
    },
    IRIS,
    LANGUAGE_MAPS,
    st.integers(0, 10**9),
    st.binary(min_size=32, max_size=32).map(bytes.hex),
    IRIS,
)


@st.composite
def statements(draw: st.DrawFn, sub: bool = False) -> dict[str, Json]:
    kind = draw(
        st.sampled_from(
            ["Activity", "Agent", "Group", "StatementRef", "SubStatement"][: 4 if sub else 5]
        )
    )
    target: Json = {
        "Activity": activities(),
        "Agent": agents(typed=True),
        "Group": groups(),
        "StatementRef": STATEMENT_REFS,
        "SubStatement": statements(sub=True) if not sub else st.nothing(),
    }[kind]
    statement: dict[str, Json] = {
        "actor": draw(ACTORS),
        "verb": draw(VERBS),
        "object": draw(target),
    }
    if sub:
        statement["objectType"] = "SubStatement"
    if draw(st.booleans()):
        statement["result"] = draw(results())
    if draw(st.booleans()):
        statement["context"] = draw(contexts(object_is_activity=kind == "Activity"))
    if draw(st.booleans()):
        statement["timestamp"] = draw(timestamps())
    if draw(st.booleans()):
        statement["attachments"] = draw(st.lists(ATTACHMENTS, max_size=2))
    if not sub:
        for name, strategy in (
            ("id", UUIDS),
            ("stored", timestamps()),
            ("version", st.sampled_from(["1.0", "1.0.0", "1.0.3"])),
            (
                "authority",
                agents() | groups(anonymous=True).filter(lambda g: len(g["member"]) == 2),
            ),
        ):
            if draw(st.booleans()):
                statement[name] = draw(strategy)
    return statement


# ---------------------------------------------------------------------------------------------
# Properties


def _either(function: Any, *args: Any) -> None:
    with contextlib.suppress(InvalidStatementError):
        function(*args)


@SETTINGS
@given(ANY_JSON)
def test_any_json_gives_a_statement_or_invalid_statement_error(value: Json) -> None:
    _either(parse_statement, value)
    _either(parse_statements, value)
    _either(parse_agent, value)
    if isinstance(value, dict):
        _either(agent_key, value)


@SETTINGS
@given(statements(), st.data())
def test_any_part_replaced_by_any_json(statement: dict[str, Json], data: st.DataObject) -> None:
    """Deep inputs: a valid statement with one value swapped for arbitrary JSON."""
    paths = list(_paths(statement))
    path = data.draw(st.sampled_from(paths))
    broken = _replace(copy.deepcopy(statement), path, data.draw(ANY_JSON))
    _either(parse_statement, broken)
    _either(parse_statements, [statement, broken])


@SETTINGS
@given(statements())
def test_valid_statements_round_trip(statement: dict[str, Json]) -> None:
    parsed = parse_statement(statement)
    normalised = _arrays(statement)
    assert parsed.data == normalised
    again = parse_statement(json.loads(json.dumps(parsed.data)))
    assert again.data == parsed.data
    assert (again.id, again.agents, again.activities) == (
        parsed.id,
        parsed.agents,
        parsed.activities,
    )
    for fmt in ("exact", "ids", "canonical"):
        parse_statement(format_statement(parsed.data, fmt, ["ja-JP", "en"]))


@SETTINGS
@given(statements(), st.data())
def test_an_unknown_property_anywhere_is_rejected(
    statement: dict[str, Json], data: st.DataObject
) -> None:
    objects = [path for path in _paths(statement) if isinstance(_get(statement, path), dict)]
    path = data.draw(st.sampled_from(objects))
    broken = copy.deepcopy(statement)
    _get(broken, path)["unknownProperty"] = "x"
    with pytest.raises(InvalidStatementError):
        parse_statement(broken)


@SETTINGS
@given(statements(), st.data())
def test_a_null_anywhere_outside_extensions_is_rejected(
    statement: dict[str, Json], data: st.DataObject
) -> None:
    path = data.draw(st.sampled_from([p for p in _paths(statement) if p]))
    with pytest.raises(InvalidStatementError):
        parse_statement(_replace(copy.deepcopy(statement), path, None))


@SETTINGS
@given(st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_any_bytes_as_a_signature(token: bytes) -> None:
    _either(verify_signature, {"actor": {"mbox": "mailto:a@x.jp"}}, token)


def _paths(value: Json, path: tuple[Any, ...] = ()) -> Any:
    """Paths to every value that the spec constrains (extension values are free-form)."""
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            if path and path[-1] == "extensions":
                continue
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*path, index))


def _get(value: Json, path: tuple[Any, ...]) -> Json:
    for part in path:
        value = value[part]
    return value


def _replace(value: Json, path: tuple[Any, ...], new: Json) -> Json:
    if not path:
        return new
    _get(value, path[:-1])[path[-1]] = new
    return value


def _arrays(statement: dict[str, Json]) -> dict[str, Json]:
    """The statement with every contextActivities value as an array, as parse_statement gives it."""
    out = copy.deepcopy(statement)
    for holder in (out, out["object"]):
        activities = (
            holder.get("context", {}).get("contextActivities") if isinstance(holder, dict) else None
        )
        if activities:
            for kind, value in activities.items():
                if not isinstance(value, list):
                    activities[kind] = [value]
    return out
