"""The document resources (state, activity profile, agent profile), /activities, /agents, /about."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.api.lrs_client import (
    Lrs,
    activity,
    agent,
    assert_error,
    encode_params,
    new_id,
)

MakeStatement = Callable[..., dict[str, Any]]

STATE = "/xapi/activities/state"
ACTIVITY_PROFILE = "/xapi/activities/profile"
AGENT_PROFILE = "/xapi/agents/profile"
LESSON = "https://contents.example.jp/math/p4/fractions/unit-1"
OTHER_LESSON = "https://contents.example.jp/math/p4/fractions/unit-2"
HANAKO = agent("pupil-hanako")
TARO = agent("pupil-taro")
JSON = "application/json"
JST = timezone(timedelta(hours=9))


class Documents:
    """Requests to one document resource, with the parameters that address a document."""

    def __init__(self, xapi: Lrs, path: str, **address: Any) -> None:
        self.xapi = xapi
        self.path = path
        self.address = address

    def _open(
        self,
        method: str,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> TestResponse:
        all_headers = {**self.xapi.headers, **(headers or {})}
        if content_type is not None:
            all_headers["Content-Type"] = content_type
        return self.xapi.client.open(
            self.path,
            method=method,
            query_string=encode_params({**self.address, **params}),
            data=body,
            headers=all_headers,
        )

    def put(
        self,
        doc: Any,
        content_type: str = JSON,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> TestResponse:
        return self._open("PUT", _bytes(doc), content_type, headers, **params)

    def post(
        self,
        doc: Any,
        content_type: str = JSON,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> TestResponse:
        return self._open("POST", _bytes(doc), content_type, headers, **params)

    def get(self, **params: Any) -> TestResponse:
        return self._open("GET", **params)

    def delete(self, headers: dict[str, str] | None = None, **params: Any) -> TestResponse:
        return self._open("DELETE", headers=headers, **params)

    def ids(self, **params: Any) -> list[str]:
        response = self.get(**params)
        assert response.status_code == 200, response.get_data(as_text=True)
        ids: list[str] = response.get_json()
        return sorted(ids)


def param(name: str, value: str) -> dict[str, Any]:
    """{name: value}, to pass a parameter whose name varies by resource."""
    return {name: value}


def _bytes(doc: Any) -> bytes:
    return doc if isinstance(doc, bytes) else json.dumps(doc, ensure_ascii=False).encode("utf-8")


def etag_of(content: bytes) -> str:
    return '"' + hashlib.sha1(content, usedforsecurity=False).hexdigest() + '"'


@pytest.fixture
def state(xapi: Lrs) -> Documents:
    return Documents(xapi, STATE, activityId=LESSON, agent=HANAKO)


@pytest.fixture
def activity_profile(xapi: Lrs) -> Documents:
    return Documents(xapi, ACTIVITY_PROFILE, activityId=LESSON)


@pytest.fixture
def agent_profile(xapi: Lrs) -> Documents:
    return Documents(xapi, AGENT_PROFILE, agent=HANAKO)


@pytest.fixture(params=["activity_profile", "agent_profile"])
def profile(request: pytest.FixtureRequest) -> Documents:
    documents: Documents = request.getfixturevalue(request.param)
    return documents


@pytest.fixture(params=["state", "activity_profile", "agent_profile"])
def any_resource(request: pytest.FixtureRequest) -> tuple[Documents, str]:
    """Each document resource, with the name of its id parameter."""
    documents: Documents = request.getfixturevalue(request.param)
    return documents, "stateId" if request.param == "state" else "profileId"


# --- state -------------------------------------------------------------------------------------


def test_state_put_then_get_returns_the_same_bytes_and_type(state: Documents) -> None:
    content = "ページ 12 まで読んだ".encode()

    response = state.put(content, "text/plain; charset=utf-8", stateId="bookmark")

    assert response.status_code == 204
    assert response.headers["ETag"] == etag_of(content)
    got = state.get(stateId="bookmark")
    assert got.status_code == 200
    assert got.get_data() == content
    assert got.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert got.headers["ETag"] == etag_of(content)
    assert "Last-Modified" in got.headers


def test_state_put_replaces_without_preconditions(state: Documents) -> None:
    assert state.put({"page": 1}, stateId="bookmark").status_code == 204
    assert state.put({"chapter": 2}, stateId="bookmark").status_code == 204

    assert state.get(stateId="bookmark").get_json() == {"chapter": 2}


def test_state_post_merges_top_level_properties(state: Documents) -> None:
    state.put({"page": 1, "notes": {"a": 1}, "done": False}, stateId="progress")

    response = state.post({"notes": {"b": 2}, "done": True, "score": 0.5}, stateId="progress")

    assert response.status_code == 204
    merged = {"page": 1, "notes": {"b": 2}, "done": True, "score": 0.5}
    got = state.get(stateId="progress")
    assert got.get_json() == merged
    assert got.mimetype == JSON
    assert got.headers["ETag"] == response.headers["ETag"] == etag_of(got.get_data())


def test_state_post_creates_a_missing_document(state: Documents) -> None:
    assert state.post({"page": 3}, stateId="new").status_code == 204

    assert state.get(stateId="new").get_json() == {"page": 3}


def test_state_delete_one_document(state: Documents) -> None:
    state.put({"page": 1}, stateId="bookmark")
    state.put({"page": 2}, stateId="keep")

    assert state.delete(stateId="bookmark").status_code == 204

    assert_error(state.get(stateId="bookmark"), 404)
    assert state.ids() == ["keep"]
    assert state.delete(stateId="bookmark").status_code == 204  # already gone is fine


def test_state_ids_with_since(state: Documents) -> None:
    state.put({"n": 1}, stateId="first")
    middle = datetime.now(UTC)
    state.put({"n": 2}, stateId="second")
    state.put({"n": 3}, stateId="third")

    assert state.ids() == ["first", "second", "third"]
    assert state.ids(since=middle.isoformat()) == ["second", "third"]
    assert state.ids(since=(middle + timedelta(hours=1)).isoformat()) == []


def test_document_ids_since_in_another_time_zone(any_resource: tuple[Documents, str]) -> None:
    documents, id_param = any_resource
    documents.put({"n": 1}, headers={"If-None-Match": "*"}, **param(id_param, "first"))
    middle = datetime.now(UTC)
    documents.put({"n": 2}, headers={"If-None-Match": "*"}, **param(id_param, "second"))

    assert documents.ids(since=middle.astimezone(JST).isoformat()) == ["second"]
    assert documents.ids(since=(middle - timedelta(hours=1)).astimezone(JST).isoformat()) == [
        "first",
        "second",
    ]


def test_state_delete_all_of_an_activity_and_agent(xapi: Lrs, state: Documents) -> None:
    other_agent = Documents(xapi, STATE, activityId=LESSON, agent=TARO)
    other_activity = Documents(xapi, STATE, activityId=OTHER_LESSON, agent=HANAKO)
    for documents in (state, other_agent, other_activity):
        documents.put({"page": 1}, stateId="a")
        documents.put({"page": 2}, stateId="b")

    assert state.delete().status_code == 204

    assert state.ids() == []
    assert other_agent.ids() == ["a", "b"]
    assert other_activity.ids() == ["a", "b"]


def test_state_is_scoped_by_registration(state: Documents) -> None:
    registration = new_id()
    state.put({"where": "none"}, stateId="progress")
    state.put({"where": "registered"}, stateId="progress", registration=registration)

    assert state.get(stateId="progress").get_json() == {"where": "none"}
    assert state.get(stateId="progress", registration=registration).get_json() == {
        "where": "registered"
    }
    assert_error(state.get(stateId="progress", registration=new_id()), 404)
    assert state.ids(registration=registration) == ["progress"]

    assert state.delete(registration=registration).status_code == 204
    assert state.ids(registration=registration) == []
    assert state.get(stateId="progress").get_json() == {"where": "none"}


def test_state_delete_all_without_registration_removes_every_registration(
    state: Documents,
) -> None:
    registration = new_id()
    state.put({"n": 1}, stateId="plain")
    state.put({"n": 2}, stateId="registered", registration=registration)

    assert state.delete().status_code == 204

    assert_error(state.get(stateId="registered", registration=registration), 404)


def test_state_agent_is_identified_by_its_ifi_not_its_name(xapi: Lrs, state: Documents) -> None:
    state.put({"page": 9}, stateId="bookmark")
    renamed = Documents(xapi, STATE, activityId=LESSON, agent={**HANAKO, "name": "別名"})

    assert renamed.get(stateId="bookmark").get_json() == {"page": 9}


@pytest.mark.parametrize(
    "params",
    [
        {"agent": HANAKO, "stateId": "x"},
        {"activityId": LESSON, "stateId": "x"},
        {"activityId": "not an iri", "agent": HANAKO, "stateId": "x"},
        {"activityId": LESSON, "agent": "not json", "stateId": "x"},
        {"activityId": LESSON, "agent": {"name": "no ifi"}, "stateId": "x"},
        {"activityId": LESSON, "agent": HANAKO, "stateId": "x", "registration": "nope"},
        {"activityId": LESSON, "agent": HANAKO, "stateId": "x", "since": "2024-01-01T00:00:00Z"},
        {"activityId": LESSON, "agent": HANAKO, "since": "not a time"},
        {"activityId": LESSON, "agent": HANAKO, "stateId": "x", "profileId": "y"},
    ],
    ids=[
        "no-activity",
        "no-agent",
        "bad-activity",
        "agent-not-json",
        "agent-without-ifi",
        "bad-registration",
        "since-with-id",
        "bad-since",
        "unknown-parameter",
    ],
)
def test_state_request_with_bad_parameters_is_refused(xapi: Lrs, params: dict[str, Any]) -> None:
    assert_error(xapi.get(STATE, **params), 400)


# --- behaviour shared by the three document resources ------------------------------------------


def test_post_of_non_json_onto_a_json_document_is_refused(
    any_resource: tuple[Documents, str],
) -> None:
    documents, id_param = any_resource
    documents.put({"a": 1}, headers={"If-None-Match": "*"}, **param(id_param, "doc"))

    response = documents.post(b"plain words", "text/plain", **param(id_param, "doc"))

    assert_error(response, 400)
    assert documents.get(**param(id_param, "doc")).get_json() == {"a": 1}


def test_post_of_json_onto_a_non_json_document_is_refused(
    any_resource: tuple[Documents, str],
) -> None:
    documents, id_param = any_resource
    documents.put(b"\x89PNG", "image/png", headers={"If-None-Match": "*"}, **param(id_param, "doc"))

    assert_error(documents.post({"a": 1}, **param(id_param, "doc")), 400)
    assert documents.get(**param(id_param, "doc")).get_data() == b"\x89PNG"


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"{not json", b""])
def test_post_of_json_that_is_not_an_object_is_refused(
    any_resource: tuple[Documents, str], body: bytes
) -> None:
    documents, id_param = any_resource
    documents.put({"a": 1}, headers={"If-None-Match": "*"}, **param(id_param, "doc"))

    assert_error(documents.post(body, **param(id_param, "doc")), 400)
    assert documents.get(**param(id_param, "doc")).get_json() == {"a": 1}


def test_put_of_malformed_json_is_refused(any_resource: tuple[Documents, str]) -> None:
    documents, id_param = any_resource

    response = documents.put(b"{oops", headers={"If-None-Match": "*"}, **param(id_param, "doc"))

    assert_error(response, 400)
    assert_error(documents.get(**param(id_param, "doc")), 404)


def test_unknown_document_is_404(any_resource: tuple[Documents, str]) -> None:
    documents, id_param = any_resource

    assert_error(documents.get(**param(id_param, "never-stored")), 404)


def test_write_without_a_document_id_is_refused(any_resource: tuple[Documents, str]) -> None:
    documents, _ = any_resource

    assert_error(documents.put({"a": 1}, headers={"If-None-Match": "*"}), 400)
    assert_error(documents.post({"a": 1}), 400)


# --- activity and agent profiles: concurrency --------------------------------------------------


def test_profile_put_of_a_new_document_needs_a_precondition(profile: Documents) -> None:
    assert_error(profile.put({"v": 1}, profileId="settings"), 400)
    assert_error(profile.get(profileId="settings"), 404)

    created = profile.put({"v": 1}, headers={"If-None-Match": "*"}, profileId="settings")

    assert created.status_code == 204
    assert created.headers["ETag"] == etag_of(_bytes({"v": 1}))


def test_profile_put_over_an_existing_document_without_precondition_conflicts(
    profile: Documents,
) -> None:
    profile.put({"v": 1}, headers={"If-None-Match": "*"}, profileId="settings")

    assert_error(profile.put({"v": 2}, profileId="settings"), 409)
    assert profile.get(profileId="settings").get_json() == {"v": 1}


def test_profile_put_with_if_match(profile: Documents) -> None:
    profile.put({"v": 1}, headers={"If-None-Match": "*"}, profileId="settings")
    etag = profile.get(profileId="settings").headers["ETag"]

    stale = profile.put({"v": 2}, headers={"If-Match": etag_of(b"other")}, profileId="settings")
    assert_error(stale, 412)
    assert profile.get(profileId="settings").get_json() == {"v": 1}

    fresh = profile.put({"v": 3}, headers={"If-Match": etag}, profileId="settings")
    assert fresh.status_code == 204
    assert profile.get(profileId="settings").get_json() == {"v": 3}
    assert fresh.headers["ETag"] != etag


def test_profile_if_none_match_star_refuses_to_overwrite(profile: Documents) -> None:
    profile.put({"v": 1}, headers={"If-None-Match": "*"}, profileId="settings")

    response = profile.put({"v": 2}, headers={"If-None-Match": "*"}, profileId="settings")

    assert_error(response, 412)
    assert profile.get(profileId="settings").get_json() == {"v": 1}


def test_profile_if_match_on_a_missing_document_fails(profile: Documents) -> None:
    response = profile.put({"v": 1}, headers={"If-Match": etag_of(b"x")}, profileId="settings")

    assert_error(response, 412)
    assert_error(profile.get(profileId="settings"), 404)


def test_profile_post_checks_if_match_and_merges(profile: Documents) -> None:
    profile.put({"a": 1, "b": 1}, headers={"If-None-Match": "*"}, profileId="settings")
    etag = profile.get(profileId="settings").headers["ETag"]

    assert_error(
        profile.post({"b": 2}, headers={"If-Match": etag_of(b"x")}, profileId="settings"), 412
    )
    assert (
        profile.post({"b": 2, "c": 3}, headers={"If-Match": etag}, profileId="settings").status_code
        == 204
    )

    assert profile.get(profileId="settings").get_json() == {"a": 1, "b": 2, "c": 3}


def test_profile_post_without_precondition_merges(profile: Documents) -> None:
    assert profile.post({"a": 1}, profileId="settings").status_code == 204
    assert profile.post({"b": 2}, profileId="settings").status_code == 204

    assert profile.get(profileId="settings").get_json() == {"a": 1, "b": 2}


def test_profile_delete_checks_if_match(profile: Documents) -> None:
    profile.put({"v": 1}, headers={"If-None-Match": "*"}, profileId="settings")
    etag = profile.get(profileId="settings").headers["ETag"]

    assert_error(profile.delete(headers={"If-Match": etag_of(b"x")}, profileId="settings"), 412)
    assert profile.get(profileId="settings").status_code == 200

    assert profile.delete(headers={"If-Match": etag}, profileId="settings").status_code == 204
    assert_error(profile.get(profileId="settings"), 404)


def test_profile_delete_needs_a_profile_id(profile: Documents) -> None:
    profile.put({"v": 1}, headers={"If-None-Match": "*"}, profileId="settings")

    assert_error(profile.delete(), 400)
    assert profile.ids() == ["settings"]


def test_profile_ids_with_since(profile: Documents) -> None:
    profile.put({"v": 1}, headers={"If-None-Match": "*"}, profileId="old")
    middle = datetime.now(UTC)
    profile.put({"v": 1}, headers={"If-None-Match": "*"}, profileId="new")

    assert profile.ids() == ["new", "old"]
    assert profile.ids(since=middle.isoformat()) == ["new"]


def test_profiles_are_kept_per_activity_and_per_agent(xapi: Lrs) -> None:
    for path, address in (
        (ACTIVITY_PROFILE, {"activityId": LESSON}),
        (ACTIVITY_PROFILE, {"activityId": OTHER_LESSON}),
        (AGENT_PROFILE, {"agent": HANAKO}),
        (AGENT_PROFILE, {"agent": TARO}),
    ):
        documents = Documents(xapi, path, **address)
        documents.put({"owner": json.dumps(address)}, headers={"If-None-Match": "*"}, profileId="p")

    got = Documents(xapi, AGENT_PROFILE, agent=TARO).get(profileId="p").get_json()
    assert got == {"owner": json.dumps({"agent": TARO})}
    got = Documents(xapi, ACTIVITY_PROFILE, activityId=LESSON).get(profileId="p").get_json()
    assert got == {"owner": json.dumps({"activityId": LESSON})}


# --- /activities, /agents, /about --------------------------------------------------------------


def test_activities_returns_the_latest_definition(xapi: Lrs, make_statement: MakeStatement) -> None:
    first = activity(
        LESSON,
        name={"ja": "分数 第1単元"},
        description={"ja": "分数の基礎"},
        type="http://adlnet.gov/expapi/activities/lesson",
    )
    later = activity(
        LESSON,
        name={"en": "Fractions unit 1"},
        type="http://adlnet.gov/expapi/activities/module",
    )
    xapi.store(make_statement(object=first))
    xapi.store(make_statement(object=later))

    response = xapi.get("/xapi/activities", activityId=LESSON)

    assert response.status_code == 200
    assert response.get_json() == {
        "objectType": "Activity",
        "id": LESSON,
        "definition": {
            "name": {"ja": "分数 第1単元", "en": "Fractions unit 1"},
            "description": {"ja": "分数の基礎"},
            "type": "http://adlnet.gov/expapi/activities/module",
        },
    }


def test_activities_learns_definitions_from_context_activities(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    course = activity("https://contents.example.jp/courses/p4", name={"ja": "4年 算数"})
    xapi.store(make_statement(context={"contextActivities": {"parent": course}}))

    got = xapi.get("/xapi/activities", activityId=course["id"]).get_json()

    assert got["definition"] == {"name": {"ja": "4年 算数"}}


def test_activities_with_a_huge_number_in_the_definition(
    xapi: Lrs, make_statement: MakeStatement
) -> None:
    extension = "https://example.jp/ext/size"
    xapi.store(make_statement(object=activity(LESSON, extensions={extension: 1e20})))

    response = xapi.get("/xapi/activities", activityId=LESSON)

    assert response.status_code == 200
    assert response.get_json()["definition"]["extensions"] == {extension: 1e20}


def test_activities_without_a_definition_returns_just_the_id(xapi: Lrs) -> None:
    response = xapi.get("/xapi/activities", activityId=OTHER_LESSON)

    assert response.status_code == 200
    assert response.get_json() == {"objectType": "Activity", "id": OTHER_LESSON}


def test_statements_without_define_scope_do_not_change_definitions(
    lrs_as: Callable[..., Lrs], make_statement: MakeStatement
) -> None:
    definer = lrs_as("statements/write define all/read")
    writer = lrs_as("statements/write")
    definer.store(make_statement(object=activity(LESSON, name={"ja": "正式名"})))

    writer.store(make_statement(object=activity(LESSON, name={"ja": "いたずら"})))

    got = definer.get("/xapi/activities", activityId=LESSON).get_json()
    assert got["definition"]["name"] == {"ja": "正式名"}


@pytest.mark.parametrize(
    "params", [{}, {"activityId": "not an iri"}, {"activityId": LESSON, "x": "1"}]
)
def test_activities_with_bad_parameters_is_refused(xapi: Lrs, params: dict[str, str]) -> None:
    assert_error(xapi.get("/xapi/activities", **params), 400)


def test_agents_returns_a_person_object(xapi: Lrs) -> None:
    response = xapi.get("/xapi/agents", agent=HANAKO)

    assert response.status_code == 200
    assert response.get_json() == {
        "objectType": "Person",
        "name": ["pupil-hanako"],
        "account": [HANAKO["account"]],
    }
    mbox = xapi.get("/xapi/agents", agent={"mbox": "mailto:sensei@school.example.jp"}).get_json()
    assert mbox == {"objectType": "Person", "mbox": ["mailto:sensei@school.example.jp"]}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"agent": "not json"},
        {"agent": {"name": "no ifi"}},
        {"agent": {"objectType": "Group", "mbox": "mailto:class@school.example.jp"}},
    ],
    ids=["missing", "not-json", "no-ifi", "group"],
)
def test_agents_with_bad_parameters_is_refused(xapi: Lrs, params: dict[str, Any]) -> None:
    assert_error(xapi.get("/xapi/agents", **params), 400)


def test_about_needs_no_authentication_nor_version_header(client: FlaskClient) -> None:
    response = client.get("/xapi/about")

    assert response.status_code == 200
    body = response.get_json()
    assert "1.0.3" in body["version"]
    assert all(version.startswith("1.0.") for version in body["version"])
    assert isinstance(body.get("extensions", {}), dict)
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
