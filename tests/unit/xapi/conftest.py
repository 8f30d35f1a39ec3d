"""Fixtures for the xAPI unit tests."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from xapi_samples import SCHOOL_STATEMENT, MakeStatement, apply_changes


@pytest.fixture
def make_statement() -> MakeStatement:
    """make_statement(changes={"actor.mbox": ...}, drop=["actor.account"], **top_level)"""

    def make(
        changes: Mapping[str, Any] | None = None, drop: Iterable[str] = (), **top_level: Any
    ) -> dict[str, Any]:
        statement = copy.deepcopy(SCHOOL_STATEMENT)
        statement.update(copy.deepcopy(top_level))
        return apply_changes(statement, copy.deepcopy(dict(changes or {})), drop)

    return make
