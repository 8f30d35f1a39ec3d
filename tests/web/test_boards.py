"""The board dashboard through the browser-like test client: a board analyst's own region with
its charts, drill-down within it, downloads of every chart's numbers, and nothing beyond it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.db import new_session
from records.identity.accounts import create_account
from tests.api.test_analytics_api import PASSWORD, build_region_world
from tests.web.conftest import BASE, csrf_of

pytestmark = pytest.mark.db


@pytest.fixture
def board(db_app: Flask) -> Callable[[str], FlaskClient]:
    """board(name) -> a signed-in browser: 'pref' (analyst of 13), 'city' (of 131016),
    'teacher'."""
    with db_app.app_context(), new_session() as session:
        build_region_world(session)
        session.commit()
    grants = {
        "pref": ("board_analyst", "13"),
        "city": ("board_analyst", "131016"),
        "teacher": ("teacher", "B113200000015"),
    }

    def signed_in(name: str) -> FlaskClient:
        role, org = grants[name]
        email = f"{name}@board.example.jp"
        with db_app.app_context(), new_session() as session:
            create_account(session, email, PASSWORD, role, org)
            session.commit()
        client = db_app.test_client()
        client.environ_base["HTTP_REFERER"] = f"{BASE}/"
        token = csrf_of(client.get(f"{BASE}/sign-in").get_data(as_text=True))
        answer = client.post(
            f"{BASE}/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token}
        )
        assert answer.status_code == 302
        return client

    return signed_in


def test_the_dashboard_of_a_prefecture(board: Callable[[str], FlaskClient]) -> None:
    client = board("pref")
    home = client.get(f"{BASE}/")
    assert home.status_code == 302
    assert home.location.endswith("/boards")
    page = client.get(f"{BASE}/boards?period=2026-06")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "東京都" in html
    assert "千代田区" in html
    # Nothing of another prefecture (the map names every prefecture, with no figure).
    assert "大阪市" not in html
    assert "堺市" not in html
    assert "B127" not in html
    for chart in ("chart-map", "chart-distribution", "chart-decomposition", "chart-trend"):
        assert chart in html
    assert "出典：国土数値情報（行政区域データ）（国土交通省）" in html
    assert "cdn" not in html.lower()
    assert "/assets/plotly.min.js" in html
    # Drill down to a municipality of the prefecture.
    city = client.get(f"{BASE}/boards?period=2026-06&region=131016")
    assert city.status_code == 200
    assert "B113200000024" in city.get_data(as_text=True)


def test_every_chart_downloads(board: Callable[[str], FlaskClient]) -> None:
    client = board("pref")
    for part in ("units", "measures", "trend", "distribution"):
        answer = client.get(f"{BASE}/boards/data/{part}.csv?period=2026-06&level=school")
        assert answer.status_code == 200, part
        assert answer.mimetype == "text/csv"
        assert list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
        as_json = client.get(f"{BASE}/boards/data/{part}.json?period=2026-06&level=school")
        assert as_json.get_json()[part]
    units = client.get(f"{BASE}/boards/data/units.json?period=2026-06&level=school").get_json()
    hidden = [u for u in units["units"] if u["hidden"]]
    assert hidden
    assert all(u["value"] is None and u["pupils"] is None for u in hidden)
    assert client.get(f"{BASE}/boards/data/secrets.csv").status_code == 404


@pytest.mark.parametrize("region", ["27", "271004", "JP", "13"])
def test_a_city_analyst_stays_in_their_city(
    board: Callable[[str], FlaskClient], region: str
) -> None:
    client = board("city")
    assert client.get(f"{BASE}/boards?region={region}").status_code == 403
    assert client.get(f"{BASE}/boards/data/units.csv?region={region}").status_code == 403


def test_others_cannot_open_the_dashboard(
    board: Callable[[str], FlaskClient], db_app: Flask
) -> None:
    assert board("teacher").get(f"{BASE}/boards").status_code == 403
    anonymous = db_app.test_client().get(f"{BASE}/boards")
    assert anonymous.status_code == 302
    assert "sign-in" in anonymous.location


def test_bad_parameters_get_a_page(board: Callable[[str], FlaskClient]) -> None:
    client = board("pref")
    answer = client.get(f"{BASE}/boards?period=someday")
    assert answer.status_code == 400
    assert "<html" in answer.get_data(as_text=True)
    assert client.get(f"{BASE}/boards?indicator=nope").status_code == 400
