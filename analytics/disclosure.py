"""Disclosure control: no figure about fewer than k pupils, and no way to recover one.

- Primary suppression: a unit whose cell size (pupils behind the figure) is below k.
- Complementary suppression: within each group of siblings (units sharing a parent, whose
  total is published at the level above), once any unit is hidden, the smallest published
  siblings are hidden too until at least two are hidden and the hidden ones together hold at
  least k pupils, so "parent total minus the shown siblings" never isolates a small group.
  When that cannot be reached, every sibling is hidden.
- Downward: every child of a hidden unit is hidden, so summing the children cannot rebuild it.
Applied level by level from the top (prefectures, municipalities, schools), so the same cell
is hidden in every report and download that could show it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def suppress(
    table: pd.DataFrame,
    k: int,
    *,
    size: str = "size",
    group: str = "parent",
    hidden_parents: set[object] | frozenset[object] = frozenset(),
) -> pd.Series:
    """A boolean Series (index of `table`): which rows must not be shown."""
    if k < 1:
        raise ValueError("the minimum cell size must be at least 1")
    sizes = table[size].fillna(0).to_numpy(dtype=np.float64)
    hidden = (sizes < k) | table[group].isin(list(hidden_parents)).to_numpy()
    codes = pd.factorize(table[group], use_na_sentinel=False)[0]
    # Only groups with some but not all rows hidden need complements.
    hidden_count = np.bincount(
        codes, weights=hidden, minlength=codes.max() + 1 if len(codes) else 0
    )
    members = np.bincount(codes, minlength=len(hidden_count))
    partial = np.flatnonzero((hidden_count > 0) & (hidden_count < members))
    if len(partial):
        order = np.lexsort((sizes, codes))  # by group, then size (stable: first rows first)
        starts = np.searchsorted(codes[order], partial)
        ends = np.searchsorted(codes[order], partial, side="right")
        for start, end in zip(starts, ends, strict=True):
            rows = order[start:end]
            gone = hidden[rows]
            for position in range(len(rows)):
                if gone.sum() >= 2 and sizes[rows][gone].sum() >= k:
                    break
                if not gone[position]:
                    gone[position] = True
            hidden[rows] = gone
    return pd.Series(hidden, index=table.index, dtype=bool)
