"""Factories for test data (build what a test needs; no shared dumps)."""

from __future__ import annotations

from typing import Any


def make_statement(**overrides: Any) -> dict[str, Any]:
    """A realistic school statement; keyword arguments replace top-level properties."""
    statement: dict[str, Any] = {
        "actor": {
            "objectType": "Agent",
            "name": "山田 花子",
            "account": {"homePage": "https://idp.example.jp/", "name": "pupil-0001"},
        },
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/completed",
            "display": {"ja": "完了した", "en-US": "completed"},
        },
        "object": {
            "objectType": "Activity",
            "id": "https://contents.example.jp/math/p4/fractions/unit-1",
            "definition": {
                "name": {"ja": "分数 第1単元", "en": "Fractions unit 1"},
                "type": "http://adlnet.gov/expapi/activities/lesson",
            },
        },
        "result": {"completion": True, "score": {"scaled": 0.8}, "duration": "PT12M30S"},
    }
    statement.update(overrides)
    return {k: v for k, v in statement.items() if v is not None}
