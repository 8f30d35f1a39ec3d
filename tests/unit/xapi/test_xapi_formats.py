"""format_statement: exact, ids and canonical (Communication 2.1.3), as the suite checks them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from records.errors import InvalidStatementError
from records.xapi import format_statement, parse_statement
from records.xapi.formats import best_language

EN_JA = {"en-US": "answered", "en-GB": "answered (GB)", "ja-JP": "回答した"}
AGENT = {"objectType": "Agent", "name": "xAPI mbox", "mbox": "mailto:agent@adlnet.gov"}
GROUP = {
    "objectType": "Group",
    "name": "Group",
    "mbox": "mailto:group@adlnet.gov",
    "member": [{"objectType": "Agent", "name": "A", "mbox": "mailto:a@adlnet.gov"}],
}
ACTIVITY: dict[str, Any] = {
    "objectType": "Activity",
    "id": "http://www.example.com/unicode/1",
    "definition": {
        "name": {"en-GB": "example meeting", "en-US": "example meeting (US)", "ja-JP": "会議"},
        "description": {"en-US": "An example meeting", "en-GB": "An example meeting (GB)"},
        "type": "http://adlnet.gov/expapi/activities/meeting",
        "moreInfo": "http://virtualmeeting.example.com/345256",
        "interactionType": "likert",
        "correctResponsesPattern": ["likert_3"],
        "scale": [{"id": "likert_3", "description": {"en-US": "Great", "en-GB": "Brilliant"}}],
        "extensions": {"http://example.com/ext": {"en-US": "not a language map to filter"}},
    },
}
STATEMENT: dict[str, Any] = {
    "id": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
    "actor": AGENT,
    "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": EN_JA},
    "object": {
        "objectType": "SubStatement",
        "actor": GROUP,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/reported", "display": EN_JA},
        "object": ACTIVITY,
        "context": {"contextActivities": {"parent": [ACTIVITY]}},
    },
    "context": {
        "instructor": {"name": "先生", "account": {"homePage": "https://x.jp", "name": "T1"}},
        "team": {"objectType": "Group", "name": "Team", "member": [AGENT]},
        "contextActivities": {"category": [ACTIVITY], "other": [{"id": "http://x.jp/o"}]},
        "statement": {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"},
        "extensions": {"http://example.com/ext": 1},
    },
    "result": {"success": True},
    "attachments": [
        {
            "usageType": "http://example.com/usage",
            "display": {"en-US": "Essay", "en-GB": "Essay (GB)"},
            "contentType": "text/plain",
            "length": 3,
            "sha2": "ab" * 32,
            "fileUrl": "http://x.jp/essay.txt",
        }
    ],
    "authority": {
        "objectType": "Agent",
        "name": "LMS",
        "account": {"homePage": "https://x.jp", "name": "lms"},
    },
    "stored": "2025-06-12T01:15:31.000Z",
    "timestamp": "2025-06-12T01:15:30.000Z",
    "version": "1.0.0",
}


def test_the_sample_is_valid() -> None:
    parse_statement(STATEMENT)


def test_exact_is_the_statement_itself() -> None:
    assert format_statement(STATEMENT, "exact") is STATEMENT


def test_ids() -> None:
    before = copy.deepcopy(STATEMENT)
    ids = format_statement(STATEMENT, "ids")
    assert before == STATEMENT, "the input is never changed"
    # What the conformance suite asserts (XAPI-00171)
    assert ids["actor"] == {"objectType": "Agent", "mbox": "mailto:agent@adlnet.gov"}
    assert ids["object"]["actor"] == {"objectType": "Group", "mbox": "mailto:group@adlnet.gov"}
    assert ids["object"]["object"] == {"id": "http://www.example.com/unicode/1"}
    assert ids["verb"] == {"id": "http://adlnet.gov/expapi/verbs/attended"}
    assert ids["object"]["verb"] == {"id": "http://adlnet.gov/expapi/verbs/reported"}
    # and everywhere else
    assert ids["object"]["objectType"] == "SubStatement"
    assert ids["object"]["context"]["contextActivities"] == {
        "parent": [{"id": "http://www.example.com/unicode/1"}]
    }
    assert ids["context"]["instructor"] == {"account": {"homePage": "https://x.jp", "name": "T1"}}
    assert ids["context"]["team"] == {
        "objectType": "Group",
        "member": [{"objectType": "Agent", "mbox": "mailto:agent@adlnet.gov"}],
    }
    assert ids["context"]["contextActivities"] == {
        "category": [{"id": "http://www.example.com/unicode/1"}],
        "other": [{"id": "http://x.jp/o"}],
    }
    assert ids["context"]["statement"] == STATEMENT["context"]["statement"]
    assert ids["context"]["extensions"] == {"http://example.com/ext": 1}
    assert ids["authority"] == {
        "objectType": "Agent",
        "account": {"homePage": "https://x.jp", "name": "lms"},
    }
    for kept in ("id", "result", "attachments", "stored", "timestamp", "version"):
        assert ids[kept] == STATEMENT[kept]


def test_ids_of_other_objects() -> None:
    ref = {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}
    assert format_statement({**STATEMENT, "object": ref}, "ids")["object"] == ref
    group = format_statement({**STATEMENT, "object": GROUP}, "ids")["object"]
    assert group == {"objectType": "Group", "mbox": "mailto:group@adlnet.gov"}
    untyped = format_statement({**STATEMENT, "object": {"id": "http://x.jp/a"}}, "ids")
    assert untyped["object"] == {"id": "http://x.jp/a"}


def test_canonical_picks_one_language_per_map() -> None:
    before = copy.deepcopy(STATEMENT)
    canonical = format_statement(STATEMENT, "canonical", ["en-GB"])
    assert before == STATEMENT, "the input is never changed"
    # What the conformance suite asserts (XAPI-00169, XAPI-00172)
    assert canonical["actor"] == AGENT
    assert canonical["verb"] == {
        "id": STATEMENT["verb"]["id"],
        "display": {"en-GB": "answered (GB)"},
    }
    assert canonical["object"]["verb"]["display"] == {"en-GB": "answered (GB)"}
    assert canonical["object"]["actor"] == GROUP
    definition = canonical["object"]["object"]["definition"]
    assert definition == {
        **ACTIVITY["definition"],
        "name": {"en-GB": "example meeting"},
        "description": {"en-GB": "An example meeting (GB)"},
        "scale": [{"id": "likert_3", "description": {"en-GB": "Brilliant"}}],
    }
    category = canonical["context"]["contextActivities"]["category"][0]["definition"]
    assert category["name"] == {"en-GB": "example meeting"}
    parent = canonical["object"]["context"]["contextActivities"]["parent"][0]["definition"]
    assert parent["description"] == {"en-GB": "An example meeting (GB)"}
    assert canonical["context"]["contextActivities"]["other"] == [{"id": "http://x.jp/o"}]
    assert canonical["attachments"][0]["display"] == {"en-GB": "Essay (GB)"}
    assert canonical["context"]["instructor"] == STATEMENT["context"]["instructor"]


def test_canonical_without_preferences_keeps_the_first_entry() -> None:
    canonical = format_statement(STATEMENT, "canonical")
    assert canonical["verb"]["display"] == {"en-US": "answered"}


@pytest.mark.parametrize(
    ("languages", "chosen"),
    [
        (["ja-jp"], "ja-JP"),
        (["JA-JP"], "ja-JP"),
        (["fr", "ja"], "ja-JP"),
        (["en"], "en-US"),
        (["en-AU", "ja"], "ja-JP"),
        (["en-AU"], "en-US"),
        (["en-GB-oed"], "en-GB"),
        (["fr"], "en-US"),
        (["*"], "en-US"),
        (["fr", "*", "ja"], "en-US"),
        ([], "en-US"),
    ],
)
def test_best_language(languages: list[str], chosen: str) -> None:
    assert best_language(EN_JA, [lang.lower() for lang in languages]) == chosen
    canonical = format_statement(STATEMENT, "canonical", languages)
    assert canonical["verb"]["display"] == {chosen: EN_JA[chosen]}


def test_an_exact_match_beats_a_prefix() -> None:
    assert best_language(["en-US", "en"], ["en"]) == "en"


def test_an_unknown_format() -> None:
    with pytest.raises(
        InvalidStatementError, match=r'^format: must be "exact", "ids" or "canonical", got "full"$'
    ):
        format_statement(STATEMENT, "full")
