"""`flask --app app demo seed`: the demo world goes through the real ingest path into the
rollups, the dashboard's report has figures, and seeding again adds nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.db import new_session
from records.analytics_models import LearningDay, SchoolWeek
from records.models import StoredStatement

pytestmark = pytest.mark.db


def _count(app: Flask, model: type) -> int:
    with app.app_context(), new_session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_demo_seed_fills_the_rollups_once(db_app: Flask) -> None:
    runner = db_app.test_cli_runner()
    assert "seed" in runner.invoke(args=["demo", "--help"]).output
    first = runner.invoke(args=["demo", "seed", "--pupils", "2"])
    assert first.exit_code == 0, first.output
    assert "seeded 12 schools" in first.output
    statements = _count(db_app, StoredStatement)
    assert statements > 0
    assert _count(db_app, LearningDay) > 0
    assert _count(db_app, SchoolWeek) > 0

    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert "already" in again.output
    assert _count(db_app, StoredStatement) == statements

    refreshed = runner.invoke(args=["analytics", "refresh"])
    assert refreshed.exit_code == 0, refreshed.output
