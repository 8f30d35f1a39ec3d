"""The board dashboard in a real browser, on demo data seeded through the real ingest path:
a prefecture's analyst sees the map (with its credit), distributions, decomposition and trend
drawn by plotly served locally, drills down to a municipality, and cannot leave their region."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from app.demo_seed import DEMO_PASSWORD, seed_world
from records.school_calendar import JST, school_year
from tests.e2e.conftest import LiveServer

Shoot = Callable[[Page, str], Path]


def test_a_prefecture_analyst_reads_the_dashboard(
    page: Page,
    live_server: LiveServer,
    sign_in: Callable[..., None],
    shoot: Shoot,
    check_a11y: Callable[[Page], list[dict[str, Any]]],
) -> None:
    today = datetime.now(JST).date()
    first = today - timedelta(days=35)
    with live_server.app.app_context():
        seed_world(random.Random(6), 12, first, today)  # noqa: S311 - synthetic data
    sign_in(page, "analyst-13@demo.example.jp", DEMO_PASSWORD)
    page.goto(f"/boards?period={school_year(first)}")
    expect(page.locator("h1")).to_contain_text("東京都")
    for chart in ("map", "distribution", "decomposition", "trend"):
        expect(page.locator(f"#chart-{chart} .main-svg").first).to_be_visible()
    expect(page.get_by_text("出典：国土数値情報（行政区域データ）（国土交通省）")).to_be_visible()
    shoot(page, "boards-prefecture")
    check_a11y(page)

    page.get_by_role("link", name="千代田区").click()
    expect(page).to_have_url(re.compile(r"region=131016"))
    expect(page.locator("h1")).to_contain_text("千代田区")
    expect(page.locator("#chart-distribution .main-svg").first).to_be_visible()
    shoot(page, "boards-municipality")

    answer = page.goto("/boards?region=27")
    assert answer is not None
    assert answer.status == 403
