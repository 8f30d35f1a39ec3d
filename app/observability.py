"""What operators see: JSON log lines carrying a request id, and Prometheus metrics at /metrics.

Every request gets an id: the caller's `X-Request-Id` when it is a plain token (a proxy's or a
device's), otherwise a fresh one; it is echoed back and written on every log line of the
request, so one id finds a device's complaint in the logs of every process.

Log lines carry no secrets and no personal data: the access line has the path without its query
string (xAPI queries carry agents), never headers or bodies; credentials and e-mail addresses
that other code puts into a message are masked before the line is written.

Metrics live in a registry of the app's own (tests build many apps in one process). Under
gunicorn with several workers set PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess
mode) so that /metrics adds up every worker's counters. Job figures are read when scraped, from
the job rows and from rq, so every process reports the same numbers.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import traceback
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from redis.exceptions import RedisError
from rq import Queue
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.db import new_session
from app.queue import QUEUES, get_redis
from records.models import BackgroundJob

_METRICS = "ashiato.metrics"
_HANDLER_MARK = "_ashiato_json"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Masked in every message: HTTP credentials, credential secrets in key:secret form, e-mail.
_SECRETS = (
    (re.compile(r"\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]+", re.IGNORECASE), r"\1 [redacted]"),
    (re.compile(r"(?i)(password|secret|token)(\W{1,3})\S+"), r"\1\2[redacted]"),
    (re.compile(r"(mailto:)?[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
)


def request_id() -> str:
    """This request's id ("-" outside a request)."""
    if not has_request_context():
        return "-"
    return str(g.get("request_id", "-"))


def redact(message: str) -> str:
    for pattern, replacement in _SECRETS:
        message = pattern.sub(replacement, message)
    return message


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request id, message (masked)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": request_id(),
            "pid": record.process,
            "message": redact(record.getMessage()),
        }
        for key in ("method", "path", "status", "duration_ms", "endpoint"):
            if hasattr(record, key):
                line[key] = getattr(record, key)
        if record.exc_info and record.exc_info[0] is not None:
            # The type and where it was raised, never the exception's text: database errors
            # quote the statement's parameters, which may be personal data.
            line["exception"] = record.exc_info[0].__name__
            frames = traceback.extract_tb(record.exc_info[2])[-8:]
            line["stack"] = [f"{f.filename}:{f.lineno} in {f.name}" for f in frames]
        return json.dumps(line, ensure_ascii=False)


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "ashiato_http_requests",
            "HTTP requests answered, by endpoint, method and status.",
            ["endpoint", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "ashiato_http_request_duration_seconds",
            "Time to answer a request, by endpoint.",
            ["endpoint"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.statements = Counter(
            "ashiato_statements_stored",
            "Statements acknowledged as stored by POST/PUT /xapi/statements.",
            registry=registry,
        )


class JobCollector(Collector):
    """Jobs by status (the job rows in the database) and rq's queued and failed counts."""

    def __init__(self, app: Flask) -> None:
        self._app = app

    def collect(self) -> Iterator[Metric]:
        with self._app.app_context():
            yield from self._rows()
            yield from self._rq()

    def _rows(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "ashiato_jobs", "Background job rows by kind and status.", labels=["kind", "status"]
        )
        try:
            with new_session() as session:
                rows = session.execute(
                    select(BackgroundJob.kind, BackgroundJob.status, func.count()).group_by(
                        BackgroundJob.kind, BackgroundJob.status
                    )
                ).all()
        except SQLAlchemyError:
            rows = []  # the database is down: /readyz says so; metrics still answer
        for kind, status, count in rows:
            family.add_metric([kind, status], count)
        yield family

    def _rq(self) -> Iterator[Metric]:
        redis = get_redis()
        if redis is None:
            return
        up = GaugeMetricFamily("ashiato_redis_up", "1 when Redis answered this scrape.")
        queued = GaugeMetricFamily("ashiato_rq_queued", "Jobs waiting in rq.", labels=["queue"])
        failed = GaugeMetricFamily(
            "ashiato_rq_failed", "Jobs in rq's failed registry.", labels=["queue"]
        )
        try:
            for name in QUEUES:
                queue = Queue(name, connection=redis)
                queued.add_metric([name], queue.count)
                failed.add_metric([name], FailedJobRegistry(queue=queue).count)
        except RedisError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield from (up, queued, failed)


def get_metrics() -> Metrics:
    metrics: Metrics = current_app.extensions[_METRICS]
    return metrics


class JsonHandler(logging.StreamHandler):  # type: ignore[type-arg]  # generic in typeshed only
    """JSON lines on stderr (JsonFormatter); gunicorn's logconfig (app/gunicorn_conf.py) names
    it, and install_json_logging finds it there instead of adding a second one."""

    _ashiato_json = True

    def __init__(self) -> None:
        super().__init__()  # sys.stderr
        self.setFormatter(JsonFormatter())


def install_json_logging() -> None:
    """JSON lines on stderr from every logger (once per process, whatever creates apps).

    Warnings and errors of every library; information (the access line) of our own loggers
    only, so CLI commands print what they printed before (alembic's progress stays quiet)."""
    for name in ("ashiato", "app"):
        logging.getLogger(name).setLevel(logging.INFO)
    root = logging.getLogger()
    if any(getattr(h, _HANDLER_MARK, False) for h in root.handlers):
        return
    root.addHandler(JsonHandler())


def _endpoint() -> str:
    # The route's name, never the raw path: bounded label values, no ids in metrics.
    return request.endpoint or "unmatched"


def init_app(app: Flask) -> None:
    registry = CollectorRegistry(auto_describe=True)
    metrics = Metrics(registry)
    app.extensions[_METRICS] = metrics
    app.extensions["ashiato.metrics_jobs"] = JobCollector(app)
    if app.config.get("LOG_JSON", not app.testing):
        install_json_logging()
    access = logging.getLogger("ashiato.access")

    @app.before_request
    def _start() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = request_id()
        started = g.get("request_started")
        elapsed = time.perf_counter() - started if started is not None else 0.0
        endpoint = _endpoint()
        metrics.requests.labels(endpoint, request.method, str(response.status_code)).inc()
        metrics.latency.labels(endpoint).observe(elapsed)
        if response.status_code in (200, 204) and endpoint == "xapi.statements":
            metrics.statements.inc(_acknowledged(response))
        access.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 1),
                "endpoint": endpoint,
            },
        )
        return response

    @app.get("/metrics")
    def metrics_view() -> Response:
        return Response(generate_latest(_scrape_registry(app)), mimetype=CONTENT_TYPE_LATEST)


def _acknowledged(response: Response) -> int:
    # The xAPI method, which the alternate request syntax carries in a POST.
    method = getattr(g.get("xreq"), "method", request.method)
    if method == "PUT":
        return 1
    if method != "POST" or response.is_streamed:
        return 0
    body = response.get_json(silent=True)
    return len(body) if isinstance(body, list) else 0


def _scrape_registry(app: Flask) -> CollectorRegistry:
    jobs: Collector = app.extensions["ashiato.metrics_jobs"]
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every gunicorn worker's counters, added up.
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
    else:
        registry.register(_Forward(app.extensions[_METRICS].registry))
    registry.register(jobs)
    return registry


class _Forward(Collector):
    """The app's own registry, forwarded into the scrape registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        yield from self._source.collect()
