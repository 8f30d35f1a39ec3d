"""Fixtures of the API tests: an xAPI client per credential and a look at what was stored."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.db import new_session
from records.models import Activity, Attachment, Document, StatementIndex, StoredStatement
from tests.api.lrs_client import Lrs


@pytest.fixture
def xapi(client: FlaskClient, lrs: dict[str, str]) -> Lrs:
    """An xAPI client with every scope, for school-a."""
    return Lrs(client, lrs)


@pytest.fixture
def lrs_as(
    client: FlaskClient, make_credential: Callable[..., dict[str, str]]
) -> Callable[..., Lrs]:
    """lrs_as(scopes="all", org="school-a") -> an xAPI client with a new credential."""

    def make(scopes: str = "all", org: str = "school-a") -> Lrs:
        return Lrs(client, make_credential(scopes, org))

    return make


@pytest.fixture
def make_statement(
    statement_factory: Callable[..., dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    """make_statement(**overrides): a fresh, deep-copied school statement."""

    def make(**overrides: Any) -> dict[str, Any]:
        return copy.deepcopy(statement_factory(**copy.deepcopy(overrides)))

    return make


@pytest.fixture
def stored_counts(db_app: Flask) -> Callable[[], dict[str, int]]:
    """stored_counts() -> rows per table of what the xAPI stores (all organisations)."""

    def count() -> dict[str, int]:
        with db_app.app_context(), new_session() as session:
            return {
                model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (StoredStatement, StatementIndex, Attachment, Activity, Document)
            }

    return count


@pytest.fixture
def statement_count(stored_counts: Callable[[], dict[str, int]]) -> Callable[[], int]:
    """statement_count() -> statements stored, in every organisation, voided or not."""
    return lambda: stored_counts()["statements"]
