"""Context and ContextActivities objects (Data 2.4.6)."""

from __future__ import annotations

from typing import Any

from records.xapi.activities import check_activity
from records.xapi.agents import check_actor, check_group
from records.xapi.mentions import Mentions
from records.xapi.primitives import (
    check_extensions,
    check_keys,
    fail,
    is_language_tag,
    parse_uuid,
    require_object,
    show,
    text,
)
from records.xapi.statement_refs import check_statement_ref

_CONTEXT_KEYS = frozenset(
    {
        "registration",
        "instructor",
        "team",
        "contextActivities",
        "revision",
        "platform",
        "language",
        "statement",
        "extensions",
    }
)
_CONTEXT_ACTIVITY_KEYS = frozenset({"parent", "grouping", "category", "other"})


def check_context(value: object, path: str, mentions: Mentions, object_type: str) -> dict[str, Any]:
    """Validate a Context of a Statement whose object has `object_type`.

    Returns the context, or a copy whose contextActivities values are all arrays.
    Everything a Context mentions is recorded as indirect.
    """
    context = require_object(value, path, "a Context")
    check_keys(context, _CONTEXT_KEYS, path, "a Context")
    if "registration" in context:
        parse_uuid(context["registration"], f"{path}.registration")
    if "instructor" in context:
        check_actor(context["instructor"], f"{path}.instructor", mentions, direct=False)
    if "team" in context:
        team = require_object(context["team"], f"{path}.team", "a Group")
        if team.get("objectType") != "Group":
            fail(f"{path}.team", 'must be a Group (with "objectType": "Group")')
        check_group(team, f"{path}.team", mentions, direct=False)
    if "contextActivities" in context:
        where = f"{path}.contextActivities"
        activities = _context_activities(context["contextActivities"], where, mentions)
        if activities is not context["contextActivities"]:
            context = {**context, "contextActivities": activities}
    for name in ("revision", "platform"):
        if name in context:
            text(context[name], f"{path}.{name}")
            if object_type != "Activity":
                fail(
                    f"{path}.{name}",
                    f'is only allowed when the object is an Activity, not "{object_type}"',
                )
    if "language" in context:
        language = text(context["language"], f"{path}.language")
        if not is_language_tag(language):
            fail(f"{path}.language", f"must be an RFC 5646 language tag, got {show(language)}")
    if "statement" in context:
        check_statement_ref(context["statement"], f"{path}.statement")
    if "extensions" in context:
        check_extensions(context["extensions"], f"{path}.extensions")
    return context


def _context_activities(value: object, path: str, mentions: Mentions) -> dict[str, Any]:
    """Keys parent/grouping/category/other, each an Activity or an array of Activities.

    A single Activity comes back wrapped in an array (Data 2.4.6.2.s4.b3); if any was, the
    result is a new dict, otherwise the input itself.
    """
    activities = require_object(value, path, "a contextActivities object")
    check_keys(activities, _CONTEXT_ACTIVITY_KEYS, path, "contextActivities")
    wrapped: dict[str, Any] | None = None
    for kind, entry in activities.items():
        where = f"{path}.{kind}"  # a checked key: parent, grouping, category or other
        if isinstance(entry, list):
            for index, activity in enumerate(entry):
                check_activity(activity, f"{where}[{index}]", mentions, direct=False)
        else:
            check_activity(entry, where, mentions, direct=False)
            if wrapped is None:
                wrapped = dict(activities)
            wrapped[kind] = [entry]
    return activities if wrapped is None else wrapped
