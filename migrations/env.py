"""Alembic environment. Imports only the metadata (every models module), never the app."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

import lti.models  # noqa: F401 - registers the LTI tables on the metadata
import records.analytics_models
import records.identity.models
import records.models
import records.portability.models
import records.trust.models  # noqa: F401
from records.db import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return (
        config.get_main_option("sqlalchemy.url")
        or os.environ.get("ASHIATO_DATABASE_URL")
        or "sqlite:///instance/ashiato.sqlite3"
    )


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url())
    with engine.begin() as conn:
        _run(conn)


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
