"""gunicorn settings for production: gunicorn's own log lines in the app's JSON shape.

    gunicorn -c python:app.gunicorn_conf --workers 4 --threads 4 --bind 0.0.0.0:8000 \\
        'app:create_app()'

Every line on stderr is then one JSON object, from gunicorn's master and workers as from the
app: `time`, `level`, `logger` (`gunicorn.error` for gunicorn's own lines), `request_id` (`-`
outside a request), `pid`, `message` (credentials and e-mail addresses masked; for an exception
its type and frames, never its text). gunicorn's access log stays off unless `--access-logfile`
is given: the app writes its own access line (`ashiato.access`), without query strings, which
gunicorn's would carry. `ASHIATO_LOG_JSON=false` leaves gunicorn's logging as gunicorn has it.
Command-line options override what is set here.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from gunicorn.glogging import Logger


class JsonLogger(Logger):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's logger, with its access log off unless `accesslog` is set (a logconfig would
    switch it on, formatting every request's atoms for nothing)."""

    def _compute_access_log_enabled(self) -> bool:
        return bool(self.cfg.accesslog)


_JSON = os.environ.get("ASHIATO_LOG_JSON", "true").strip().lower() not in ("false", "0", "no")

if _JSON:
    logging.captureWarnings(True)  # Python's warnings as log lines too, not bare text
    logger_class = JsonLogger
    logconfig_dict: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "WARNING", "handlers": ["json"]},
        "loggers": {
            # No level for gunicorn.error: gunicorn's own --log-level (default info) applies.
            "gunicorn.error": {"handlers": ["json"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False},
            "ashiato": {"level": "INFO"},
            "app": {"level": "INFO"},
        },
        "handlers": {"json": {"()": "app.observability.JsonHandler"}},
        "formatters": {},
    }
