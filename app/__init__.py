"""Ashiato's Flask application: the only package that speaks HTTP."""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from app import (
    auth,
    cli,
    db,
    errors,
    group_commit,
    i18n,
    lti_views,
    queue,
    rate_limits,
    security,
    web,
)
from app import health as probes
from app import observability as telemetry
from app.api import bp as api_bp
from app.csrf import csrf
from app.ops_cli import ops_cli
from app.xapi import bp as xapi_bp


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object("app.config.Defaults")
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("ASHIATO")
    else:
        app.config.from_mapping(test_config)
    _settle_config(app)

    db.init_app(app)
    telemetry.init_app(app)  # first: request ids exist for every later hook's log lines
    probes.init_app(app)
    queue.init_app(app)
    rate_limits.init_app(app)
    group_commit.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    app.cli.add_command(ops_cli)  # flask ops check | reconcile-jobs (docs/OPERATIONS.md)
    auth.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    security.init_app(app)
    csrf.init_app(app)
    csrf.exempt(xapi_bp)  # HTTP Basic credentials, never sent by a browser on its own
    csrf.exempt(lti_views.bp)  # the platform posts login and id_token; state + nonce protect them
    app.register_blueprint(xapi_bp, url_prefix="/xapi")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(web.bp)
    lti_views.init_app(app)
    app.register_blueprint(lti_views.bp, url_prefix="/lti")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _settle_config(app: Flask) -> None:
    """Fill the embedded defaults, or fail fast in production with a message that says what."""
    instance = Path(app.instance_path)
    if app.config["PRODUCTION"]:
        missing = [k for k in ("SECRET_KEY", "DATABASE_URL", "PUBLIC_URL") if not app.config.get(k)]
        if missing:
            names = ", ".join(f"ASHIATO_{k}" for k in missing)
            raise RuntimeError(f"production mode needs {names}; set it in the environment")
    if not app.config.get("DATABASE_URL"):
        instance.mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'ashiato.sqlite3'}"
    if not app.config.get("SECRET_KEY"):
        instance.mkdir(parents=True, exist_ok=True)
        key_file = instance / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        app.config["SECRET_KEY"] = key_file.read_text().strip()
    if not app.config.get("AUDIT_KEY"):
        # The access log's HMAC key; derived, so it is never stored beside the log itself.
        digest = hmac.new(app.config["SECRET_KEY"].encode(), b"ashiato access log", "sha256")
        app.config["AUDIT_KEY"] = digest.hexdigest()
    if not app.config.get("CREDENTIAL_HASH_KEY"):
        app.config["CREDENTIAL_HASH_KEY"] = app.config["SECRET_KEY"]
