"""Writing statements: PUT and POST, the properties the LRS fills in, immutability and voiding."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.api.lrs_client import (
    SERVICE_URL,
    Lrs,
    assert_error,
    credential_key,
    new_id,
    statement_ref,
    voiding,
)

MakeStatement = Callable[..., dict[str, Any]]
MEMBERS = [{"mbox": "mailto:hanako@school.example.jp"}, {"mbox": "mailto:taro@school.example.jp"}]


# --- POST and PUT ------------------------------------------------------------------------------


def test_post_single_statement_returns_its_generated_id(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    response = xapi.post(make_statement())

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    [statement_id] = response.get_json()
    assert str(uuid.UUID(statement_id)) == statement_id
    assert xapi.statement(statement_id)["id"] == statement_id


def test_post_batch_returns_ids_in_order_keeping_the_given_ones(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    given = new_id()
    batch = [make_statement(), make_statement(id=given), make_statement()]

    ids = xapi.store(*batch)

    assert ids[1] == given
    assert len(set(ids)) == 3
    for statement_id in ids:
        assert xapi.statement(statement_id)["id"] == statement_id


def test_post_keeps_the_statement_as_sent(xapi: Lrs, make_statement: MakeStatement) -> None:
    sent = make_statement(context={"language": "ja", "extensions": {"https://x.jp/e": [1, {}]}})

    [statement_id] = xapi.store(sent)

    got = xapi.statement(statement_id)
    for name in ("actor", "verb", "object", "result", "context"):
        assert got[name] == sent[name]


def test_put_with_statement_id_stores_it_and_answers_204(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    statement_id = new_id()

    response = xapi.put(make_statement(), statement_id)

    assert response.status_code == 204
    assert response.get_data() == b""
    assert xapi.statement(statement_id)["id"] == statement_id


def test_put_with_the_same_id_in_the_body_is_accepted(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    statement_id = new_id()

    response = xapi.put(make_statement(id=statement_id.upper()), statement_id)

    assert response.status_code == 204
    assert xapi.statement(statement_id)["id"] == statement_id


def test_put_without_statement_id_is_refused(
    xapi: Lrs, make_statement: MakeStatement, statement_count: Callable[[], int]
) -> None:
    response = xapi.put(make_statement(id=new_id()), None)

    assert "statementId" in assert_error(response, 400)
    assert statement_count() == 0


def test_put_with_a_malformed_statement_id_is_refused(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    assert_error(xapi.put(make_statement(), "not-a-uuid"), 400)


def test_put_whose_body_id_differs_from_statement_id_is_refused(
    xapi: Lrs, make_statement: MakeStatement, statement_count: Callable[[], int]
) -> None:
    response = xapi.put(make_statement(id=new_id()), new_id())

    assert_error(response, 400)
    assert statement_count() == 0


def test_put_of_a_batch_is_refused(xapi: Lrs, make_statement: MakeStatement) -> None:
    assert_error(xapi.put([make_statement()], new_id()), 400)


def test_post_of_an_empty_batch_is_refused(xapi: Lrs) -> None:
    assert_error(xapi.post([]), 400)


# --- immutability ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_sending_the_same_statement_again_is_accepted_and_changes_nothing(
    xapi: Lrs, make_statement: MakeStatement, statement_count: Callable[[], int], method: str
) -> None:
    statement_id = new_id()
    xapi.store(make_statement(id=statement_id))
    before = xapi.statement(statement_id)

    if method == "POST":
        response = xapi.post(make_statement(id=statement_id))
        assert response.status_code == 200
        assert response.get_json() == [statement_id]
    else:
        response = xapi.put(make_statement(id=statement_id), statement_id)
        assert response.status_code == 204

    assert xapi.statement(statement_id) == before
    assert statement_count() == 1


def test_sending_the_same_statement_with_properties_reordered_is_accepted(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    statement_id = new_id()
    original = make_statement(id=statement_id)
    xapi.store(original)

    reordered = dict(reversed(list(original.items())))
    reordered["result"] = dict(reversed(list(original["result"].items())))

    assert xapi.post(reordered).status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_same_id_with_other_content_conflicts_and_writes_nothing(
    xapi: Lrs, make_statement: MakeStatement, statement_count: Callable[[], int], method: str
) -> None:
    statement_id = new_id()
    xapi.store(make_statement(id=statement_id))
    before = xapi.statement(statement_id)
    changed = make_statement(id=statement_id, result={"completion": True, "score": {"scaled": 0.3}})

    if method == "POST":
        response = xapi.post([make_statement(), changed])
    else:
        response = xapi.put(changed, statement_id)

    assert_error(response, 409)
    assert xapi.statement(statement_id) == before
    assert statement_count() == 1


def test_resending_a_statement_as_the_lrs_returned_it_is_accepted(
    xapi: Lrs, make_statement: MakeStatement, statement_count: Callable[[], int]
) -> None:
    """Statement comparison ignores what the LRS set: id, authority, stored, timestamp,
    version (Data 2.3.1.b1, 2.3.1.s9.b1), e.g. when an LRS forwards statements to another."""
    [statement_id] = xapi.store(make_statement())  # no timestamp: the LRS fills it in
    as_returned = xapi.statement(statement_id)

    response = xapi.post(as_returned)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert statement_count() == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(
            {"timestamp": "2024-05-14T09:31:00Z"},
            {"timestamp": "2024-05-14T18:31:00+09:00"},
            id="timestamp-serialization",
        ),
        pytest.param(
            {"verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"ja": "完了"}}},
            {"verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en": "done"}}},
            id="verb-display",
        ),
        pytest.param(
            {
                "object": {
                    "id": "https://contents.example.jp/q/1",
                    "definition": {"name": {"ja": "問1"}},
                }
            },
            {"object": {"id": "https://contents.example.jp/q/1"}},
            id="activity-definition",
        ),
        pytest.param(
            {"actor": {"objectType": "Group", "member": MEMBERS}},
            {"actor": {"objectType": "Group", "member": MEMBERS[::-1]}},
            id="group-member-order",
        ),
        pytest.param(
            {"actor": {"mbox": "mailto:hanako@school.example.jp"}},
            {"actor": {"mbox": "mailto:hanako@SCHOOL.Example.JP"}},
            id="mbox-domain-case",
        ),
    ],
)
def test_differences_statement_comparison_ignores_do_not_conflict(
    xapi: Lrs, make_statement: MakeStatement, first: dict[str, Any], second: dict[str, Any]
) -> None:
    """Data 2.3.1: timestamp serialization, Verb display, Activity Definitions, Group member
    order and case-insensitive parts are not part of the immutable statement, so sending them
    differently is not a conflict."""
    statement_id = new_id()
    xapi.store(make_statement(id=statement_id, **first))

    response = xapi.post(make_statement(id=statement_id, **second))

    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize(
    "number",
    [
        1e20,
        -1e300,
        2**64,
        12345678901234567890123,
        1.5e-300,
        2**63 - 1,
    ],
)
def test_extreme_numbers_in_extensions_can_be_read_back(
    xapi: Lrs, make_statement: MakeStatement, number: float
) -> None:
    extension = "https://example.jp/ext/measurement"
    [statement_id] = xapi.store(make_statement(result={"extensions": {extension: number}}))

    single = xapi.get(statementId=statement_id)
    listed = xapi.get()

    assert single.status_code == 200
    assert float(single.get_json()["result"]["extensions"][extension]) == float(number)
    assert listed.status_code == 200
    assert [st["id"] for st in listed.get_json()["statements"]] == [statement_id]


# --- all or nothing ----------------------------------------------------------------------------


def test_batch_with_one_invalid_statement_stores_none(
    xapi: Lrs, make_statement: MakeStatement, statement_count: Callable[[], int]
) -> None:
    good_ids = [new_id(), new_id()]
    invalid = make_statement(verb={"display": {"en": "no id"}})
    batch = [make_statement(id=good_ids[0]), invalid, make_statement(id=good_ids[1])]

    assert_error(xapi.post(batch), 400)

    for statement_id in good_ids:
        assert_error(xapi.get(statementId=statement_id), 404)
    assert xapi.query() == []
    assert statement_count() == 0


def test_batch_whose_later_statement_conflicts_stores_none(
    xapi: Lrs, make_statement: MakeStatement, statement_count: Callable[[], int]
) -> None:
    taken = new_id()
    xapi.store(make_statement(id=taken))
    fresh = new_id()

    response = xapi.post([make_statement(id=fresh), make_statement(id=taken, result={})])

    assert_error(response, 409)
    assert_error(xapi.get(statementId=fresh), 404)
    assert statement_count() == 1


def test_batch_with_duplicate_ids_is_refused(
    xapi: Lrs, make_statement: MakeStatement, statement_count: Callable[[], int]
) -> None:
    twice = new_id()
    batch = [make_statement(id=twice), make_statement(), make_statement(id=twice.upper())]

    assert_error(xapi.post(batch), 400)
    assert statement_count() == 0


# --- properties the LRS sets -------------------------------------------------------------------


def test_lrs_fills_stored_authority_version_and_timestamp(
    client: FlaskClient,
    make_credential: Callable[..., dict[str, str]],
    make_statement: MakeStatement,
) -> None:
    headers = make_credential("all")
    key = credential_key(headers)
    xapi = Lrs(client, headers)
    before = datetime.now().astimezone()

    [statement_id] = xapi.store(make_statement())

    got = xapi.statement(statement_id)
    stored = datetime.fromisoformat(got["stored"])
    assert stored.tzinfo is not None
    assert before <= stored <= datetime.now().astimezone()
    assert got["timestamp"] == got["stored"]
    assert got["version"] == "1.0.0"
    assert got["authority"] == {
        "objectType": "Agent",
        "name": "school-a device",
        "account": {"homePage": SERVICE_URL, "name": f"credential/{key}"},
    }


def test_client_timestamp_and_version_are_kept(xapi: Lrs, make_statement: MakeStatement) -> None:
    [statement_id] = xapi.store(
        make_statement(timestamp="2024-05-14T09:31:00+09:00", version="1.0.3")
    )

    got = xapi.statement(statement_id)
    assert got["timestamp"] == "2024-05-14T09:31:00+09:00"
    assert got["version"] == "1.0.3"


def test_client_authority_and_stored_are_overwritten(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    claimed = {"objectType": "Agent", "mbox": "mailto:principal@school.example.jp"}
    [statement_id] = xapi.store(make_statement(authority=claimed, stored="2000-01-01T00:00:00Z"))

    got = xapi.statement(statement_id)
    assert got["authority"]["account"]["homePage"] == SERVICE_URL
    assert "mbox" not in got["authority"]
    assert not got["stored"].startswith("2000-")


def test_each_credential_writes_as_its_own_authority(
    lrs_as: Callable[..., Lrs], make_statement: MakeStatement
) -> None:
    first, second = lrs_as(), lrs_as()
    [one] = first.store(make_statement())
    [two] = second.store(make_statement())

    authorities = {first.statement(one)["authority"]["account"]["name"]}
    authorities.add(first.statement(two)["authority"]["account"]["name"])

    assert authorities == {
        f"credential/{credential_key(first.headers)}",
        f"credential/{credential_key(second.headers)}",
    }


# --- voiding -----------------------------------------------------------------------------------


def test_voided_statement_leaves_queries_but_stays_reachable_by_voided_statement_id(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    target, other = xapi.store(make_statement(), make_statement())

    [voider] = xapi.store(voiding(target))

    assert set(xapi.query_ids()) == {voider, other}
    assert_error(xapi.get(statementId=target), 404)
    response = xapi.get(voidedStatementId=target)
    assert response.status_code == 200
    assert response.get_json()["id"] == target
    # The voiding statement itself is an ordinary statement.
    assert xapi.statement(voider)["object"] == statement_ref(target)
    assert_error(xapi.get(voidedStatementId=voider), 404)


def test_voided_statement_id_does_not_return_a_statement_that_is_not_voided(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    [statement_id] = xapi.store(make_statement())

    assert_error(xapi.get(voidedStatementId=statement_id), 404)


def test_voiding_a_voiding_statement_is_refused(
    xapi: Lrs, make_statement: MakeStatement, statement_count: Callable[[], int]
) -> None:
    [target] = xapi.store(make_statement())
    [voider] = xapi.store(voiding(target))

    assert_error(xapi.post(voiding(voider)), 400)

    assert xapi.statement(voider)["id"] == voider
    assert statement_count() == 2


def test_voiding_a_voiding_statement_of_the_same_batch_is_refused(
    xapi: Lrs, make_statement: MakeStatement, statement_count: Callable[[], int]
) -> None:
    [target] = xapi.store(make_statement())
    voider = new_id()

    response = xapi.post([voiding(target, id=voider), voiding(voider)])

    assert_error(response, 400)
    assert xapi.statement(target)["id"] == target
    assert statement_count() == 1


def test_voiding_an_unknown_statement_is_accepted(xapi: Lrs) -> None:
    assert xapi.post(voiding(new_id())).status_code == 200


def test_statement_arriving_after_its_voiding_statement_is_stored_voided(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    late = new_id()
    [voider] = xapi.store(voiding(late))

    xapi.store(make_statement(id=late))

    assert xapi.query_ids() == [voider]
    assert_error(xapi.get(statementId=late), 404)
    response = xapi.get(voidedStatementId=late)
    assert response.status_code == 200
    assert response.get_json()["id"] == late


def test_statement_and_its_voiding_statement_in_one_batch(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    target = new_id()

    [_, voider] = xapi.store(make_statement(id=target), voiding(target))

    assert xapi.query_ids() == [voider]
    assert xapi.get(voidedStatementId=target).status_code == 200
