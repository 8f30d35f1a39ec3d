"""Agents, Groups, Inverse Functional Identifiers and Account objects (Data 2.4.2), the Person
object of the Agents Resource (Communication 2.4), and the canonical key of an Agent."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from records.xapi.mentions import Mentions
from records.xapi.primitives import (
    check_array,
    check_iri,
    check_keys,
    fail,
    is_iri,
    require_object,
    show,
    text,
)

_AGENT_KEYS = frozenset({"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"})
_GROUP_KEYS = _AGENT_KEYS | {"member"}
_ACCOUNT_KEYS = frozenset({"homePage", "name"})
_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_IFI_LIST = "mbox, mbox_sha1sum, openid or account"

# "mailto:" + addr-spec. The local part is a dot-atom (UTF-8 allowed, RFC 6531) without "?" and
# "#", which would start a header or fragment of the IRI; the whole value must also be an IRI.
_LOCAL = "[A-Za-z0-9!$%&'*+/=^_`{|}~\\-\u0080-\U0010ffff]+"
_LABEL = "[A-Za-z0-9\\-\u0080-\U0010ffff]+"
_MAILTO = re.compile(
    f"mailto:(?P<local>{_LOCAL}(?:\\.{_LOCAL})*)@(?P<domain>{_LABEL}(?:\\.{_LABEL})*)\\Z"
)
_SHA1 = re.compile(r"[0-9a-fA-F]{40}\Z")


@lru_cache(maxsize=32768)
def _mbox_key(value: str) -> str | None:
    match = _MAILTO.match(value)
    if match is None or not is_iri(value):
        return None
    # The domain of an e-mail address is case insensitive (Data 2.3.1.b7); the key lowers it.
    return f"mbox:mailto:{match['local']}@{match['domain'].lower()}"


def _ifi_key(agent: Mapping[str, Any], path: str, what: str) -> str | None:
    """Validate the one IFI of an Agent or Group; return its key, or None if it has none."""
    found = [name for name in _IFIS if name in agent]
    if not found:
        return None
    if len(found) > 1:
        fail(path, f"{what} must use exactly one of {_IFI_LIST}, got {', '.join(found)}")
    name = found[0]
    value = agent[name]
    where = f"{path}.{name}"
    if name == "mbox":
        key = _mbox_key(value) if isinstance(value, str) else None
        if key is None:
            fail(where, f'must be a "mailto:" IRI with a valid e-mail address, got {show(value)}')
        return key
    if name == "mbox_sha1sum":
        if not isinstance(value, str) or _SHA1.match(value) is None:
            fail(where, f"must be the hex SHA1 of a mailto IRI (40 hex digits), got {show(value)}")
        return f"mbox_sha1sum:{value.lower()}"
    if name == "openid":
        if not is_iri(value) or not value.isascii():
            fail(where, f"must be an absolute URI, got {show(value)}")
        return f"openid:{value}"
    account = require_object(value, where, "an Account")
    check_keys(account, _ACCOUNT_KEYS, where, "an Account")
    if "homePage" not in account:
        fail(f"{where}.homePage", "is required")
    if "name" not in account:
        fail(f"{where}.name", "is required")
    home_page = check_iri(account["homePage"], f"{where}.homePage", "IRL")
    account_name = text(account["name"], f"{where}.name")
    return f"account:{home_page} {account_name}"


def check_agent(value: object, path: str, mentions: Mentions, direct: bool) -> str:
    """An Agent (objectType absent or "Agent") with exactly one IFI; returns its key."""
    agent = require_object(value, path, "an Agent")
    if "objectType" in agent and agent["objectType"] != "Agent":
        fail(f"{path}.objectType", f'must be "Agent", got {show(agent["objectType"])}')
    check_keys(agent, _AGENT_KEYS, path, "an Agent")
    if "name" in agent:
        text(agent["name"], f"{path}.name")
    key = _ifi_key(agent, path, "an Agent")
    if key is None:
        fail(path, f"an Agent must have exactly one of {_IFI_LIST}")
    mentions.agent(key, direct)
    return key


def check_group(value: object, path: str, mentions: Mentions, direct: bool) -> str | None:
    """A Group (objectType "Group"): identified by one IFI, or anonymous with members.

    Returns the Group's key, None when anonymous. Members are recorded with the same `direct`.
    """
    group = require_object(value, path, "a Group")
    check_keys(group, _GROUP_KEYS, path, "a Group")
    if "objectType" not in group or group["objectType"] != "Group":
        fail(f"{path}.objectType", f'must be "Group", got {show(group.get("objectType"))}')
    if "name" in group:
        text(group["name"], f"{path}.name")
    key = _ifi_key(group, path, "a Group")
    if "member" in group:
        where = f"{path}.member"
        members = check_array(group["member"], where, "Agents")
        if key is None and not members:
            fail(where, "an anonymous Group must list at least one Agent")
        for index, member in enumerate(members):
            member_path = f"{where}[{index}]"
            if isinstance(member, dict) and member.get("objectType") == "Group":
                fail(member_path, "a Group's members must be Agents, not Groups")
            check_agent(member, member_path, mentions, direct)
    elif key is None:
        fail(path, f'an anonymous Group (no {_IFI_LIST}) must have a "member" array of Agents')
    if key is not None:
        mentions.agent(key, direct)
    return key


def check_actor(value: object, path: str, mentions: Mentions, direct: bool) -> str | None:
    """An Agent or a Group, told apart by objectType (absent means Agent)."""
    actor = require_object(value, path, "an Agent or Group")
    if "objectType" in actor:
        object_type = actor["objectType"]
        if object_type == "Group":
            return check_group(actor, path, mentions, direct)
        if object_type != "Agent":
            fail(f"{path}.objectType", f'must be "Agent" or "Group", got {show(object_type)}')
    return check_agent(actor, path, mentions, direct)


def check_authority(value: object, path: str, mentions: Mentions) -> None:
    """An Agent, or (3-legged OAuth) an anonymous Group of exactly two Agents (Data 2.4.9)."""
    authority = require_object(value, path, "an Agent or Group")
    if authority.get("objectType") != "Group":
        check_actor(authority, path, mentions, direct=False)
        return
    key = check_group(authority, path, mentions, direct=False)
    if key is not None:
        fail(path, f"an authority Group must be anonymous (no {_IFI_LIST}): OAuth app and user")
    members = authority["member"]
    if len(members) != 2:
        fail(f"{path}.member", f"an authority Group must have exactly 2 Agents, got {len(members)}")


def parse_agent(raw: object, path: str = "agent") -> dict[str, Any]:
    """Validate an Agent or Group given on its own (an `agent` parameter, say) and return it."""
    agent = require_object(raw, path, "an Agent or Group")
    check_actor(agent, path, Mentions(), direct=True)
    return agent


def agent_key(agent: Mapping[str, Any]) -> str | None:
    """The canonical key of an Agent's or identified Group's IFI; None for an anonymous Group.

    Keys: "mbox:mailto:a@b.jp" (domain lower-cased), "mbox_sha1sum:<lower hex>",
    "openid:<iri>", "account:<homePage> <name>". A malformed IFI raises InvalidStatementError.
    """
    if not isinstance(agent, Mapping):
        fail("agent", f"must be an Agent or Group (a JSON object), got {show(agent)}")
    return _ifi_key(agent, "agent", "an Agent or Group")


def person_object(agents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The Person object (Communication 2.4) combining the given Agents' names and IFIs."""
    names: dict[str, None] = {}
    ifis: dict[str, dict[Any, Any]] = {name: {} for name in _IFIS}
    for agent in agents:
        name = agent.get("name")
        if isinstance(name, str):
            names[name] = None
        for ifi in ("mbox", "mbox_sha1sum", "openid"):
            value = agent.get(ifi)
            if isinstance(value, str):
                ifis[ifi][value] = value
        account = agent.get("account")
        if isinstance(account, Mapping):
            home_page, account_name = account.get("homePage"), account.get("name")
            if isinstance(home_page, str) and isinstance(account_name, str):
                ifis["account"][(home_page, account_name)] = {
                    "homePage": home_page,
                    "name": account_name,
                }
    person: dict[str, Any] = {"objectType": "Person"}
    if names:
        person["name"] = list(names)
    for ifi in _IFIS:
        if ifis[ifi]:
            person[ifi] = list(ifis[ifi].values())
    return person
