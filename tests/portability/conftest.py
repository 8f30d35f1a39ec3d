"""Two independent instances for transfer tests: A is the suite's app (SQLite, or
TEST_DATABASE_URL); B is a second app over its own database (TEST_DATABASE_URL_B, else a
SQLite file of its own), with its own public URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from app.cli import upgrade_database
from app.db import get_engine, new_session
from records.db import Base
from tests.conftest import SERVICE_URL
from tests.portability.world import build_receiver, build_sender

SERVICE_URL_B = "http://lrs-b.test/"


@pytest.fixture(scope="session")
def app_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    url = os.environ.get("TEST_DATABASE_URL_B")
    if url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db_b') / 'instance_b.sqlite3'}"
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "another-test-secret-for-instance-b",
            "PUBLIC_URL": SERVICE_URL_B,
            "REDIS_URL": None,
            "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
        }
    )
    application.instance_path = str(tmp_path_factory.mktemp("instance_b"))
    with application.app_context():
        upgrade_database()
    yield application
    with application.app_context():
        get_engine().dispose()


@pytest.fixture
def db_app_b(app_b: Flask) -> Iterator[Flask]:
    yield app_b
    with app_b.app_context(), get_engine().begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def client_b(db_app_b: Flask) -> FlaskClient:
    return db_app_b.test_client()


@pytest.fixture
def sender(db_app: Flask) -> dict[str, Any]:
    with db_app.app_context(), new_session() as session:
        found = build_sender(session, SERVICE_URL, db_app.config["CREDENTIAL_HASH_KEY"].encode())
        session.commit()
    return found


@pytest.fixture
def receiver(db_app_b: Flask) -> dict[str, Any]:
    with db_app_b.app_context(), new_session() as session:
        found = build_receiver(
            session, SERVICE_URL_B, db_app_b.config["CREDENTIAL_HASH_KEY"].encode()
        )
        session.commit()
    return found
