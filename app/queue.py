"""Background jobs: rq when ASHIATO_REDIS_URL is set, otherwise run in-process.

Queue names are listed here once. Jobs are enqueued by dotted path with ids only.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from redis import Redis
from rq import Queue

QUEUES = ("exports", "analytics", "default")
_REDIS = "ashiato.redis"


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    app.extensions[_REDIS] = Redis.from_url(url) if url else None


def get_redis() -> Redis | None:
    redis: Redis | None = current_app.extensions[_REDIS]
    return redis


def enqueue(queue: str, func_path: str, *args: Any) -> str | None:
    """Run `func_path(*args)` as a job; returns the rq job id, or None when run in-process."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    redis = get_redis()
    if redis is None:
        module_name, _, func_name = func_path.rpartition(".")
        module = __import__(module_name, fromlist=[func_name])
        getattr(module, func_name)(*args)
        return None
    job = Queue(queue, connection=redis).enqueue(func_path, *args)
    return str(job.id)
