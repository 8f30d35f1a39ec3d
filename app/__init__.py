"""Ashiato's Flask application: the only package that speaks HTTP."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from app import auth, cli, db, errors, group_commit, i18n, queue, web
from app.api import bp as api_bp
from app.csrf import csrf
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
    queue.init_app(app)
    group_commit.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    csrf.init_app(app)
    csrf.exempt(xapi_bp)  # HTTP Basic credentials, never sent by a browser on its own
    app.register_blueprint(xapi_bp, url_prefix="/xapi")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(web.bp)

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
    if not app.config.get("CREDENTIAL_HASH_KEY"):
        app.config["CREDENTIAL_HASH_KEY"] = app.config["SECRET_KEY"]
