"""Property tests: whatever a client sends, the LRS answers 200 or 400 (never a 500), and a
refused request leaves the store exactly as it was."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.api.lrs_client import STATEMENTS, Lrs, assert_error

MakeStatement = Callable[..., dict[str, Any]]

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Strings a validator has to think about: empty, control and unstorable characters, look-alikes
# of IRIs, mailtos, UUIDs, timestamps and durations, language tags, and plain noise.
TRICKY_TEXT = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.characters(codec=None, categories=["Cs", "Cc"]), max_size=4),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\ud800",
            "mailto:",
            "mailto:a@b",
            "mailto:花子@学校.jp",
            "http://",
            "https://example.jp/a b",
            "urn:x",
            "not an iri",
            "00000000-0000-0000-0000-000000000000",
            "2024-02-30T00:00:00Z",
            "2024-05-14T09:31:00-00:00",
            "9999-12-31T23:59:59.999999999+14:00",
            "PT",
            "P1.5Y2M",
            "en-US",
            "x-klingon-" + "a" * 9,
            "SubStatement",
            "StatementRef",
            "Group",
            "http://adlnet.gov/expapi/verbs/voided",
            "http://adlnet.gov/expapi/attachments/signature",
            "a" * 5000,
        ]
    ),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TRICKY_TEXT,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(TRICKY_TEXT, children, max_size=4),
    ),
    max_leaves=12,
)
# Query strings travel as UTF-8: lone surrogates cannot be sent at all.
PARAMETER_TEXT = st.one_of(
    TRICKY_TEXT.map(lambda text: text.encode("utf-8", "replace").decode("utf-8")),
    JSON_VALUES.map(json.dumps),
)
# Numbers that every backend gives back as numbers the API can write (beyond 64 bits see
# test_statements_write.py::test_extreme_numbers_in_extensions_can_be_read_back).
STORABLE_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(min_value=-1e18, max_value=1e18),
        TRICKY_TEXT,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(TRICKY_TEXT, children, max_size=4),
    ),
    max_leaves=12,
)
STATEMENT_KEYS = st.sampled_from(
    [
        "id",
        "actor",
        "verb",
        "object",
        "result",
        "context",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
        "objectType",
        "extensions",
    ]
)
STATEMENT_SHAPED = st.dictionaries(STATEMENT_KEYS, JSON_VALUES, max_size=8)


def rich_statement(make_statement: MakeStatement) -> dict[str, Any]:
    """A valid statement that reaches into most of the schema, as the seed for mutations."""
    return make_statement(
        context={
            "registration": "8f87ccde-bb56-4c2e-ab83-44982ef22df0",
            "instructor": {"mbox": "mailto:sensei@school.example.jp"},
            "team": {"objectType": "Group", "member": [{"mbox": "mailto:taro@school.example.jp"}]},
            "contextActivities": {"parent": [{"id": "https://contents.example.jp/courses/p4"}]},
            "language": "ja-JP",
            "statement": {
                "objectType": "StatementRef",
                "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
            },
            "extensions": {"https://example.jp/ext/seat": 12},
        },
        timestamp="2024-05-14T09:31:00+09:00",
        attachments=[
            {
                "usageType": "http://id.tincanapi.com/attachment/supporting_media",
                "display": {"ja": "絵"},
                "contentType": "image/png",
                "length": 3,
                "sha2": "a" * 64,
                "fileUrl": "https://files.example.jp/1.png",
            }
        ],
    )


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside `value` (dict keys and list indexes)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


def mutate(statement: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """Apply one to three random edits: replace, delete or add somewhere in the statement."""
    mutated = copy.deepcopy(statement)
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        path = data.draw(st.sampled_from(paths(mutated)[1:]), label="path")
        *parents, last = path
        holder: Any = mutated
        for step in parents:
            holder = holder[step]
        edit = data.draw(st.sampled_from(["replace", "delete", "add"]), label="edit")
        if edit == "replace":
            holder[last] = data.draw(JSON_VALUES, label="value")
        elif edit == "delete":
            del holder[last]
        elif isinstance(holder, dict):
            holder[data.draw(TRICKY_TEXT, label="key")] = data.draw(JSON_VALUES, label="value")
        else:
            holder.insert(last, data.draw(JSON_VALUES, label="value"))
        if not isinstance(mutated, dict):
            break
    return mutated


def post_raw(xapi: Lrs, body: bytes) -> Any:
    return xapi.send("POST", body, "application/json")


def check_answer(response: Any, before: dict[str, int], after: dict[str, int]) -> None:
    event(f"answered {response.status_code}")  # see --hypothesis-show-statistics
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    if response.status_code == 400:
        assert_error(response, 400)
        assert after == before
    else:
        assert after["statements"] > before["statements"]


@FUZZ
@given(value=JSON_VALUES, ascii_only=st.booleans())
def test_any_json_value(
    xapi: Lrs, stored_counts: Callable[[], dict[str, int]], value: Any, ascii_only: bool
) -> None:
    before = stored_counts()

    response = post_raw(
        xapi, json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    )

    check_answer(response, before, stored_counts())


@FUZZ
@given(value=st.one_of(STATEMENT_SHAPED, st.lists(STATEMENT_SHAPED, min_size=1, max_size=3)))
def test_any_statement_shaped_object(
    xapi: Lrs, stored_counts: Callable[[], dict[str, int]], value: Any
) -> None:
    before = stored_counts()

    response = post_raw(xapi, json.dumps(value).encode())

    check_answer(response, before, stored_counts())


@FUZZ
@given(data=st.data(), batch=st.booleans())
def test_mutations_of_a_valid_statement(
    xapi: Lrs,
    make_statement: MakeStatement,
    stored_counts: Callable[[], dict[str, int]],
    data: st.DataObject,
    batch: bool,
) -> None:
    seed = rich_statement(make_statement)
    mutated = mutate(seed, data)
    body = [make_statement(), mutated] if batch else mutated
    before = stored_counts()

    response = post_raw(xapi, json.dumps(body).encode())

    check_answer(response, before, stored_counts())


def as_json_sees_it(value: Any) -> Any:
    """Numbers compare as numbers (1 == 1.0, whatever type the database hands back), and a
    surrogate pair in a Python string is the one character JSON makes of it."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16")
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return [as_json_sees_it(item) for item in value]
    return {as_json_sees_it(key): as_json_sees_it(item) for key, item in value.items()}


@FUZZ
@given(value=STORABLE_VALUES)
def test_extension_values_are_stored_and_read_back_unchanged(
    xapi: Lrs,
    make_statement: MakeStatement,
    stored_counts: Callable[[], dict[str, int]],
    value: Any,
) -> None:
    extension = "https://example.jp/ext/anything"
    statement = make_statement(context={"extensions": {extension: value}})
    before = stored_counts()

    response = xapi.post(statement)

    check_answer(response, before, stored_counts())
    if response.status_code == 200:
        [statement_id] = response.get_json()
        got = xapi.get(statementId=statement_id)
        assert got.status_code == 200
        assert as_json_sees_it(
            got.get_json()["context"]["extensions"][extension]
        ) == as_json_sees_it(value)


def test_the_mutation_seed_is_valid(xapi: Lrs, make_statement: MakeStatement) -> None:
    """Otherwise every mutation would be refused for the seed's own fault."""
    assert xapi.post(rich_statement(make_statement)).status_code == 200


QUERY_PARAMETERS = st.sampled_from(
    [
        "agent",
        "verb",
        "activity",
        "registration",
        "related_activities",
        "related_agents",
        "since",
        "until",
        "limit",
        "format",
        "attachments",
        "ascending",
        "more",
        "statementId",
        "voidedStatementId",
    ]
)


@FUZZ
@given(
    params=st.dictionaries(
        QUERY_PARAMETERS,
        PARAMETER_TEXT,
        max_size=4,
    )
)
def test_any_statement_query(xapi: Lrs, params: dict[str, str]) -> None:
    response = xapi.client.get(STATEMENTS, query_string=params, headers=xapi.headers)

    assert response.status_code in (200, 400, 404), response.get_data(as_text=True)
    if response.status_code != 200:
        assert_error(response, response.status_code)


@FUZZ
@given(
    path=st.sampled_from(
        ["/xapi/activities/state", "/xapi/activities/profile", "/xapi/agents/profile"]
    ),
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE"]),
    params=st.dictionaries(
        st.sampled_from(["activityId", "agent", "stateId", "profileId", "registration", "since"]),
        PARAMETER_TEXT,
        max_size=5,
    ),
    body=JSON_VALUES.map(lambda v: json.dumps(v).encode()),
)
def test_any_document_request(
    xapi: Lrs, path: str, method: str, params: dict[str, str], body: bytes
) -> None:
    response = xapi.client.open(
        path,
        method=method,
        query_string=params,
        data=body,
        headers={**xapi.headers, "Content-Type": "application/json", "If-None-Match": "*"},
    )

    assert response.status_code in (200, 204, 400, 404, 412), response.get_data(as_text=True)
    if response.status_code >= 400:
        assert_error(response, response.status_code)
