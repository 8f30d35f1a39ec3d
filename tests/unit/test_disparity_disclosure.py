"""Disclosure control on crafted tables: primary and complementary suppression, so no hidden
cell can be recovered by subtracting shown ones from a published total."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.disclosure import suppress


def _table(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unit", "parent", "size"]).set_index("unit")


def test_small_cells_are_hidden_with_a_complement() -> None:
    table = _table([("a", "m1", 4), ("b", "m1", 50), ("c", "m1", 30), ("d", "m2", 40)])
    hidden = suppress(table, 10)
    # a is too small; c (the smallest other sibling) is hidden with it, so m1's total minus
    # the shown b leaves a + c (34 pupils), never a alone.
    assert hidden.to_dict() == {"a": True, "b": False, "c": True, "d": False}


def test_hidden_siblings_together_reach_k() -> None:
    table = _table([("a", "m", 2), ("b", "m", 3), ("c", "m", 4), ("d", "m", 60)])
    hidden = suppress(table, 10)
    # a, b and c are all under k but together only 9 pupils: d must be hidden as well.
    assert hidden.all()


def test_nothing_hidden_when_all_cells_are_large() -> None:
    table = _table([("a", "m", 10), ("b", "m", 11)])
    assert not suppress(table, 10).any()


def test_children_of_a_hidden_parent_are_hidden() -> None:
    table = _table([("s1", "m1", 40), ("s2", "m1", 50), ("s3", "m2", 40)])
    hidden = suppress(table, 10, hidden_parents={"m1"})
    assert hidden.to_dict() == {"s1": True, "s2": True, "s3": False}


def test_a_lone_child_of_a_group_is_hidden_alone() -> None:
    table = _table([("a", "m1", 3)])
    assert suppress(table, 10).to_dict() == {"a": True}


def test_minimum_cell_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        suppress(_table([("a", "m", 3)]), 0)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["m1", "m2", "m3"]), st.integers(min_value=0, max_value=40)),
        min_size=1,
        max_size=12,
    ),
    st.integers(min_value=1, max_value=20),
)
def test_no_group_reveals_a_small_remainder(pairs: list[tuple[str, int]], k: int) -> None:
    table = _table([(f"u{n}", parent, size) for n, (parent, size) in enumerate(pairs)])
    hidden = suppress(table, k)
    for _, members in table.groupby("parent"):
        gone = hidden[members.index]
        assert not (members["size"][~gone] < k).any()  # nothing small is shown
        if gone.any():
            # Subtracting the shown siblings from the parent's total leaves the hidden ones
            # together: at least two of them, with at least k pupils, or the whole group.
            assert gone.all() or (gone.sum() >= 2 and members["size"][gone].sum() >= k)
