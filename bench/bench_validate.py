"""Validation benchmark: microseconds per statement spent in records.xapi.parse_statement.

Two workloads, each run three times (the median is reported):

* school: one realistic school statement from bench.statements (a quiz answer: account actor,
  verb with ja/en display, choice activity with definition, result with score and duration,
  context with registration and contextActivities, timestamp) validated over and over: caches
  are warm.
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

    factory = StatementFactory(seed=1)
    sample = factory.statement(1)
    school = [sample] * args.count
    stream = list(factory.range(0, args.count))
    parse_statement(sample)  # imports and first-use costs are not measured
    for name, statements, before in (
        ("school", school, lambda: None),
        ("stream", stream, clear_caches),
    ):
        runs = [_per_statement(statements, before) for _ in range(args.repeat)]
        shown = ", ".join(f"{run:.1f}" for run in runs)
        print(f"{name:6}  median {median(runs):5.1f} µs/statement  (runs: {shown}; n={args.count})")


if __name__ == "__main__":
    main()
