"""Migrations: one head, an empty database upgrades to it, and models match migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from app.cli import alembic_config, upgrade_database
from app.db import get_engine
from records.db import Base


def test_exactly_one_head(app: Flask) -> None:
    with app.app_context():
        heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1


def test_upgraded_database_matches_the_models(app: Flask) -> None:
    # The session fixture upgraded an empty database; upgrading again is a no-op.
    with app.app_context():
        upgrade_database()
        with get_engine().connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_database_is_at_head(app: Flask) -> None:
    with app.app_context():
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        with get_engine().connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    assert current == head
