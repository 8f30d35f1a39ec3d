"""The disparity measures against an independent implementation (PySAL's `inequality`) and
against cases worked by hand, including weights and zeros."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import inequality as ineq

pysal_gini = pytest.importorskip("inequality.gini")
pysal_theil = pytest.importorskip("inequality.theil")
pysal_atkinson = pytest.importorskip("inequality.atkinson")

positive = st.lists(
    st.floats(min_value=0.01, max_value=1000, allow_nan=False), min_size=2, max_size=40
)


@settings(max_examples=60, deadline=None)
@given(positive)
def test_unweighted_measures_match_pysal(values: list[float]) -> None:
    y = np.array(values)
    if np.ptp(y) == 0:
        return
    assert ineq.gini(y) == pytest.approx(pysal_gini.Gini(y).g, rel=1e-9, abs=1e-12)
    assert ineq.theil(y) == pytest.approx(pysal_theil.Theil(y).T, rel=1e-7, abs=1e-12)
    for epsilon in (0.5, 1.0, 2.0):
        expected = pysal_atkinson.atkinson(y, epsilon)
        assert ineq.atkinson(y, epsilon) == pytest.approx(expected, rel=1e-7, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(positive, st.randoms(use_true_random=False))
def test_theil_decomposition_matches_pysal(values: list[float], rnd: object) -> None:
    y = np.array(values)
    groups = np.array([rnd.randrange(3) for _ in values])  # type: ignore[attr-defined]
    total, between, within = ineq.theil_decomposition(y, list(groups)) or (0, 0, 0)
    oracle = pysal_theil.TheilD(y, groups)
    assert total == pytest.approx(float(np.ravel(oracle.T)[0]), rel=1e-7, abs=1e-12)
    assert between == pytest.approx(float(np.ravel(oracle.bg)[0]), rel=1e-7, abs=1e-12)
    assert within == pytest.approx(float(np.ravel(oracle.wg)[0]), rel=1e-7, abs=1e-12)
    assert between + within == pytest.approx(total, rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=100_000).map(lambda n: n / 1000),
            st.integers(min_value=1, max_value=6),
        ),
        min_size=2,
        max_size=15,
    )
)
def test_integer_weights_equal_repeated_units(pairs: list[tuple[float, int]]) -> None:
    y = np.array([v for v, _ in pairs])
    w = np.array([n for _, n in pairs])
    repeated = np.repeat(y, w)
    for name in ("gini", "theil", "cv"):
        weighted = getattr(ineq, name)(y, w)
        plain = getattr(ineq, name)(repeated)
        assert (weighted is None) == (plain is None)
        if weighted is not None:
            assert weighted == pytest.approx(plain, rel=1e-9, abs=1e-12), name
    for epsilon in (0.5, 1.0, 2.0):
        weighted = ineq.atkinson(y, epsilon, w)
        plain = ineq.atkinson(repeated, epsilon)
        assert (weighted is None) == (plain is None)
        if weighted is not None:
            assert weighted == pytest.approx(plain, rel=1e-9, abs=1e-12)
    if np.sum(w * y) > 0:
        for p in (0.1, 0.5, 0.9):
            assert ineq.weighted_percentile(y, p, w) == ineq.weighted_percentile(repeated, p)


def test_hand_computed_two_units() -> None:
    # Values 1 and 3, weights 1 and 1: mean 2; |1-3| over all 4 ordered pairs = 4; G = 4/(2*4*2)
    assert ineq.gini([1, 3]) == pytest.approx(0.25)
    # Theil: 1/2 (0.5 ln 0.5 + 1.5 ln 1.5)
    assert ineq.theil([1, 3]) == pytest.approx(0.5 * (0.5 * math.log(0.5) + 1.5 * math.log(1.5)))
    assert ineq.cv([1, 3]) == pytest.approx(0.5)  # sd 1, mean 2
    # Atkinson 2: 1 - harmonic mean / mean = 1 - 1.5 / 2
    assert ineq.atkinson([1, 3], 2.0) == pytest.approx(0.25)
    # Atkinson 1: 1 - geometric mean / mean = 1 - sqrt(3) / 2
    assert ineq.atkinson([1, 3], 1.0) == pytest.approx(1 - math.sqrt(3) / 2)


def test_hand_computed_weights() -> None:
    # 10 pupils at 0.2 and 30 at 0.6: mean 0.5; pairs differing: 2*10*30*0.4 = 240 over 2*40^2*0.5
    assert ineq.gini([0.2, 0.6], [10, 30]) == pytest.approx(240 / 1600)
    m = ineq.measures([0.2, 0.6], [10, 30])
    assert m.p90_p10 == pytest.approx(3.0)
    assert m.max_min == pytest.approx(3.0)
    assert m.mean == pytest.approx(0.5)


def test_zeros_and_degenerate_inputs() -> None:
    assert ineq.gini([0, 0, 4]) == pytest.approx(2 / 3)  # 1 - 1/n: one unit holds everything
    assert ineq.theil([0, 0, 4]) == pytest.approx(math.log(3))  # ln n
    assert ineq.atkinson([0, 1, 2], 1.0) == 1.0
    assert ineq.atkinson([0, 1, 2], 2.0) == 1.0
    assert ineq.atkinson([0, 1, 2], 0.5) is not None
    m = ineq.measures([0, 1, 2])
    assert m.p90_p10 is None  # P10 is 0
    assert m.max_min is None
    assert ineq.gini([5]) is None  # one unit: nothing to compare
    assert ineq.gini([0, 0]) is None  # mean 0
    assert ineq.gini([1, 1, 1]) == 0.0
    assert ineq.gini([1, 2, float("nan")]) == ineq.gini([1, 2])  # missing values left out
    assert ineq.gini([1, 2, 100], [1, 1, 0]) == ineq.gini([1, 2])  # weight 0 left out
    with pytest.raises(ValueError, match="negative"):
        ineq.gini([-1, 2])
    assert ineq.measures([]).units == 0


def test_decomposition_with_one_group_is_all_within() -> None:
    total, between, within = ineq.theil_decomposition([1, 2, 3], ["a", "a", "a"]) or (0, 1, 0)
    assert between == pytest.approx(0.0)
    assert within == pytest.approx(total)
