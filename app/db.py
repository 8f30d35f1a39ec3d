"""Engine and per-request session. Domain code flushes; the edge (view, job, CLI) commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

import lti.models  # noqa: F401 - registers the LTI tables on the metadata
import records.analytics_models
import records.identity.models
import records.models
import records.portability.models
import records.trust.models  # noqa: F401
from records.audit import AUDIT_KEY
from records.jsontext import dump_json

_ENGINE = "ashiato.engine"
_FACTORY = "ashiato.sessionmaker"


def _json_text(value: Any) -> str:
    # orjson (compact, UTF-8 as is, fast) with the standard library's fallback for huge integers.
    return dump_json(value).decode("utf-8")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=_json_text)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets readers run beside the one writer; busy_timeout queues writers instead
            # of failing them with "database is locked".
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # No pre-ping: it costs a round trip per checkout. A connection found dead raises a
    # disconnect error, which invalidates the pool, so the next request reconnects.
    return create_engine(
        url, pool_size=10, max_overflow=20, pool_recycle=600, json_serializer=_json_text
    )


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions[_ENGINE] = engine
    # Domain code that writes the access log finds the audit key on its session (records.audit).
    info = {AUDIT_KEY: app.config["AUDIT_KEY"].encode("utf-8")}
    app.extensions[_FACTORY] = sessionmaker(bind=engine, expire_on_commit=False, info=info)
    app.teardown_appcontext(_close_session)


def get_engine() -> Engine:
    engine: Engine = current_app.extensions[_ENGINE]
    return engine


def get_session() -> Session:
    """The request's session (created on first use, closed and rolled back at teardown)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[_FACTORY]()
    session: Session = g.db_session
    return session


def commit_request_session() -> None:
    """Commit the request's session, if the request opened one (a cheap no-op otherwise)."""
    session: Session | None = g.get("db_session")
    if session is not None:
        session.commit()


@contextmanager
def new_session() -> Iterator[Session]:
    """A session of its own, for jobs and CLI commands."""
    session: Session = current_app.extensions[_FACTORY]()
    try:
        yield session
    finally:
        session.close()


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
