"""Percentiles of latencies and medians over repeated runs, printed the same way everywhere."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction in 0..1); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Latency:
    count: int
    p50_ms: float
    p95_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        return cls(
            len(seconds),
            percentile(seconds, 0.50) * 1000,
            percentile(seconds, 0.95) * 1000,
            max(seconds, default=float("nan")) * 1000,
        )

    def show(self) -> str:
        return f"p50 {self.p50_ms:7.1f} ms  p95 {self.p95_ms:7.1f} ms  max {self.max_ms:7.1f} ms"


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
