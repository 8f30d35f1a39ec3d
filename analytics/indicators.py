"""Indicators of a unit over a period, from the school-week sums (pure pandas).

All are normalised by enrolled pupils on the dates concerned:
- active_day_rate: active pupil-school-days / enrolled pupil-school-days;
- active_3days_share: pupil-weeks with activity on 3+ days / enrolled pupil-weeks;
- minutes_per_pupil_week: learning minutes / enrolled pupil-weeks;
- completion_rate: completed / attempted;
- score_p10, score_p50, score_p90: percentiles of pupils' weekly mean scaled score (0..1),
  from the summed histogram, linear within its 0.1-wide bins; beside them, the share below
  SCORE_THRESHOLD (pupil-weeks whose mean score is under 0.5).
Cell size (the pupils behind a figure, for disclosure control) is the mean weekly number of
enrolled pupils, or of pupils with a score for the score indicators.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

INDICATORS = (
    "active_day_rate",
    "active_3days_share",
    "minutes_per_pupil_week",
    "completion_rate",
    "score_p10",
    "score_p50",
    "score_p90",
)
LEVELS = ("prefecture", "municipality", "school")
BINS = [f"h{n}" for n in range(10)]
SCORE_THRESHOLD = 0.5  # a multiple of the 0.1 bin width, so the share below it is exact
SUMS = [
    "pupils",
    "enrolled_days",
    "active_days",
    "active3",
    "minutes",
    "attempted",
    "completed",
    "scored",
    *BINS,
]


def needed(indicator: str) -> list[str]:
    """The sums an indicator (and its cell size) needs: reports read only those."""
    if indicator.startswith("score_"):
        return ["scored", *BINS]
    return {
        "active_day_rate": ["pupils", "enrolled_days", "active_days"],
        "active_3days_share": ["pupils", "active3"],
        "minutes_per_pupil_week": ["pupils", "minutes"],
        "completion_rate": ["pupils", "attempted", "completed"],
    }.get(indicator, list(SUMS))


def aggregate(weeks: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Sum the school-week columns by `by`, with the number of distinct weeks."""
    grouped = weeks.groupby(by, sort=False, observed=True)
    sums = grouped[SUMS].sum()
    sums["weeks"] = grouped["week"].nunique()
    return sums


def values(sums: pd.DataFrame, indicator: str) -> pd.Series:
    """The indicator of each row of `aggregate`'s result (NaN where undefined)."""
    if indicator not in INDICATORS:
        raise ValueError(f"unknown indicator {indicator!r}")
    if indicator == "active_day_rate":
        return _ratio(sums["active_days"], sums["enrolled_days"])
    if indicator == "active_3days_share":
        return _ratio(sums["active3"], sums["pupils"])
    if indicator == "minutes_per_pupil_week":
        return _ratio(sums["minutes"], sums["pupils"])
    if indicator == "completion_rate":
        return _ratio(sums["completed"], sums["attempted"])
    share = {"score_p10": 0.1, "score_p50": 0.5, "score_p90": 0.9}[indicator]
    return pd.Series(
        histogram_percentile(sums[BINS].to_numpy(dtype=np.float64), share), index=sums.index
    )


def below_share(sums: pd.DataFrame) -> pd.Series:
    """Share of scored pupil-weeks with a mean score below SCORE_THRESHOLD (NaN: none)."""
    below = sums[BINS[: round(SCORE_THRESHOLD * len(BINS))]].sum(axis=1)
    return _ratio(below, sums["scored"])


def cell_size(sums: pd.DataFrame, indicator: str) -> pd.Series:
    column = "scored" if indicator.startswith("score_") else "pupils"
    weeks = sums["weeks"].where(sums["weeks"] > 0)
    return (sums[column] / weeks).fillna(0.0)


def histogram_percentile(counts: np.ndarray, share: float) -> np.ndarray:
    """Row-wise percentile of 10-bin histograms over [0, 1]; NaN for an empty row."""
    counts = np.atleast_2d(counts)
    totals = counts.sum(axis=1)
    cumulative = np.cumsum(counts, axis=1)
    target = share * totals
    index = np.minimum((cumulative < target[:, None]).sum(axis=1), counts.shape[1] - 1)
    rows = np.arange(len(counts))
    before = np.where(index > 0, cumulative[rows, np.maximum(index - 1, 0)], 0.0)
    inside = counts[rows, index]
    fraction = np.divide(
        target - before, inside, out=np.zeros_like(target, dtype=np.float64), where=inside > 0
    )
    result = (index + np.clip(fraction, 0.0, 1.0)) / counts.shape[1]
    return np.where(totals > 0, result, np.nan)


def _ratio(top: pd.Series, bottom: pd.Series) -> pd.Series:
    return (top / bottom.where(bottom > 0)).astype(np.float64)
