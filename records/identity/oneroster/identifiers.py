"""How a roster user's identifiers become xAPI agents (and so ActorLink rows).

The one definition of an agent's key stays `records.xapi.agent_key` + `records.keys.index_key`;
this module only decides which agent each roster value is. See the package docstring.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import quote

from records.errors import RecordsError
from records.identity.oneroster.rows import UserRow
from records.keys import index_key
from records.xapi import agent_key

IDP_HOME_PAGES: Final[Mapping[str, str]] = MappingProxyType(
    {"Google": "https://accounts.google.com", "Microsoft": "https://login.microsoftonline.com"}
)
_IDP_BY_LOWER: Final = {kind.lower(): home for kind, home in IDP_HOME_PAGES.items()}


@dataclass(frozen=True, slots=True)
class Identifier:
    column: str  # the users.csv column it came from
    shown: str  # for messages: "userMasterIdentifier 'A-123'"
    agent: dict[str, Any]  # the identifying Agent stored in ActorLink.agent
    key: str  # ActorLink.agent_key
    matches: bool  # used to find the person (sourcedId, userMasterIdentifier, IdP ids)


def oneroster_home_page(service_url: str, field: str) -> str:
    """homePage of accounts named by a roster field: sourcedId, userMasterIdentifier, username."""
    return f"{service_url}oneroster/{field}"


def idp_home_page(service_url: str, kind: str) -> str:
    """homePage of a userIds entry {kind:id}: the IdP's own for Google and Microsoft (any case),
    else this service's /idp/<kind> (kind as written, percent-encoded where a URL needs it)."""
    return _IDP_BY_LOWER.get(kind.lower()) or f"{service_url}idp/{quote(kind, safe='-._~')}"


def account_agent(home_page: str, name: str) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": home_page, "name": name}}


def stored_key(agent: Mapping[str, Any]) -> str:
    """ActorLink.agent_key of an agent (raises InvalidStatementError for a malformed one)."""
    key = agent_key(agent)
    if key is None:  # pragma: no cover - every agent built here has an IFI
        raise ValueError("an identifier needs an IFI")
    return index_key(key)


def sourced_id_key(service_url: str, sourced_id: str) -> str:
    return stored_key(account_agent(oneroster_home_page(service_url, "sourcedId"), sourced_id))


def user_identifiers(
    row: UserRow, service_url: str
) -> tuple[list[Identifier], list[tuple[str, str]]]:
    """The row's identifiers, in matching order, and (column, message) for unusable ones."""
    wanted: list[tuple[str, str, dict[str, Any], bool]] = []
    home = oneroster_home_page
    wanted.append(
        (
            "sourcedId",
            row.sourced_id,
            account_agent(home(service_url, "sourcedId"), row.sourced_id),
            True,
        )
    )
    if row.master_id:
        wanted.append(
            (
                "userMasterIdentifier",
                row.master_id,
                account_agent(home(service_url, "userMasterIdentifier"), row.master_id),
                True,
            )
        )
    for kind, ident in row.user_ids:
        wanted.append(
            (
                "userIds",
                f"{{{kind}:{ident}}}",
                account_agent(idp_home_page(service_url, kind), ident),
                True,
            )
        )
    if row.username:
        wanted.append(
            (
                "username",
                row.username,
                account_agent(home(service_url, "username"), row.username),
                False,
            )
        )
    if row.email:
        wanted.append(
            ("email", row.email, {"objectType": "Agent", "mbox": f"mailto:{row.email}"}, False)
        )
    found: list[Identifier] = []
    problems: list[tuple[str, str]] = []
    for column, value, agent, matches in wanted:
        try:
            key = stored_key(agent)
        except RecordsError as exc:
            problems.append((column, f"{value!r} cannot identify a person: {exc.message}"))
            continue
        found.append(Identifier(column, f"{column} {value!r}", agent, key, matches))
    return found, problems
