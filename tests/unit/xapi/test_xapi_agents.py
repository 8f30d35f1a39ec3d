"""parse_agent, agent_key and person_object."""

from __future__ import annotations

from typing import Any

import pytest

from records.errors import InvalidStatementError
from records.xapi import agent_key, parse_agent, person_object

ACCOUNT = {"homePage": "https://idp.example-city.jp/", "name": "P2025016083"}


@pytest.mark.parametrize(
    "agent",
    [
        {"mbox": "mailto:hanako@example.jp"},
        {"objectType": "Agent", "name": "花子", "account": ACCOUNT},
        {"objectType": "Group", "mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"},
        {"objectType": "Group", "member": [{"openid": "http://openid.example.org/1"}]},
    ],
)
def test_parse_agent_returns_the_agent(agent: dict[str, Any]) -> None:
    assert parse_agent(agent) is agent


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (True, "agent: must be an Agent or Group (a JSON object), got true"),
        ("mailto:a@x.jp", 'agent: must be an Agent or Group (a JSON object), got "mailto:a@x.jp"'),
        ({}, "agent: an Agent must have exactly one of mbox, mbox_sha1sum, openid or account"),
        ({"objectType": "Agent"}, "agent: an Agent must have exactly one of"),
        ({"account": {"name": "x"}}, "agent.account.homePage: is required"),
        ({"mbox": "a@x.jp"}, 'agent.mbox: must be a "mailto:" IRI with a valid e-mail address'),
        ({"objectType": "Person", "mbox": ["mailto:a@x.jp"]}, "agent.objectType: must be"),
    ],
)
def test_parse_agent_rejects(raw: object, message: str) -> None:
    with pytest.raises(InvalidStatementError) as caught:
        parse_agent(raw)
    assert caught.value.message.startswith(message)


def test_parse_agent_names_the_parameter() -> None:
    with pytest.raises(InvalidStatementError, match=r"^the agent parameter\.mbox: must be"):
        parse_agent({"mbox": "x"}, "the agent parameter")


@pytest.mark.parametrize(
    ("agent", "key"),
    [
        ({"mbox": "mailto:Hanako.Yamada@Example.JP"}, "mbox:mailto:Hanako.Yamada@example.jp"),
        (
            {"mbox_sha1sum": "CD9B00A5611F94EAA7B1661EDAB976068E364975"},
            "mbox_sha1sum:cd9b00a5611f94eaa7b1661edab976068e364975",
        ),
        ({"openid": "http://openid.example.org/Hanako"}, "openid:http://openid.example.org/Hanako"),
        (
            {"account": {"homePage": "https://idp.x.jp/", "name": "Hanako Y"}},
            "account:https://idp.x.jp/ Hanako Y",
        ),
        (
            {"objectType": "Group", "account": ACCOUNT, "member": [{"mbox": "mailto:a@x.jp"}]},
            "account:https://idp.example-city.jp/ P2025016083",
        ),
        ({"objectType": "Group", "member": [{"mbox": "mailto:a@x.jp"}]}, None),
    ],
)
def test_agent_key(agent: dict[str, Any], key: str | None) -> None:
    assert agent_key(agent) == key


@pytest.mark.parametrize(
    "agent",
    [
        {"mbox": "a@x.jp"},
        {"mbox": "mailto:a@x.jp", "openid": "http://o.x.jp/"},
        {"account": "x"},
        "mailto:a@x.jp",
    ],
)
def test_agent_key_of_a_malformed_agent(agent: Any) -> None:
    with pytest.raises(InvalidStatementError, match=r"^agent"):
        agent_key(agent)


def test_person_object_combines_and_deduplicates() -> None:
    person = person_object(
        [
            {"objectType": "Agent", "name": "山田 花子", "mbox": "mailto:hanako@x.jp"},
            {"name": "山田 花子", "account": ACCOUNT},
            {"name": "Hanako", "account": dict(ACCOUNT)},
            {"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"},
            {"openid": "http://openid.example.org/1"},
            {"mbox": "mailto:hanako@x.jp"},
        ]
    )
    assert person == {
        "objectType": "Person",
        "name": ["山田 花子", "Hanako"],
        "mbox": ["mailto:hanako@x.jp"],
        "mbox_sha1sum": ["cd9b00a5611f94eaa7b1661edab976068e364975"],
        "openid": ["http://openid.example.org/1"],
        "account": [ACCOUNT],
    }


def test_person_object_omits_empty_lists() -> None:
    assert person_object([{"mbox": "mailto:a@x.jp"}]) == {
        "objectType": "Person",
        "mbox": ["mailto:a@x.jp"],
    }
    assert person_object([]) == {"objectType": "Person"}
