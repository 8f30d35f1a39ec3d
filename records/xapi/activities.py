"""Activities, Activity Definitions and Interaction Components (Data 2.4.4.1)."""

from __future__ import annotations

from typing import Any

from records.xapi.mentions import Mentions
from records.xapi.primitives import (
    check_array,
    check_extensions,
    check_iri,
    check_keys,
    check_language_map,
    fail,
    require_object,
    show,
    text,
)

_ACTIVITY_KEYS = frozenset({"objectType", "id", "definition"})
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
_DEFINITION_KEYS = frozenset(
    {
        "name",
        "description",
        "type",
        "moreInfo",
        "extensions",
        "interactionType",
        "correctResponsesPattern",
        *_COMPONENT_LISTS,
    }
)
_COMPONENT_KEYS = frozenset({"id", "description"})
# interactionType -> the interaction component lists it supports (Data 2.4.4.1.s15)
_INTERACTION_LISTS: dict[str, tuple[str, ...]] = {
    "true-false": (),
    "choice": ("choices",),
    "fill-in": (),
    "long-fill-in": (),
    "matching": ("source", "target"),
    "performance": ("steps",),
    "sequencing": ("choices",),
    "likert": ("scale",),
    "numeric": (),
    "other": (),
}
_INTERACTION_TYPES = ", ".join(f'"{name}"' for name in _INTERACTION_LISTS)


def check_activity(value: object, path: str, mentions: Mentions, direct: bool) -> str:
    """An Activity (objectType absent or "Activity") with an IRI id; returns the id."""
    activity = require_object(value, path, "an Activity")
    if "objectType" in activity and activity["objectType"] != "Activity":
        fail(f"{path}.objectType", f'must be "Activity", got {show(activity["objectType"])}')
    check_keys(activity, _ACTIVITY_KEYS, path, "an Activity")
    if "id" not in activity:
        fail(f"{path}.id", "is required")
    activity_id = check_iri(activity["id"], f"{path}.id")
    if "definition" in activity:
        check_definition(activity["definition"], f"{path}.definition")
    mentions.activity(activity_id, direct)
    return activity_id


def check_definition(value: object, path: str) -> None:
    definition = require_object(value, path, "an Activity Definition")
    check_keys(definition, _DEFINITION_KEYS, path, "an Activity Definition")
    if "name" in definition:
        check_language_map(definition["name"], f"{path}.name")
    if "description" in definition:
        check_language_map(definition["description"], f"{path}.description")
    if "type" in definition:
        check_iri(definition["type"], f"{path}.type")
    if "moreInfo" in definition:
        check_iri(definition["moreInfo"], f"{path}.moreInfo", "IRL")
    if "extensions" in definition:
        check_extensions(definition["extensions"], f"{path}.extensions")
    _check_interaction(definition, path)


def _has_interaction(definition: dict[str, Any]) -> bool:
    return "correctResponsesPattern" in definition or any(
        name in definition for name in _COMPONENT_LISTS
    )


def _check_interaction(definition: dict[str, Any], path: str) -> None:
    """interactionType, correctResponsesPattern and the component lists (Data 2.4.4.1.s8-s16)."""
    if "interactionType" not in definition:
        if _has_interaction(definition):
            fail(
                path,
                "correctResponsesPattern and interaction component lists require an "
                '"interactionType"',
            )
        return
    interaction_type = definition["interactionType"]
    if not isinstance(interaction_type, str) or interaction_type not in _INTERACTION_LISTS:
        fail(
            f"{path}.interactionType",
            f"must be one of {_INTERACTION_TYPES}, got {show(interaction_type)}",
        )
    if "correctResponsesPattern" in definition:
        where = f"{path}.correctResponsesPattern"
        patterns = check_array(definition["correctResponsesPattern"], where, "strings")
        for index, pattern in enumerate(patterns):
            text(pattern, f"{where}[{index}]")
    supported = _INTERACTION_LISTS[interaction_type]
    for name in _COMPONENT_LISTS:
        if name in definition:
            where = f"{path}.{name}"
            if name not in supported:
                allowed = " or ".join(f'"{list_name}"' for list_name in supported) or "none"
                fail(
                    where,
                    f'is not used with interactionType "{interaction_type}" '
                    f"(component lists allowed: {allowed})",
                )
            _check_components(definition[name], where)


def _check_components(value: object, path: str) -> None:
    components = check_array(value, path, "interaction components")
    seen: set[str] = set()
    for index, entry in enumerate(components):
        where = f"{path}[{index}]"
        component = require_object(entry, where, "an interaction component")
        check_keys(component, _COMPONENT_KEYS, where, "an interaction component")
        if "id" not in component:
            fail(f"{where}.id", "is required")
        component_id = text(component["id"], f"{where}.id")
        if component_id in seen:
            fail(f"{where}.id", f"must be unique within {path}, {show(component_id)} repeats")
        seen.add(component_id)
        if "description" in component:
            check_language_map(component["description"], f"{where}.description")
