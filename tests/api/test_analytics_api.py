"""GET /api/v1/analytics/disparity: regions and roles, disclosure control, JSON and CSV, bad
input, caching. The rollups are crafted school weeks (the rollup job has its own tests)."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app import create_app
from app.db import get_engine, new_session
from records.analytics_models import DisparityReport, SchoolWeek
from records.identity.accounts import create_account, create_token
from records.identity.models import Enrollment, SchoolClass
from records.identity.people import Names, create_person
from records.models import Organisation
from records.organisations import create_organisation
from records.rollups import bump_version
from tests.conftest import need_service

pytestmark = pytest.mark.db

PASSWORD = "correct horse battery staple"
# prefecture -> municipality -> schools (code, pupils, active share)
REGIONS: dict[tuple[str, str], dict[tuple[str, str], list[tuple[str, int, float]]]] = {
    ("13", "東京都"): {
        ("131016", "千代田区"): [
            ("B113200000015", 30, 0.9),
            ("B113200000024", 40, 0.6),
            ("B113200000033", 5, 0.2),  # under k = 10: hidden, with a complement
        ],
        ("131024", "中央区"): [("B113200000042", 60, 0.5), ("B113200000051", 50, 0.7)],
    },
    ("27", "大阪府"): {
        ("271004", "大阪市"): [("B127200000019", 80, 0.3), ("B127200000028", 70, 0.4)],
        ("271021", "堺市"): [("B127200000037", 45, 0.8)],
    },
}
WEEKS = [date(2026, 6, 1) + timedelta(days=7 * n) for n in range(4)]


def build_region_world(session: Session) -> dict[str, int]:
    """Two prefectures, four municipalities, eight schools with four weeks of rollups each."""
    schools: dict[str, int] = {}
    for (pref_code, pref_name), municipalities in REGIONS.items():
        create_organisation(session, pref_code, pref_name, kind="prefecture")
        for (muni_code, muni_name), members in municipalities.items():
            create_organisation(session, muni_code, muni_name, kind="municipality")
            for n, (code, pupils, share) in enumerate(members):
                school = create_organisation(
                    session,
                    code,
                    f"{muni_name}立第{n + 1}小学校",
                    kind="school",
                    parent_code=muni_code,
                )
                schools[code] = school.id
                for week in WEEKS:
                    active_days = round(pupils * 5 * share)
                    session.execute(
                        insert(SchoolWeek),
                        [
                            {
                                "school_id": school.id,
                                "week": week,
                                "school_days": 5,
                                "pupils": pupils,
                                "enrolled_days": pupils * 5,
                                "active_days": active_days,
                                "active3": round(pupils * share),
                                "minutes": 30.0 * active_days,
                                "attempted": active_days * 2,
                                "completed": active_days,
                                "scored": pupils,
                                **{
                                    f"h{b}": (pupils if b == round(share * 9) else 0)
                                    for b in range(10)
                                },
                            }
                        ],
                    )
    bump_version(session)
    return schools


@pytest.fixture
def analytics_client(db_app: Flask) -> Callable[[str], FlaskClient]:
    """analytics_client(role_org) -> a client with a bearer token: 'board:13', 'board:131016',
    'admin', 'teacher'."""
    with db_app.app_context(), new_session() as session:
        build_region_world(session)
        session.commit()
    grants = {
        "board:13": ("board_analyst", "13"),
        "board:131016": ("board_analyst", "131016"),
        "board:27": ("board_analyst", "27"),
        "admin": ("system_admin", "13"),
        "teacher": ("teacher", "B113200000015"),
    }
    tokens: dict[str, str] = {}

    def client_for(name: str) -> FlaskClient:
        if name not in tokens:  # accounts only as a test needs them: hashing takes time
            role, org = grants[name]
            email = f"{name.replace(':', '-')}@board.example.jp"
            with db_app.app_context(), new_session() as session:
                create_account(session, email, PASSWORD, role, org)
                tokens[name] = create_token(
                    session, email, "test", db_app.config["CREDENTIAL_HASH_KEY"].encode()
                )
                session.commit()
        client = db_app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {tokens[name]}"
        return client

    return client_for


def _get(client: FlaskClient, **params: str) -> Any:
    return client.get("/api/v1/analytics/disparity", query_string=params)


def test_a_prefecture_analyst_sees_their_municipalities(
    analytics_client: Callable[[str], FlaskClient],
) -> None:
    answer = _get(analytics_client("board:13"), indicator="active_day_rate", period="2026-06")
    assert answer.status_code == 200, answer.get_json()
    report = answer.get_json()
    assert report["region"]["code"] == "13"
    assert report["level"] == "municipality"
    assert [u["code"] for u in report["units"]] == ["131016", "131024"]
    chiyoda = report["units"][0]
    # (30*0.9 + 40*0.6 + 5*0.2) * 5 / (75 * 5) = 52 / 75
    assert chiyoda["value"] == pytest.approx(52 / 75, abs=1e-3)
    assert chiyoda["pupils"] == 75
    assert report["measures"]["gini"] is not None
    assert len(report["trend"]) == 4


def test_small_schools_are_hidden_with_a_complement(
    analytics_client: Callable[[str], FlaskClient],
) -> None:
    answer = _get(
        analytics_client("board:13"),
        indicator="active_day_rate",
        level="school",
        period="2026-06",
    )
    units = {u["code"]: u for u in answer.get_json()["units"]}
    assert units["B113200000033"]["hidden"]
    assert units["B113200000033"]["value"] is None
    assert units["B113200000033"]["pupils"] is None
    # The smallest sibling goes with it, so Chiyoda's total cannot give it away.
    assert units["B113200000015"]["hidden"]
    assert not units["B113200000024"]["hidden"]
    assert not units["B113200000042"]["hidden"]


@pytest.mark.parametrize(
    ("who", "region"),
    [
        ("board:13", "27"),
        ("board:13", "271004"),
        ("board:13", "JP"),
        ("board:131016", "13"),
        ("board:131016", "131024"),
        ("board:27", "131016"),
        ("board:13", "no-such-region"),
    ],
)
def test_analysts_cannot_reach_outside_their_region(
    analytics_client: Callable[[str], FlaskClient], who: str, region: str
) -> None:
    answer = _get(analytics_client(who), indicator="active_day_rate", region=region)
    assert answer.status_code == 403
    assert "your own" in answer.get_json()["error"]["message"]


def test_a_municipal_analyst_sees_only_their_schools(
    analytics_client: Callable[[str], FlaskClient],
) -> None:
    report = _get(
        analytics_client("board:131016"), indicator="completion_rate", period="2026"
    ).get_json()
    assert report["region"]["code"] == "131016"
    assert report["level"] == "school"
    assert {u["code"] for u in report["units"]} == {
        "B113200000015",
        "B113200000024",
        "B113200000033",
    }


def test_people_without_an_analyst_role_are_refused(
    analytics_client: Callable[[str], FlaskClient], db_app: Flask
) -> None:
    assert _get(analytics_client("teacher"), indicator="active_day_rate").status_code == 403
    assert _get(db_app.test_client(), indicator="active_day_rate").status_code == 401


def test_a_system_admin_sees_the_nation(analytics_client: Callable[[str], FlaskClient]) -> None:
    report = _get(
        analytics_client("admin"), indicator="minutes_per_pupil_week", period="2026-W23"
    ).get_json()
    assert report["region"]["code"] == "JP"
    assert [u["code"] for u in report["units"]] == ["13", "27"]
    measures = report["measures"]
    assert measures["theil_between"] is None  # prefectures are the groups themselves
    schools = _get(
        analytics_client("admin"),
        indicator="minutes_per_pupil_week",
        level="school",
        period="2026-W23",
    ).get_json()
    m = schools["measures"]
    assert m["theil_between"] + m["theil_within"] == pytest.approx(m["theil"])
    assert schools["decomposition_groups"] == "prefecture"


def test_csv_with_accept_header(analytics_client: Callable[[str], FlaskClient]) -> None:
    answer = analytics_client("board:13").get(
        "/api/v1/analytics/disparity",
        query_string={"indicator": "score_p50", "level": "school", "period": "2026-06"},
        headers={"Accept": "text/csv"},
    )
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [r["code"] for r in rows] == sorted(r["code"] for r in rows)  # by code, not ranked
    hidden = {r["code"]: r for r in rows if r["hidden"] == "true"}
    assert set(hidden) == {"B113200000015", "B113200000033"}
    assert all(r["value"] == "" and r["pupils"] == "" for r in hidden.values())
    shown = {r["code"]: r for r in rows if r["hidden"] == "false"}
    # Mean scores 0.5 * 9 -> bin 4 (below 0.5) and 0.6 * 9 -> bin 5 (not below).
    assert shown["B113200000042"]["below_threshold"] == "1"
    assert shown["B113200000024"]["below_threshold"] == "0"


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"indicator": "happiness"}, "indicator"),
        ({}, "indicator"),
        ({"indicator": "active_day_rate", "period": "2026-13"}, "period"),
        ({"indicator": "active_day_rate", "period": "last year"}, "period"),
        ({"indicator": "active_day_rate", "level": "class"}, "level"),
        ({"indicator": "active_day_rate", "level": "prefecture"}, "finer level"),
        ({"indicator": "active_day_rate", "region": "x" * 65}, "region"),
    ],
)
def test_bad_parameters_are_explained(
    analytics_client: Callable[[str], FlaskClient], params: dict[str, str], fragment: str
) -> None:
    answer = _get(analytics_client("board:13"), **params)
    assert answer.status_code == 400
    assert fragment in answer.get_json()["error"]["message"]


def test_reports_are_cached_until_the_rollups_change(
    analytics_client: Callable[[str], FlaskClient], db_app: Flask
) -> None:
    client = analytics_client("board:13")
    first = _get(client, indicator="active_3days_share", period="2026-06").get_json()
    again = _get(client, indicator="active_3days_share", period="2026-06").get_json()
    assert first == again
    with db_app.app_context(), new_session() as session:
        assert session.scalar(select(func.count()).select_from(DisparityReport)) == 1
        bump_version(session)
        session.commit()
    _get(client, indicator="active_3days_share", period="2026-06")
    with db_app.app_context(), new_session() as session:
        row = session.scalars(select(DisparityReport)).one()
        assert row.rollup_version == 2


def test_the_openapi_document_describes_the_endpoint(db_app: Flask) -> None:
    document = db_app.test_client().get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/analytics/disparity"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert names == {"indicator", "level", "period", "region"}
    assert "text/csv" in operation["responses"]["200"]["content"]


@pytest.fixture
def redis_app(db_app: Flask) -> Any:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        need_service("Redis", "set TEST_REDIS_URL to run the rq tests")
    redis = Redis.from_url(url)
    try:
        redis.ping()
    except Exception as exc:  # any failure to reach Redis means "not here"
        need_service("Redis", f"Redis at {url} does not answer: {exc}")
    redis.flushdb()
    app = create_app({**db_app.config, "REDIS_URL": url})
    yield app, redis
    redis.flushdb()
    redis.close()
    with app.app_context():
        get_engine().dispose()


@pytest.mark.redis
def test_reports_are_computed_by_an_rq_worker(
    analytics_client: Callable[[str], FlaskClient], redis_app: Any
) -> None:
    app, redis = redis_app
    token = analytics_client("board:13").environ_base["HTTP_AUTHORIZATION"]
    client = app.test_client()
    params = {"indicator": "completion_rate", "period": "2026-06"}
    waiting = client.get(
        "/api/v1/analytics/disparity", query_string=params, headers={"Authorization": token}
    )
    assert waiting.status_code == 202
    assert waiting.headers["Retry-After"] == "2"
    again = client.get(
        "/api/v1/analytics/disparity", query_string=params, headers={"Authorization": token}
    )
    assert again.get_json()["job"] == waiting.get_json()["job"]  # one job, however many ask
    with app.app_context():
        worker = SimpleWorker([Queue("analytics", connection=redis)], connection=redis)
        assert worker.work(burst=True)
    ready = client.get(
        "/api/v1/analytics/disparity", query_string=params, headers={"Authorization": token}
    )
    assert ready.status_code == 200
    assert [u["code"] for u in ready.get_json()["units"]] == ["131016", "131024"]


def test_an_analyst_never_reaches_a_pupil(
    analytics_client: Callable[[str], FlaskClient], db_app: Flask
) -> None:
    with db_app.app_context(), new_session() as session:
        pupil = create_person(session, "student", Names("山田", "花子"), "http://lrs.test/")
        school = session.scalar(select(Organisation.id).where(Organisation.code == "B113200000024"))
        klass = SchoolClass(org_id=school, sourced_id="5-1", title="5年1組")
        session.add(klass)
        session.flush()
        session.add(
            Enrollment(
                org_id=school,
                sourced_id="e-1",
                person_id=pupil.id,
                class_id=klass.id,
                role="student",
                begin_date=date(2026, 4, 1),
                active=True,
            )
        )
        public_id = pupil.public_id
        session.commit()
    client = analytics_client("board:13")
    assert client.get("/api/v1/people").get_json()["people"] == []
    assert client.get(f"/api/v1/people/{public_id}").status_code == 403
    assert client.get(f"/api/v1/people/{public_id}/statements").status_code == 403
    report = _get(client, indicator="active_day_rate", level="school", period="2026-06")
    assert public_id not in report.get_data(as_text=True)
