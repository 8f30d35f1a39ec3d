"""GET /xapi/statements: filters, ordering, paging, formats, StatementRef targets and headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from werkzeug.http import parse_date

from tests.api.lrs_client import (
    SERVICE_URL,
    STATEMENTS,
    Lrs,
    activity,
    agent,
    assert_error,
    new_id,
    statement_ref,
    voiding,
)

MakeStatement = Callable[..., dict[str, Any]]

HANAKO, TARO, JIRO = agent("pupil-hanako"), agent("pupil-taro"), agent("pupil-jiro")
TEACHER = {"objectType": "Agent", "name": "先生", "mbox": "mailto:sensei@school.example.jp"}
MATHS = activity("https://contents.example.jp/math/p4")
SCIENCE = activity("https://contents.example.jp/science/p4")
COURSE = activity("https://contents.example.jp/courses/p4")
COMPLETED = {"id": "http://adlnet.gov/expapi/verbs/completed"}
ATTEMPTED = {"id": "http://adlnet.gov/expapi/verbs/attempted"}
JST = timezone(timedelta(hours=9))


def ids(statements: list[dict[str, Any]]) -> set[str]:
    return {st["id"] for st in statements}


def stored_at(xapi: Lrs, statement_id: str) -> datetime:
    return datetime.fromisoformat(xapi.statement(statement_id)["stored"])


def store_one_by_one(xapi: Lrs, statements: list[dict[str, Any]]) -> list[str]:
    """Separate requests, so each statement has its own `stored` time, in this order."""
    return [xapi.store(statement)[0] for statement in statements]


# --- agent ---------------------------------------------------------------------------------------


def test_agent_matches_actor_or_object_by_the_same_ifi(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    as_actor, as_object, _other = xapi.store(
        make_statement(actor=HANAKO),
        make_statement(
            actor=TEACHER, verb={"id": "http://example.jp/verbs/praised"}, object=HANAKO
        ),
        make_statement(actor=TARO),
    )

    assert ids(xapi.query(agent=HANAKO)) == {as_actor, as_object}
    # The name is not part of the identity; the whole account is.
    renamed = {**HANAKO, "name": "Hanako Yamada"}
    assert ids(xapi.query(agent=renamed)) == {as_actor, as_object}
    other_idp = {"account": {"homePage": "https://other-idp.example.jp/", "name": "pupil-hanako"}}
    assert xapi.query(agent=other_idp) == []


def test_agent_by_mbox_ignores_the_case_of_the_domain(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    [statement_id] = xapi.store(make_statement(actor=TEACHER))

    assert xapi.query_ids(agent={"mbox": "mailto:sensei@school.example.jp"}) == [statement_id]
    assert xapi.query_ids(agent={"mbox": "mailto:sensei@School.Example.JP"}) == [statement_id]
    assert xapi.query(agent={"mbox": "mailto:other@school.example.jp"}) == []
    assert xapi.query(agent={"mbox_sha1sum": "0" * 40}) == []


def test_agent_matches_an_identified_group_as_actor(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    group = {"objectType": "Group", "name": "4年2組", "mbox": "mailto:4-2@school.example.jp"}
    statement_id, _ = xapi.store(make_statement(actor=group), make_statement())

    assert xapi.query_ids(agent={"objectType": "Group", "mbox": group["mbox"]}) == [statement_id]


def test_agent_without_related_agents_ignores_context_agents(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    xapi.store(make_statement(actor=HANAKO, context={"instructor": TEACHER}))

    assert xapi.query(agent=TEACHER) == []


# --- verb, activity, registration ----------------------------------------------------------------


def test_verb_filter(xapi: Lrs, make_statement: MakeStatement) -> None:
    completed, _attempted = xapi.store(
        make_statement(verb=COMPLETED), make_statement(verb=ATTEMPTED)
    )

    assert xapi.query_ids(verb=COMPLETED["id"]) == [completed]
    assert xapi.query(verb="http://example.jp/verbs/never-used") == []


def test_activity_filter_matches_the_object_only(xapi: Lrs, make_statement: MakeStatement) -> None:
    maths, _science, _in_context = xapi.store(
        make_statement(object=MATHS),
        make_statement(object=SCIENCE),
        make_statement(object=SCIENCE, context={"contextActivities": {"parent": [MATHS]}}),
    )

    assert xapi.query_ids(activity=MATHS["id"]) == [maths]


def test_registration_filter(xapi: Lrs, make_statement: MakeStatement) -> None:
    registration = new_id()
    registered, _other, _none = xapi.store(
        make_statement(context={"registration": registration}),
        make_statement(context={"registration": new_id()}),
        make_statement(),
    )

    assert xapi.query_ids(registration=registration) == [registered]
    assert xapi.query_ids(registration=registration.upper()) == [registered]


def test_filters_combine(xapi: Lrs, make_statement: MakeStatement) -> None:
    wanted, *_ = xapi.store(
        make_statement(actor=HANAKO, verb=COMPLETED, object=MATHS),
        make_statement(actor=HANAKO, verb=ATTEMPTED, object=MATHS),
        make_statement(actor=TARO, verb=COMPLETED, object=MATHS),
        make_statement(actor=HANAKO, verb=COMPLETED, object=SCIENCE),
    )

    found = xapi.query_ids(agent=HANAKO, verb=COMPLETED["id"], activity=MATHS["id"])

    assert found == [wanted]


# --- related_activities and related_agents -------------------------------------------------------


def test_related_activities_matches_context_activities_and_substatements(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    substatement = {
        "objectType": "SubStatement",
        "actor": TARO,
        "verb": COMPLETED,
        "object": COURSE,
    }
    sub_context = {
        "objectType": "SubStatement",
        "actor": TARO,
        "verb": COMPLETED,
        "object": MATHS,
        "context": {"contextActivities": {"category": COURSE}},
    }
    found = xapi.store(
        make_statement(object=COURSE),
        make_statement(object=MATHS, context={"contextActivities": {"parent": [COURSE]}}),
        make_statement(object=MATHS, context={"contextActivities": {"grouping": COURSE}}),
        make_statement(object=MATHS, context={"contextActivities": {"category": [COURSE]}}),
        make_statement(object=MATHS, context={"contextActivities": {"other": [SCIENCE, COURSE]}}),
        make_statement(
            actor=HANAKO, verb={"id": "http://example.jp/verbs/planned"}, object=substatement
        ),
        make_statement(
            actor=HANAKO, verb={"id": "http://example.jp/verbs/planned"}, object=sub_context
        ),
    )
    [unrelated] = xapi.store(make_statement(object=SCIENCE))

    assert ids(xapi.query(activity=COURSE["id"], related_activities=True)) == set(found)
    assert xapi.query_ids(activity=COURSE["id"], related_activities=False) == [found[0]]
    assert unrelated not in ids(xapi.query(activity=COURSE["id"], related_activities=True))


def test_related_agents_matches_instructor_team_and_substatement_agents(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    team = {"objectType": "Group", "name": "4年2組", "member": [TARO, TEACHER]}
    substatement = {
        "objectType": "SubStatement",
        "actor": TEACHER,
        "verb": COMPLETED,
        "object": MATHS,
    }
    sub_object = {"objectType": "SubStatement", "actor": TARO, "verb": COMPLETED, "object": TEACHER}
    found = xapi.store(
        make_statement(actor=TEACHER),
        make_statement(actor=HANAKO, context={"instructor": TEACHER}),
        make_statement(actor=HANAKO, context={"team": team}),
        make_statement(
            actor=HANAKO, verb={"id": "http://example.jp/verbs/saw"}, object=substatement
        ),
        make_statement(actor=HANAKO, verb={"id": "http://example.jp/verbs/saw"}, object=sub_object),
    )
    xapi.store(make_statement(actor=JIRO, context={"instructor": HANAKO}))

    assert ids(xapi.query(agent=TEACHER, related_agents=True)) == set(found)
    assert xapi.query_ids(agent=TEACHER) == [found[0]]


def test_related_agents_matches_the_authority_the_lrs_set(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    [statement_id] = xapi.store(make_statement())
    authority = xapi.statement(statement_id)["authority"]
    assert authority["account"]["homePage"] == SERVICE_URL

    assert xapi.query_ids(agent=authority, related_agents=True) == [statement_id]


def test_related_agents_ignores_an_authority_the_lrs_replaced(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    claimed = {"objectType": "Agent", "mbox": "mailto:principal@school.example.jp"}
    [statement_id] = xapi.store(make_statement(authority=claimed))
    assert "mbox" not in xapi.statement(statement_id)["authority"]

    assert xapi.query(agent=claimed, related_agents=True) == []


# --- since, until, ascending, limit ------------------------------------------------------------


def test_since_is_exclusive_and_until_inclusive(xapi: Lrs, make_statement: MakeStatement) -> None:
    first, second, third = store_one_by_one(xapi, [make_statement() for _ in range(3)])
    t1, t2 = stored_at(xapi, first), stored_at(xapi, second)
    assert t1 < t2

    assert ids(xapi.query(since=t1.isoformat())) == {second, third}
    assert ids(xapi.query(until=t2.isoformat())) == {first, second}
    assert xapi.query_ids(since=t1.isoformat(), until=t2.isoformat()) == [second]
    assert xapi.query(since=(datetime.now(UTC) + timedelta(hours=1)).isoformat()) == []


def test_since_and_until_in_another_time_zone_mean_the_same_instants(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    first, second, third = store_one_by_one(xapi, [make_statement() for _ in range(3)])
    t1 = stored_at(xapi, first).astimezone(JST)
    t2 = stored_at(xapi, second).astimezone(JST)

    assert ids(xapi.query(since=t1.isoformat())) == {second, third}
    assert ids(xapi.query(until=t2.isoformat())) == {first, second}


def test_order_is_newest_first_unless_ascending(xapi: Lrs, make_statement: MakeStatement) -> None:
    stored = store_one_by_one(xapi, [make_statement() for _ in range(4)])
    batch = xapi.store(make_statement(), make_statement())

    assert xapi.query_ids() == (stored + batch)[::-1]
    assert xapi.query_ids(ascending=True) == stored + batch
    assert xapi.query_ids(ascending=False) == (stored + batch)[::-1]


def test_limit(xapi: Lrs, make_statement: MakeStatement) -> None:
    stored = xapi.store(*[make_statement() for _ in range(5)])

    response = xapi.get(limit=2)
    body = response.get_json()
    assert [st["id"] for st in body["statements"]] == stored[::-1][:2]
    assert body["more"] != ""
    # limit=0 means the server's own maximum.
    assert len(xapi.query(limit=0)) == 5


# --- paging ------------------------------------------------------------------------------------


@pytest.mark.parametrize("ascending", [False, True])
def test_more_links_page_through_everything_once(
    xapi: Lrs, make_statement: MakeStatement, ascending: bool
) -> None:
    stored = store_one_by_one(xapi, [make_statement() for _ in range(4)])
    stored += xapi.store(*[make_statement() for _ in range(4)])

    pages = xapi.pages(limit=3, ascending=ascending)

    assert [len(page) for page in pages] == [3, 3, 2]
    got = [st["id"] for page in pages for st in page]
    assert got == (stored if ascending else stored[::-1])


def test_more_links_keep_the_filters(xapi: Lrs, make_statement: MakeStatement) -> None:
    hanako = xapi.store(*[make_statement(actor=HANAKO) for _ in range(5)])
    xapi.store(*[make_statement(actor=TARO) for _ in range(5)])

    pages = xapi.pages(agent=HANAKO, limit=2, format="ids")

    assert [st["id"] for page in pages for st in page] == hanako[::-1]
    assert all(set(st["verb"]) == {"id"} for page in pages for st in page)


def test_statements_stored_while_paging_do_not_enter_later_pages(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    before = xapi.store(*[make_statement() for _ in range(4)])
    first_page = xapi.get(limit=2, ascending=True)
    [later] = xapi.store(make_statement())

    pages = xapi.collect(first_page)

    assert [st["id"] for page in pages for st in page] == before
    assert xapi.query_ids(ascending=True)[-1] == later


def test_an_empty_result_has_no_more_link(xapi: Lrs) -> None:
    assert xapi.get().get_json() == {"statements": [], "more": ""}


def test_a_more_token_not_issued_by_the_lrs_is_refused(xapi: Lrs) -> None:
    assert_error(xapi.get(more="bm90LWEtdG9rZW4"), 400)
    assert_error(xapi.get(more="%%%"), 400)


# --- formats -----------------------------------------------------------------------------------


def test_format_ids_keeps_only_identifiers(xapi: Lrs, make_statement: MakeStatement) -> None:
    [statement_id] = xapi.store(
        make_statement(
            actor=HANAKO,
            context={"instructor": TEACHER, "contextActivities": {"parent": [COURSE]}},
        )
    )

    [got] = xapi.query(format="ids")

    assert got["id"] == statement_id
    assert got["actor"] == {"objectType": "Agent", "account": HANAKO["account"]}
    assert got["verb"] == {"id": "http://adlnet.gov/expapi/verbs/completed"}
    assert got["object"] == {"id": "https://contents.example.jp/math/p4/fractions/unit-1"}
    assert got["context"]["instructor"] == {"objectType": "Agent", "mbox": TEACHER["mbox"]}
    assert got["context"]["contextActivities"] == {"parent": [{"id": COURSE["id"]}]}
    assert xapi.statement(statement_id, format="ids") == got


@pytest.mark.parametrize(
    ("accept_language", "verb", "name"),
    [
        ("ja", {"ja": "完了した"}, {"ja": "分数 第1単元"}),
        ("en", {"en-US": "completed"}, {"en": "Fractions unit 1"}),
        ("fr, en-GB;q=0.8", {"en-US": "completed"}, {"en": "Fractions unit 1"}),
    ],
)
def test_format_canonical_keeps_one_language_by_accept_language(
    xapi: Lrs,
    make_statement: MakeStatement,
    accept_language: str,
    verb: dict[str, str],
    name: dict[str, str],
) -> None:
    [statement_id] = xapi.store(make_statement())
    headers = {**xapi.headers, "Accept-Language": accept_language}

    listed = xapi.client.get(STATEMENTS, query_string={"format": "canonical"}, headers=headers)
    single = xapi.client.get(
        STATEMENTS,
        query_string={"format": "canonical", "statementId": statement_id},
        headers=headers,
    )

    for got in (listed.get_json()["statements"][0], single.get_json()):
        assert got["verb"]["display"] == verb
        assert got["object"]["definition"]["name"] == name


def test_format_canonical_without_a_matching_language_still_keeps_one(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    xapi.store(make_statement())
    headers = {**xapi.headers, "Accept-Language": "fr"}

    response = xapi.client.get(STATEMENTS, query_string={"format": "canonical"}, headers=headers)

    [got] = response.get_json()["statements"]
    assert got["verb"]["display"].items() <= {"ja": "完了した", "en-US": "completed"}.items()
    assert len(got["verb"]["display"]) == 1
    name = got["object"]["definition"]["name"]
    assert name.items() <= {"ja": "分数 第1単元", "en": "Fractions unit 1"}.items()
    assert len(name) == 1


def test_format_exact_is_the_default(xapi: Lrs, make_statement: MakeStatement) -> None:
    [statement_id] = xapi.store(make_statement())

    assert xapi.query(format="exact") == xapi.query()
    assert xapi.query()[0]["verb"]["display"] == {"ja": "完了した", "en-US": "completed"}
    assert xapi.statement(statement_id, format="exact") == xapi.query()[0]


def test_unknown_format_is_refused(xapi: Lrs) -> None:
    assert_error(xapi.get(format="full"), 400)


# --- StatementRef targets ----------------------------------------------------------------------


@pytest.mark.parametrize("target_first", [True, False], ids=["target-first", "referrer-first"])
def test_statements_referring_to_a_match_are_returned_too(
    xapi: Lrs, make_statement: MakeStatement, target_first: bool
) -> None:
    target_id, referrer_id, second_id = new_id(), new_id(), new_id()
    target = make_statement(id=target_id, actor=HANAKO, verb=COMPLETED, object=MATHS)
    referrer = make_statement(
        id=referrer_id,
        actor=TEACHER,
        verb={"id": "http://example.jp/verbs/reviewed"},
        object=statement_ref(target_id),
    )
    second = make_statement(
        id=second_id,
        actor=JIRO,
        verb={"id": "http://example.jp/verbs/liked"},
        object=statement_ref(referrer_id),
    )
    order = [target, referrer, second] if target_first else [second, referrer, target]
    store_one_by_one(xapi, order)
    xapi.store(make_statement(actor=TARO, verb=ATTEMPTED, object=SCIENCE))

    everything = {target_id, referrer_id, second_id}
    assert ids(xapi.query(activity=MATHS["id"])) == everything
    assert ids(xapi.query(agent=HANAKO)) == everything
    assert ids(xapi.query(verb=COMPLETED["id"])) == everything
    assert ids(xapi.query(agent=TEACHER)) == {referrer_id, second_id}


def test_voiding_statement_is_found_by_the_voided_statements_filters(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    """Communication 2.1.4: the voided statement is not returned, but statements targeting
    it are, the voiding statement included."""
    [target] = xapi.store(make_statement(actor=HANAKO, object=MATHS))
    [voider] = xapi.store(voiding(target, id=new_id()))

    assert xapi.query_ids(activity=MATHS["id"]) == [voider]
    assert xapi.query_ids(agent=HANAKO) == [voider]


def test_referrer_sent_without_an_id_is_found_by_its_targets_filters(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    [target] = xapi.store(make_statement(actor=HANAKO, object=MATHS))
    referrer = make_statement(
        actor=TEACHER, verb={"id": "http://example.jp/verbs/reviewed"}, object=statement_ref(target)
    )
    [referrer_id] = xapi.store(referrer)

    assert ids(xapi.query(activity=MATHS["id"])) == {target, referrer_id}


@pytest.mark.parametrize("order", ["target-first", "referrer-first"])
def test_a_batch_holding_a_target_and_its_referrer_indexes_each_term_once(
    xapi: Lrs,
    make_statement: MakeStatement,
    stored_counts: Callable[[], dict[str, int]],
    order: str,
) -> None:
    """The referrer inherits its target's index terms once, not once per way it was found
    (it is both in the batch and, once the batch is inserted, a stored referrer)."""
    target_id = new_id()
    target = make_statement(id=target_id, actor=HANAKO, verb=COMPLETED, object=MATHS)
    referrer = make_statement(
        actor=TEACHER,
        verb={"id": "http://example.jp/verbs/reviewed"},
        object=statement_ref(target_id),
    )
    before = stored_counts()["statement_index"]
    batch = [target, referrer] if order == "target-first" else [referrer, target]
    [_, _] = xapi.store(*batch)
    separately = stored_counts()["statement_index"] - before

    target_2 = make_statement(id=new_id(), actor=HANAKO, verb=COMPLETED, object=MATHS)
    referrer_2 = make_statement(
        actor=TEACHER,
        verb={"id": "http://example.jp/verbs/reviewed"},
        object=statement_ref(target_2["id"]),
    )
    before = stored_counts()["statement_index"]
    xapi.store(target_2)
    xapi.store(referrer_2)
    assert separately == stored_counts()["statement_index"] - before
    assert ids(xapi.query(activity=MATHS["id"])) >= {target_id, target_2["id"]}


def test_voiding_statement_sent_without_an_id_is_found_by_the_voided_statements_filters(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    [target] = xapi.store(make_statement(actor=HANAKO, object=MATHS))
    [voider] = xapi.store(voiding(target))

    assert xapi.query_ids(activity=MATHS["id"]) == [voider]


# --- single statements -------------------------------------------------------------------------


def test_unknown_statement_id_is_404(xapi: Lrs) -> None:
    assert_error(xapi.get(statementId=new_id()), 404)


def test_statement_id_is_case_insensitive(xapi: Lrs, make_statement: MakeStatement) -> None:
    [statement_id] = xapi.store(make_statement())

    assert xapi.statement(statement_id.upper())["id"] == statement_id


# --- headers and HEAD --------------------------------------------------------------------------


def test_consistent_through_and_last_modified_headers(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    older, newer = store_one_by_one(xapi, [make_statement(), make_statement()])
    newest_stored = stored_at(xapi, newer)

    response = xapi.get()

    through = datetime.fromisoformat(response.headers["X-Experience-API-Consistent-Through"])
    assert through >= newest_stored
    last_modified = parse_date(response.headers["Last-Modified"])
    assert last_modified == newest_stored.replace(microsecond=0)

    single = xapi.get(statementId=older)
    assert parse_date(single.headers["Last-Modified"]) == stored_at(xapi, older).replace(
        microsecond=0
    )
    assert "X-Experience-API-Consistent-Through" in single.headers


@pytest.mark.parametrize("status", [200, 400, 404])
def test_every_statements_get_says_how_current_it_is(
    xapi: Lrs, make_statement: MakeStatement, status: int
) -> None:
    """Communication 2.1.3: every GET of the statement resource, errors included, carries
    X-Experience-API-Consistent-Through (writes do not need it, and skip its cost)."""
    xapi.store(make_statement())
    response = {
        200: lambda: xapi.get(),
        400: lambda: xapi.get(nonsense="1"),
        404: lambda: xapi.get(statementId=new_id()),
    }[status]()

    assert response.status_code == status
    through = datetime.fromisoformat(response.headers["X-Experience-API-Consistent-Through"])
    assert through.tzinfo is not None
    assert response.headers["X-Experience-API-Version"] == "1.0.3"


@pytest.mark.parametrize("single", [False, True])
def test_head_answers_like_get_without_a_body(
    xapi: Lrs, make_statement: MakeStatement, single: bool
) -> None:
    [statement_id] = xapi.store(make_statement())
    params = {"statementId": statement_id} if single else {}

    got = xapi.get(**params)
    head = xapi.client.head(STATEMENTS, query_string=params, headers=xapi.headers)

    assert head.status_code == 200
    assert head.get_data() == b""
    assert head.mimetype == got.mimetype == "application/json"
    assert head.headers["Last-Modified"] == got.headers["Last-Modified"]
    assert "X-Experience-API-Consistent-Through" in head.headers


# --- bad queries -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"nonsense": "1"},
        {"Agent": '{"mbox": "mailto:a@example.jp"}'},
        {"limit": "-1"},
        {"limit": "ten"},
        {"ascending": "yes"},
        {"related_agents": "1"},
        {"since": "yesterday"},
        {"until": "2024-13-01T00:00:00Z"},
        {"verb": "not an iri"},
        {"activity": "not an iri"},
        {"registration": "not-a-uuid"},
        {"agent": "not json"},
        {"agent": '{"name": "no identifier"}'},
        {"agent": '{"mbox": "hanako@example.jp"}'},
        {"agent": '{"objectType": "Group", "member": [{"mbox": "mailto:a@example.jp"}]}'},
        {"attachments": "maybe"},
    ],
    ids=lambda params: "&".join(f"{k}={v}" for k, v in params.items()),
)
def test_malformed_query_is_refused(xapi: Lrs, params: dict[str, str]) -> None:
    assert_error(xapi.get(**params), 400)


@pytest.mark.parametrize(
    "extra",
    [
        {"verb": COMPLETED["id"]},
        {"limit": "1"},
        {"ascending": "true"},
        {"since": "2024-01-01T00:00:00Z"},
    ],
)
def test_statement_id_with_query_parameters_is_refused(
    xapi: Lrs, make_statement: MakeStatement, extra: dict[str, str]
) -> None:
    [statement_id] = xapi.store(make_statement())

    assert_error(xapi.get(statementId=statement_id, **extra), 400)
    assert_error(xapi.get(voidedStatementId=statement_id, **extra), 400)


def test_statement_id_and_voided_statement_id_together_are_refused(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    [statement_id] = xapi.store(make_statement())

    assert_error(xapi.get(statementId=statement_id, voidedStatementId=statement_id), 400)


def test_a_parameter_given_twice_is_refused(xapi: Lrs) -> None:
    response = xapi.client.get(
        f"{STATEMENTS}?verb=http://a.example/v&verb=http://b.example/v", headers=xapi.headers
    )
    assert_error(response, 400)
