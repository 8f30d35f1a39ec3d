"""Rate limits per LRS credential (zero trust: one leaked or runaway device key cannot flood the
service). A fixed one-minute window counted in Redis, so every web process shares it; without
Redis (or while it is down) each process counts for itself."""

from __future__ import annotations

import threading
import time

from flask import Flask, current_app
from redis.exceptions import RedisError

from app.queue import get_redis

_LOCAL = "ashiato.rate_counts"
WINDOW = 60


class LocalCounts:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, window: int) -> int:
        with self._lock:
            start, count = self._counts.get(key, (window, 0))
            count = count + 1 if start == window else 1
            self._counts[key] = (window, count)
            if len(self._counts) > 100_000:  # old windows of keys no longer seen
                self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
            return count


def over_limit(kind: str, key: str, limit: int) -> int | None:
    """Count one request; the seconds to wait when `limit` per minute is exceeded, else None."""
    if limit <= 0:
        return None
    now = time.time()
    window = int(now // WINDOW)
    counter = f"ashiato:rate:{kind}:{key}:{window}"
    count: int | None = None
    redis = get_redis()
    if redis is not None:
        try:
            pipe = redis.pipeline()
            pipe.incr(counter)
            pipe.expire(counter, WINDOW * 2)
            count = int(pipe.execute()[0])
        except RedisError:
            count = None
    if count is None:
        local: LocalCounts = current_app.extensions[_LOCAL]
        count = local.hit(counter, window)
    if count > limit:
        return max(1, int((window + 1) * WINDOW - now))
    return None


def init_app(app: Flask) -> None:
    app.extensions[_LOCAL] = LocalCounts()
