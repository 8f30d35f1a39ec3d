"""Shared fixtures: a real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL),
the app built with create_app(test_config), and factories for organisations and credentials.

Locally a missing service skips the tests that need it; with CI set, it fails them.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from app.cli import upgrade_database
from app.db import get_engine, new_session
from records.credentials import create_credential, parse_scopes
from records.db import Base
from records.organisations import create_organisation
from tests.factories import make_statement

IN_CI = bool(os.environ.get("CI"))
SERVICE_URL = "http://lrs.test/"


def need_service(name: str, reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{name} is required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        # A clean schema per run: migrations are part of what is tested.
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("instance")
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-not-for-production",
            "PUBLIC_URL": SERVICE_URL,
            "REDIS_URL": None,
            "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        }
    )
    application.instance_path = str(instance)
    with application.app_context():
        upgrade_database()
    yield application
    with application.app_context():
        get_engine().dispose()


@pytest.fixture
def db_app(app: Flask) -> Iterator[Flask]:
    """The app, with every table emptied after the test (tests may commit)."""
    yield app
    with app.app_context(), get_engine().begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def client(db_app: Flask) -> FlaskClient:
    return db_app.test_client()


@pytest.fixture
def make_credential(db_app: Flask) -> Callable[..., dict[str, str]]:
    """make_credential(scopes="all", org="school-a") -> request headers for that credential."""
    orgs: set[str] = set()

    def make(scopes: str = "all", org: str = "school-a") -> dict[str, str]:
        with db_app.app_context(), new_session() as session:
            if org not in orgs:
                create_organisation(session, org, f"{org} 学校")
                orgs.add(org)
            new = create_credential(
                session,
                org,
                parse_scopes(scopes),
                f"{org} device",
                db_app.config["CREDENTIAL_HASH_KEY"].encode(),
            )
            session.commit()
        token = base64.b64encode(f"{new.info.key}:{new.secret}".encode()).decode()
        return {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}

    return make


@pytest.fixture
def lrs(make_credential: Callable[..., dict[str, str]]) -> dict[str, str]:
    """Headers of a credential with every scope, for school-a."""
    return make_credential("all")


@pytest.fixture
def statement_factory() -> Callable[..., dict[str, Any]]:
    return make_statement


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
