"""The `format` parameter of GET statements (Communication 2.1.3): exact, ids and canonical.

Input is a stored (valid) statement; output is a new dict, the input is never changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from records.xapi.primitives import fail, show

_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
_FORMATS = '"exact", "ids" or "canonical"'


def format_statement(
    data: dict[str, Any], fmt: str, languages: Sequence[str] = ()
) -> dict[str, Any]:
    """Return the statement in `fmt`.

    exact: as stored. ids: Agents and identified Groups keep objectType and their IFI,
    anonymous Groups their members' ids, Activities their id and Verbs their id, everywhere
    (SubStatements and contexts included). canonical: every language map keeps one entry,
    chosen by the ordered `languages` preferences (Accept-Language), else its first entry.
    """
    if fmt == "exact":
        return data
    if fmt == "ids":
        return _ids_statement(data)
    if fmt == "canonical":
        return _canonical_statement(data, tuple(language.lower() for language in languages))
    fail("format", f"must be {_FORMATS}, got {show(fmt)}")


# ---------------------------------------------------------------------------------------------
# ids


def _ids_statement(statement: dict[str, Any]) -> dict[str, Any]:
    out = dict(statement)
    if "actor" in statement:
        out["actor"] = _ids_actor(statement["actor"])
    if "verb" in statement:
        out["verb"] = {"id": statement["verb"]["id"]}
    if "object" in statement:
        out["object"] = _ids_object(statement["object"])
    if "context" in statement:
        out["context"] = _ids_context(statement["context"])
    if "authority" in statement:
        out["authority"] = _ids_actor(statement["authority"])
    return out


def _ids_actor(actor: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "objectType" in actor:
        out["objectType"] = actor["objectType"]
    for ifi in _IFIS:
        if ifi in actor:
            out[ifi] = actor[ifi]
            return out
    if "member" in actor:  # anonymous Group: identified by its members
        out["member"] = [_ids_actor(member) for member in actor["member"]]
    return out


def _ids_object(target: dict[str, Any]) -> dict[str, Any]:
    object_type = target.get("objectType", "Activity")
    if object_type == "Activity":
        return {"id": target["id"]}
    if object_type in ("Agent", "Group"):
        return _ids_actor(target)
    if object_type == "SubStatement":
        return _ids_statement(target)
    return target  # StatementRef: objectType and id only already


def _ids_context(context: dict[str, Any]) -> dict[str, Any]:
    out = dict(context)
    for name in ("instructor", "team"):
        if name in context:
            out[name] = _ids_actor(context[name])
    if "contextActivities" in context:
        out["contextActivities"] = {
            kind: [{"id": activity["id"]} for activity in _as_list(activities)]
            for kind, activities in context["contextActivities"].items()
        }
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------------------------------------
# canonical


def _canonical_statement(statement: dict[str, Any], languages: tuple[str, ...]) -> dict[str, Any]:
    out = dict(statement)
    verb = statement.get("verb")
    if isinstance(verb, dict) and "display" in verb:
        out["verb"] = {**verb, "display": _one_language(verb["display"], languages)}
    target = statement.get("object")
    if isinstance(target, dict):
        object_type = target.get("objectType", "Activity")
        if object_type == "Activity":
            out["object"] = _canonical_activity(target, languages)
        elif object_type == "SubStatement":
            out["object"] = _canonical_statement(target, languages)
    context = statement.get("context")
    if isinstance(context, dict) and "contextActivities" in context:
        out["context"] = {
            **context,
            "contextActivities": {
                kind: [_canonical_activity(activity, languages) for activity in _as_list(value)]
                for kind, value in context["contextActivities"].items()
            },
        }
    attachments = statement.get("attachments")
    if isinstance(attachments, list):
        out["attachments"] = [
            _canonical_maps(a, ("display", "description"), languages) for a in attachments
        ]
    return out


def _canonical_activity(activity: dict[str, Any], languages: tuple[str, ...]) -> dict[str, Any]:
    definition = activity.get("definition")
    if not isinstance(definition, dict):
        return activity
    canonical = _canonical_maps(definition, ("name", "description"), languages)
    for name in _COMPONENT_LISTS:
        components = definition.get(name)
        if isinstance(components, list):
            canonical[name] = [_canonical_maps(c, ("description",), languages) for c in components]
    return {**activity, "definition": canonical}


def _canonical_maps(
    holder: dict[str, Any], names: Iterable[str], languages: tuple[str, ...]
) -> dict[str, Any]:
    out = dict(holder)
    for name in names:
        if name in holder:
            out[name] = _one_language(holder[name], languages)
    return out


def _one_language(language_map: Any, languages: tuple[str, ...]) -> Any:
    if not isinstance(language_map, dict) or len(language_map) <= 1:
        return language_map
    tag = best_language(language_map, languages)
    return {tag: language_map[tag]}


def best_language(tags: Iterable[str], languages: Sequence[str]) -> str:
    """The tag that best serves the ordered preferences (RFC 2616 14.4 matching, then RFC 4647
    lookup by truncating each preference); the first tag when nothing matches. Preferences
    must be lower case; "*" matches any tag."""
    by_lower: dict[str, str] = {}
    for tag in tags:
        by_lower.setdefault(tag.lower(), tag)
    first = next(iter(by_lower.values()))
    for wanted in languages:
        if wanted == "*":
            return first
        found = _match(by_lower, wanted)
        if found is not None:
            return found
    for wanted in languages:
        while "-" in wanted:
            wanted = wanted.rsplit("-", 1)[0]
            found = _match(by_lower, wanted)
            if found is not None:
                return found
    return first


def _match(by_lower: dict[str, str], wanted: str) -> str | None:
    if wanted in by_lower:
        return by_lower[wanted]
    prefix = wanted + "-"
    for lowered, tag in by_lower.items():
        if lowered.startswith(prefix):
            return tag
    return None
