"""Health for load balancers and operators: /healthz (the process answers) and /readyz (it can
do its work: database reachable, schema at the migrations' head, Redis answering when set).

Readiness is 503 only when requests would fail: the database down or its schema behind. Redis
down makes it "degraded" but still 200, because ingest, reads and pages work without Redis;
only work that needs a job waits. Each answer names the failing part, never a connection URL.
"""

from __future__ import annotations

from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.typing import ResponseReturnValue
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from app.cli import alembic_config
from app.db import get_engine

_HEADS = "ashiato.migration_heads"
_PROBE = "ashiato.redis_probe"


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    # A client of its own with short timeouts: a probe must answer fast when Redis hangs.
    app.extensions[_PROBE] = (
        Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) if url else None
    )

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return {"status": "alive"}

    @app.get("/readyz")
    def readyz() -> ResponseReturnValue:
        checks = {"database": _database(), "redis": _redis()}
        if checks["database"]["status"] == "ok":
            checks["migrations"] = migration_status()
        else:
            checks["migrations"] = {"status": "unknown", "message": "database unavailable"}
        failing = [name for name in ("database", "migrations") if checks[name]["status"] != "ok"]
        if failing:
            status, code = "unavailable", 503
        elif checks["redis"]["status"] == "down":
            status, code = "degraded", 200
        else:
            status, code = "ready", 200
        headers = {"Retry-After": "5"} if code == 503 else {}
        return {"status": status, "checks": checks}, code, headers


def _database() -> dict[str, Any]:
    # A pooled connection to a database server that has restarted fails once, and that failure
    # invalidates the pool: ask again on a new connection before saying the database is down,
    # so readiness does not flap after a restart.
    for attempt in (1, 2):
        try:
            with get_engine().connect() as connection:
                connection.execute(text("SELECT 1"))
        except DBAPIError as exc:
            if attempt == 1 and exc.connection_invalidated:
                continue
            return {"status": "down", "message": f"database unreachable ({type(exc).__name__})"}
        except SQLAlchemyError as exc:
            return {"status": "down", "message": f"database unreachable ({type(exc).__name__})"}
        break
    return {"status": "ok"}


def migration_status() -> dict[str, Any]:
    """`ok` when the database's schema is at the migrations' head, else `behind` or `down`."""
    heads: tuple[str, ...] | None = current_app.extensions.get(_HEADS)
    if heads is None:
        heads = tuple(ScriptDirectory.from_config(alembic_config()).get_heads())
        current_app.extensions[_HEADS] = heads  # the code's heads do not change while it runs
    try:
        with get_engine().connect() as connection:
            current = tuple(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        return {"status": "down", "message": f"database unreachable ({type(exc).__name__})"}
    if set(current) != set(heads):
        return {
            "status": "behind",
            "message": "run `flask db upgrade`",
            "current": sorted(current),
            "head": sorted(heads),
        }
    return {"status": "ok", "revision": sorted(current)}


def _redis() -> dict[str, Any]:
    probe: Redis | None = current_app.extensions[_PROBE]
    if probe is None:
        return {"status": "not configured", "message": "jobs run in-process"}
    try:
        probe.ping()
    except RedisError as exc:
        return {
            "status": "down",
            "message": f"Redis unreachable ({type(exc).__name__}); jobs cannot be queued",
        }
    return {"status": "ok"}
