"""Measures of disparity between units (schools, municipalities, prefectures), weighted by
enrolled pupils. Pure numpy; no database, no web.

Conventions (the same for every measure):
- Values y_i >= 0 with weights w_i > 0 (enrolled pupils). A unit with weight 0 or a missing
  value is left out. Every measure is None when fewer than two units remain or the weighted
  mean is 0 (nothing to compare).
- Weighted means treat each pupil as one observation of their unit's value: with integer
  weights, every measure equals the unweighted measure of the list in which unit i appears w_i
  times.
- Gini is the population Gini (mean absolute difference over all ordered pairs / 2 mean; no
  n/(n-1) correction): 0 when all equal; its maximum for n equal-weight units is 1 - 1/n.
- Theil T = (1/W) sum w_i (y_i/mu) ln(y_i/mu), with 0 ln 0 = 0, so zeros are allowed. Its
  decomposition over groups: T = T_between + T_within, T_between = sum_g (W_g/W)(mu_g/mu)
  ln(mu_g/mu), T_within = sum_g (W_g mu_g / (W mu)) T_g.
- CV is the weighted population standard deviation over the weighted mean.
- Atkinson A(e) = 1 - (mean of (y/mu)^(1-e))^(1/(1-e)), A(1) = 1 - geometric mean / mu. For
  e >= 1 a zero value makes the generalised mean 0, so A = 1 (the most unequal), by convention.
- P90/P10 use weighted percentiles (inverse of the pupil-weighted distribution function: the
  smallest unit value with at least p of the pupils at or below it); None when P10 is 0.
- max/min is over units, unweighted; None when the minimum is 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Floats = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Measures:
    units: int
    mean: float | None
    gini: float | None
    theil: float | None
    theil_between: float | None
    theil_within: float | None
    cv: float | None
    atkinson_05: float | None
    atkinson_1: float | None
    atkinson_2: float | None
    p90_p10: float | None
    max_min: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def _clean(
    values: ArrayLike, weights: ArrayLike | None, groups: Sequence[object] | None = None
) -> tuple[Floats, Floats, list[object]]:
    y = np.asarray(values, dtype=np.float64)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=np.float64)
    if y.shape != w.shape or y.ndim != 1:
        raise ValueError("values and weights must be one-dimensional and of the same length")
    if np.any(y[np.isfinite(y)] < 0) or np.any(w < 0):
        raise ValueError("values and weights must not be negative")
    keep = np.isfinite(y) & np.isfinite(w) & (w > 0)
    kept_groups = [g for g, k in zip(groups, keep, strict=True) if k] if groups is not None else []
    return y[keep], w[keep], kept_groups


def _mean(y: Floats, w: Floats) -> float:
    return float(np.sum(w * y) / np.sum(w))


def _comparable(y: Floats, w: Floats) -> bool:
    return len(y) >= 2 and _mean(y, w) > 0


def gini(values: ArrayLike, weights: ArrayLike | None = None) -> float | None:
    y, w = _clean(values, weights)[:2]
    if not _comparable(y, w):
        return None
    order = np.argsort(y, kind="stable")
    y, w = y[order], w[order]
    total = np.sum(w)
    cumulative = np.cumsum(w)
    # sum_i sum_j w_i w_j |y_i - y_j| = 2 sum_i w_i y_i (2 C_i - w_i - W), C_i = cumulative weight
    numerator = np.sum(w * y * (2 * cumulative - w - total))
    return float(numerator / (total * total * _mean(y, w)))


def _theil(y: Floats, w: Floats) -> float:
    ratio = y / _mean(y, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(ratio > 0, ratio * np.log(np.where(ratio > 0, ratio, 1.0)), 0.0)
    return float(np.sum(w * terms) / np.sum(w))


def theil(values: ArrayLike, weights: ArrayLike | None = None) -> float | None:
    y, w = _clean(values, weights)[:2]
    return _theil(y, w) if _comparable(y, w) else None


def theil_decomposition(
    values: ArrayLike, groups: Sequence[object], weights: ArrayLike | None = None
) -> tuple[float, float, float] | None:
    """(total, between groups, within groups) of Theil T."""
    y, w, g = _clean(values, weights, groups)
    if not _comparable(y, w):
        return None
    mu, total_w = _mean(y, w), float(np.sum(w))
    labels = np.array([str(x) for x in g])
    between = within = 0.0
    for label in np.unique(labels):
        mask = labels == label
        wg, yg = w[mask], y[mask]
        share_w = float(np.sum(wg)) / total_w
        mu_g = _mean(yg, wg)
        if mu_g > 0:
            between += share_w * (mu_g / mu) * np.log(mu_g / mu)
            within += share_w * (mu_g / mu) * _theil(yg, wg)
    return _theil(y, w), float(between), float(within)


def cv(values: ArrayLike, weights: ArrayLike | None = None) -> float | None:
    y, w = _clean(values, weights)[:2]
    if not _comparable(y, w):
        return None
    mu = _mean(y, w)
    return float(np.sqrt(np.sum(w * (y - mu) ** 2) / np.sum(w)) / mu)


def atkinson(values: ArrayLike, epsilon: float, weights: ArrayLike | None = None) -> float | None:
    y, w = _clean(values, weights)[:2]
    if not _comparable(y, w):
        return None
    mu, total = _mean(y, w), float(np.sum(w))
    if epsilon >= 1 and np.any(y == 0):
        return 1.0
    if epsilon == 1:
        return float(1 - np.exp(np.sum(w * np.log(y)) / total) / mu)
    power = 1 - epsilon
    generalised = (np.sum(w * (y / mu) ** power) / total) ** (1 / power)
    return float(1 - generalised)


def weighted_percentile(values: ArrayLike, p: float, weights: ArrayLike | None = None) -> float:
    """The smallest value with at least a share p of the weight at or below it."""
    y, w = _clean(values, weights)[:2]
    if len(y) == 0:
        raise ValueError("no values")
    order = np.argsort(y, kind="stable")
    y, w = y[order], w[order]
    share = np.cumsum(w) / np.sum(w)
    index = int(np.searchsorted(share, p - 1e-12, side="left"))
    return float(y[min(index, len(y) - 1)])


def ratio(top: float, bottom: float) -> float | None:
    return None if bottom == 0 else top / bottom


def measures(
    values: ArrayLike, weights: ArrayLike | None = None, groups: Sequence[object] | None = None
) -> Measures:
    """Every measure at once; the Theil decomposition when groups are given."""
    y, w, g = _clean(values, weights, groups)
    if not _comparable(y, w):
        return Measures(len(y), _mean(y, w) if len(y) else None, *([None] * 10))
    decomposition = theil_decomposition(y, g, w) if groups is not None else None
    return Measures(
        units=len(y),
        mean=_mean(y, w),
        gini=gini(y, w),
        theil=theil(y, w),
        theil_between=decomposition[1] if decomposition else None,
        theil_within=decomposition[2] if decomposition else None,
        cv=cv(y, w),
        atkinson_05=atkinson(y, 0.5, w),
        atkinson_1=atkinson(y, 1.0, w),
        atkinson_2=atkinson(y, 2.0, w),
        p90_p10=ratio(weighted_percentile(y, 0.9, w), weighted_percentile(y, 0.1, w)),
        max_min=ratio(float(np.max(y)), float(np.min(y))),
    )
