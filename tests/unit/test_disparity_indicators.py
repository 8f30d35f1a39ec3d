"""Indicators from school-week sums, score percentiles from histograms, and report periods."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics import indicators
from analytics.periods import PeriodError, current_school_year, parse_period


def _sums(**columns: float) -> pd.DataFrame:
    row = dict.fromkeys([*indicators.SUMS, "weeks"], 0.0)
    row.update(columns)
    return pd.DataFrame([row])


def test_rates_are_ratios_of_sums() -> None:
    sums = _sums(
        pupils=40,
        enrolled_days=200,
        active_days=150,
        active3=25,
        minutes=3000,
        attempted=80,
        completed=60,
        weeks=2,
    )
    assert indicators.values(sums, "active_day_rate")[0] == pytest.approx(0.75)
    assert indicators.values(sums, "active_3days_share")[0] == pytest.approx(25 / 40)
    assert indicators.values(sums, "minutes_per_pupil_week")[0] == pytest.approx(75.0)
    assert indicators.values(sums, "completion_rate")[0] == pytest.approx(0.75)
    assert indicators.cell_size(sums, "active_day_rate")[0] == pytest.approx(20.0)  # per week


def test_undefined_ratios_are_missing_not_zero() -> None:
    sums = _sums()
    assert np.isnan(indicators.values(sums, "completion_rate")[0])
    assert np.isnan(indicators.values(sums, "score_p50")[0])
    assert indicators.cell_size(sums, "score_p50")[0] == 0.0


def test_histogram_percentiles_interpolate_within_bins() -> None:
    # 10 pupils, all in [0.7, 0.8): the median is in the middle of the bin.
    counts = np.zeros((1, 10))
    counts[0, 7] = 10
    assert indicators.histogram_percentile(counts, 0.5)[0] == pytest.approx(0.75)
    assert indicators.histogram_percentile(counts, 0.1)[0] == pytest.approx(0.71)
    # Half in the lowest bin, half in the highest.
    counts = np.zeros((1, 10))
    counts[0, 0] = counts[0, 9] = 5
    assert indicators.histogram_percentile(counts, 0.5)[0] == pytest.approx(0.1)
    assert indicators.histogram_percentile(counts, 0.9)[0] == pytest.approx(0.98)


def test_share_below_the_score_threshold() -> None:
    sums = _sums(scored=20, h2=3, h4=2, h5=10, h9=5)
    assert indicators.SCORE_THRESHOLD == 0.5
    assert indicators.below_share(sums)[0] == pytest.approx(5 / 20)
    assert np.isnan(indicators.below_share(_sums())[0])


def test_needed_sums_cover_each_indicator() -> None:
    for name in indicators.INDICATORS:
        wanted = indicators.needed(name)
        sums = _sums(**dict.fromkeys(wanted, 5.0), weeks=1)
        assert not np.isnan(indicators.values(sums, name)[0]), name
    with pytest.raises(ValueError, match="unknown indicator"):
        indicators.values(_sums(), "happiness")


@pytest.mark.parametrize(
    ("text", "first", "last", "first_week", "last_week"),
    [
        ("2026", date(2026, 4, 1), date(2027, 3, 31), date(2026, 4, 6), date(2027, 3, 29)),
        ("2026-06", date(2026, 6, 1), date(2026, 6, 30), date(2026, 6, 1), date(2026, 6, 29)),
        ("2027-02", date(2027, 2, 1), date(2027, 2, 28), date(2027, 2, 1), date(2027, 2, 22)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31), date(2026, 12, 7), date(2026, 12, 28)),
        ("2026-W23", date(2026, 6, 1), date(2026, 6, 7), date(2026, 6, 1), date(2026, 6, 1)),
    ],
)
def test_periods(text: str, first: date, last: date, first_week: date, last_week: date) -> None:
    period = parse_period(text)
    assert (period.first, period.last) == (first, last)
    assert (period.first_week, period.last_week) == (first_week, last_week)


@pytest.mark.parametrize("text", ["2026-13", "2026-W60", "26", "last year", "2026-00", ""])
def test_bad_periods_are_explained(text: str) -> None:
    with pytest.raises(PeriodError, match="period"):
        parse_period(text)


def test_the_current_school_year_starts_in_april() -> None:
    assert current_school_year(date(2027, 3, 31)).id == "2026"
    assert current_school_year(date(2027, 4, 1)).id == "2027"
