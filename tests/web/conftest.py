"""Browser pages through Flask's test client, signed in with the real form (CSRF included)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.db import new_session
from tests.conftest import SERVICE_URL
from tests.factories import PASSWORD, add_school_accounts, build_school_world

BASE = "https://localhost"


@pytest.fixture
def school(db_app: Flask) -> dict[str, Any]:
    with db_app.app_context(), new_session() as session:
        world = build_school_world(session, SERVICE_URL)
        emails = add_school_accounts(session, world)
        ids = {name: person.public_id for name, person in world["people"].items()}
        classes = {code: klass.id for code, klass in world["classes"].items()}
        session.commit()
    return {"emails": emails, "ids": ids, "classes": classes}


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


@pytest.fixture
def sign_in(db_app: Flask, school: dict[str, Any]) -> Callable[[str], FlaskClient]:
    """A browser-like client signed in as one of the school's accounts (P1, T1, adminA...)."""

    def signed_in(name: str) -> FlaskClient:
        client = db_app.test_client()
        client.environ_base["HTTP_REFERER"] = f"{BASE}/"  # flask-wtf checks it on HTTPS posts
        token = csrf_of(client.get(f"{BASE}/sign-in").get_data(as_text=True))
        answer = client.post(
            f"{BASE}/sign-in",
            data={"email": school["emails"][name], "password": PASSWORD, "csrf_token": token},
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)
        return client

    return signed_in


def form_token(client: FlaskClient, path: str) -> str:
    return csrf_of(client.get(f"{BASE}{path}", follow_redirects=True).get_data(as_text=True))
