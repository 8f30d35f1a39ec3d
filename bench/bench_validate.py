"""Validation benchmark: microseconds per statement spent in records.xapi.parse_statement.

Two workloads, each run three times (the median is reported):

* school: one realistic school statement (account actor, verb with ja/en display, choice
  activity with definition, result with score and duration, context with registration,
  instructor and contextActivities, timestamp) validated over and over: caches are warm.
* stream: distinct statements from bench.statements (fresh ids, timestamps, registrations),
  each validated once, with the validator's caches emptied before every run.

    python -m bench.bench_validate --count 20000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.report import median
from bench.statements import StatementFactory
from records.xapi import parse_statement
from records.xapi.primitives import clear_caches

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


def _per_statement(statements: Sequence[dict[str, Any]], before: Callable[[], None]) -> float:
    before()
    started = time.perf_counter()
    for statement in statements:
        parse_statement(statement)
    return (time.perf_counter() - started) / len(statements) * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20_000, help="statements per run")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    school = [SCHOOL_STATEMENT] * args.count
    stream = list(StatementFactory(seed=1).range(0, args.count))
    parse_statement(SCHOOL_STATEMENT)  # imports and first-use costs are not measured
    for name, statements, before in (
        ("school", school, lambda: None),
        ("stream", stream, clear_caches),
    ):
        runs = [_per_statement(statements, before) for _ in range(args.repeat)]
        shown = ", ".join(f"{run:.1f}" for run in runs)
        print(f"{name:6}  median {median(runs):5.1f} µs/statement  (runs: {shown}; n={args.count})")


if __name__ == "__main__":
    main()
