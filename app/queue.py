"""Background jobs: rq when ASHIATO_REDIS_URL is set, otherwise run in-process.

Queue names are listed here once. Jobs are enqueued by dotted path with ids only.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

QUEUES = ("exports", "analytics", "default")
log = logging.getLogger(__name__)
_REDIS = "ashiato.redis"


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    # Short timeouts: a Redis that is down must not hang requests (enqueue falls back).
    app.extensions[_REDIS] = (
        Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5) if url else None
    )


def get_redis() -> Redis | None:
    redis: Redis | None = current_app.extensions[_REDIS]
    return redis


def enqueue(queue: str, func_path: str, *args: Any) -> str | None:
    """Run `func_path(*args)` as a job; returns the rq job id, or None when run in-process.

    Redis configured but unreachable: the job runs in-process instead (slower for this one
    request, but the work is done and nothing is left "queued" for a worker that never comes).
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")
    redis = get_redis()
    if redis is not None:
        try:
            job = Queue(queue, connection=redis).enqueue(func_path, *args)
        except RedisError as exc:
            log.warning(
                "Redis unavailable (%s): running %s in-process", type(exc).__name__, func_path
            )
        else:
            return str(job.id)
    module_name, _, func_name = func_path.rpartition(".")
    module = importlib.import_module(module_name)
    getattr(module, func_name)(*args)
    return None
