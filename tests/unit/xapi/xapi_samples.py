"""Sample xAPI data for the unit tests: a realistic school statement, changed by dotted paths."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

MakeStatement = Callable[..., dict[str, Any]]

SCHOOL_STATEMENT: dict[str, Any] = {
    "id": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
    "actor": {
        "objectType": "Agent",
        "name": "山田 花子",
        "account": {"homePage": "https://idp.example-city.jp/", "name": "P2025016083"},
    },
    "verb": {
        "id": "http://adlnet.gov/expapi/verbs/answered",
        "display": {"ja-JP": "回答した", "en-US": "answered"},
    },
    "object": {
        "objectType": "Activity",
        "id": "https://contents.example-edu.jp/courses/sansu/g4/u03/q2",
        "definition": {
            "name": {"ja-JP": "分数のたし算 問題2", "en-US": "Adding fractions, question 2"},
            "description": {"ja-JP": "1/2 + 1/4 は?", "en-US": "What is 1/2 + 1/4?"},
            "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
            "interactionType": "choice",
            "correctResponsesPattern": ["b"],
            "choices": [
                {"id": "a", "description": {"ja-JP": "2/6"}},
                {"id": "b", "description": {"ja-JP": "3/4"}},
                {"id": "c", "description": {"ja-JP": "1/8"}},
            ],
        },
    },
    "result": {
        "score": {"scaled": 1, "raw": 10, "min": 0, "max": 10},
        "success": True,
        "completion": True,
        "response": "b",
        "duration": "PT1M32.5S",
    },
    "context": {
        "registration": "9d3c3b8a-6f0e-4d4e-8a35-2d2c6f1e9b10",
        "instructor": {
            "objectType": "Agent",
            "account": {"homePage": "https://idp.example-city.jp/", "name": "T-0042"},
        },
        "contextActivities": {
            "parent": [{"id": "https://contents.example-edu.jp/courses/sansu/g4/u03"}],
            "grouping": [
                {"objectType": "Activity", "id": "https://contents.example-edu.jp/courses/sansu/g4"}
            ],
            "category": [{"id": "https://profiles.example-city.jp/xapi/giga-drill/v1"}],
        },
        "platform": "GIGA端末",
        "language": "ja-JP",
        "extensions": {"https://ashiato.example.jp/xapi/ext/class": "4-2"},
    },
    "timestamp": "2025-06-12T10:15:30.250+09:00",
}


def apply_changes(
    data: dict[str, Any], changes: Mapping[str, Any], drop: Iterable[str] = ()
) -> dict[str, Any]:
    """Set (or, for `drop`, delete) values at dotted paths such as "context.contextActivities
    .parent.0.id": a numeric part indexes a list, any other part is a key (created if absent)."""
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        holder = _walk(data, parents)
        if isinstance(holder, list):
            holder[int(last)] = value
        else:
            holder[last] = value
    for dotted in drop:
        *parents, last = dotted.split(".")
        holder = _walk(data, parents)
        del holder[int(last) if isinstance(holder, list) else last]
    return data


def _walk(data: Any, parts: list[str]) -> Any:
    for part in parts:
        data = data[int(part)] if isinstance(data, list) else data.setdefault(part, {})
    return data
