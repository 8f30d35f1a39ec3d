"""School admins' screens: roster imports with their row-by-row report, device/tool
credentials (issue, last use, revoke), people and classes; each school admin sees only their
own school (adminA: B113210000015, adminB: B113211000013)."""

from __future__ import annotations

import base64
import io
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from app import create_app
from app.db import get_engine, new_session
from records.identity.accounts import create_account
from records.identity.models import AccessLogEntry, Account, Person
from records.jobs import create_job, set_progress, set_status
from records.models import BackgroundJob, Credential, Organisation
from records.organisations import create_organisation
from tests.conftest import need_service
from tests.factories import PASSWORD, make_statement
from tests.fixtures.roster import RosterBuilder, RosterFiles, school_code, tokyo_roster
from tests.web.conftest import BASE, csrf_of, form_token

pytestmark = pytest.mark.db

SCHOOL_A = "B113210000015"
SCHOOL_B = "B113211000013"
KOJIMACHI = school_code("B1", "13", 1)  # a school that imports its own roster


def _count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context(), new_session() as session:
        stmt = select(func.count()).select_from(model)
        if where:
            stmt = stmt.where(*where)
        return int(session.scalar(stmt) or 0)


def _page(client: FlaskClient, path: str) -> str:
    answer = client.get(f"{BASE}{path}")
    assert answer.status_code == 200, (path, answer.status_code)
    return answer.get_data(as_text=True)


def _main(page: str) -> str:
    """The page's own content, without the header (whose forms repeat the URL)."""
    return page.split('<main id="main"', 1)[1]


def _issue(client: FlaskClient, code: str, label: str, scopes: list[str]) -> Any:
    path = f"/admin/schools/{code}/credentials/new"
    token = form_token(client, path)
    return client.post(
        f"{BASE}{path}", data={"csrf_token": token, "label": label, "scopes": scopes}
    )


def _key_and_secret(page: str) -> tuple[str, str]:
    key = re.search(r'<code id="key">([^<]+)</code>', page)
    secret = re.search(r'<code id="secret">([^<]+)</code>', page)
    assert key is not None
    assert secret is not None
    return key.group(1), secret.group(1)


def _lrs_headers(key: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}


def _upload(client: FlaskClient, data: bytes, filename: str = "roster.zip") -> Any:
    token = form_token(client, "/admin/roster")
    return client.post(
        f"{BASE}/admin/roster",
        data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


# --- who may open the admin screens ------------------------------------------------------------


def test_pupils_teachers_and_analysts_get_403_and_strangers_are_sent_to_sign_in(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], client: FlaskClient
) -> None:
    paths = [
        "/admin",
        "/admin/roster",
        f"/admin/schools/{SCHOOL_A}/credentials",
        f"/admin/schools/{SCHOOL_A}/credentials/new",
        f"/admin/schools/{SCHOOL_A}/people",
        f"/admin/schools/{SCHOOL_A}/classes",
    ]
    for name in ("P1", "T1", "analyst"):
        someone = sign_in(name)
        for path in paths:
            answer = someone.get(f"{BASE}{path}")
            assert answer.status_code == 403, (name, path)
            assert 'role="alert"' in answer.get_data(as_text=True)
        assert "/admin" not in _page(someone, "/portfolio" if name == "P1" else "/classes")
        token = form_token(someone, "/")
        refused = someone.post(
            f"{BASE}/admin/roster",
            data={"csrf_token": token, "file": (io.BytesIO(b"PK"), "r.zip")},
            content_type="multipart/form-data",
        )
        assert refused.status_code == 403
    assert _count(db_app, BackgroundJob) == 0
    for path in paths:
        answer = client.get(f"{BASE}{path}")
        assert answer.status_code == 302
        assert "/sign-in" in answer.headers["Location"]


def test_the_start_page_shows_only_the_admins_own_school(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    page_a = _page(sign_in("adminA"), "/admin")
    assert "千代田区立第一小学校" in page_a
    assert f"/admin/schools/{SCHOOL_A}/credentials" in page_a
    assert f"/admin/schools/{SCHOOL_A}/people" in page_a
    assert f"/admin/schools/{SCHOOL_A}/classes" in page_a
    assert "/admin/roster" in page_a
    assert "千代田区立第二小学校" not in page_a
    assert 'href="/admin"' in page_a  # the menu links the admin start page
    page_b = _page(sign_in("adminB"), "/admin")
    assert "千代田区立第二小学校" in page_b
    assert "千代田区立第一小学校" not in page_b
    root = _page(sign_in("root"), "/admin")
    assert "千代田区立第一小学校" in root
    assert "千代田区立第二小学校" in root


# --- credentials -------------------------------------------------------------------------------


def test_an_admin_issues_a_credential_sees_its_use_and_revokes_it(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], client: FlaskClient
) -> None:
    admin = sign_in("adminA")
    form = _page(admin, f"/admin/schools/{SCHOOL_A}/credentials/new")
    assert 'value="statements/write" checked' in form
    assert 'value="all"' in form
    assert '<label for="label">' in form

    created = _issue(admin, SCHOOL_A, "4年1組 タブレット", ["statements/write", "state"])
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    page = created.get_data(as_text=True)
    assert 'role="alert"' in page  # the warning that the secret is shown once
    assert "一度だけ" in page
    key, secret = _key_and_secret(page)
    with db_app.app_context(), new_session() as session:
        row = session.scalars(select(Credential)).one()
        assert row.key == key
        assert row.scopes == "state statements/write"
        assert secret not in row.secret_hash

    listing = _page(admin, f"/admin/schools/{SCHOOL_A}/credentials")
    assert key in listing
    assert "4年1組 タブレット" in listing
    assert secret not in listing  # never shown again
    assert "まだ使われていません" in listing

    sent = client.post("/xapi/statements", json=make_statement(), headers=_lrs_headers(key, secret))
    assert sent.status_code == 200, sent.get_data(as_text=True)
    listing = _page(admin, f"/admin/schools/{SCHOOL_A}/credentials")
    assert "まだ使われていません" not in listing  # the last use is shown
    assert "年11月" in listing or "年" in listing

    confirm = _page(admin, f"/admin/schools/{SCHOOL_A}/credentials/{key}/revoke")
    assert "4年1組 タブレット" in confirm
    assert 'class="danger"' in confirm
    token = form_token(admin, f"/admin/schools/{SCHOOL_A}/credentials/{key}/revoke")
    revoked = admin.post(
        f"{BASE}/admin/schools/{SCHOOL_A}/credentials/{key}/revoke", data={"csrf_token": token}
    )
    assert revoked.status_code == 303
    listing = admin.get(revoked.headers["Location"]).get_data(as_text=True)
    assert key in listing
    assert "失効" in listing
    assert 'role="status"' in listing
    # Effective at once, for writes and reads alike.
    headers = _lrs_headers(key, secret)
    assert (
        client.post("/xapi/statements", json=make_statement(), headers=headers).status_code == 401
    )
    assert client.get("/xapi/statements", headers=headers).status_code == 401

    again = admin.post(
        f"{BASE}/admin/schools/{SCHOOL_A}/credentials/{key}/revoke", data={"csrf_token": token}
    )
    assert again.status_code == 409
    assert 'role="alert"' in again.get_data(as_text=True)


def test_bad_credential_forms_are_refused_and_nothing_is_written(
    db_app: Flask, sign_in: Callable[[str], FlaskClient]
) -> None:
    admin = sign_in("adminA")
    cases = [
        ("no scopes", []),
        ("unknown scope", ["statements/write", "root"]),
        ("x" * 300, ["statements/write"]),
    ]
    for label, scopes in cases:
        answer = _issue(admin, SCHOOL_A, label, scopes)
        assert answer.status_code == 400, label
        page = answer.get_data(as_text=True)
        assert 'role="alert"' in page
        assert 'name="csrf_token"' in page  # the form is shown again, to fix
    assert _count(db_app, Credential) == 0
    no_csrf = admin.post(
        f"{BASE}/admin/schools/{SCHOOL_A}/credentials/new",
        data={"label": "x", "scopes": ["all"]},
    )
    assert no_csrf.status_code == 400
    assert _count(db_app, Credential) == 0
    assert admin.get(f"{BASE}/admin/schools/{SCHOOL_A}/credentials/nope/revoke").status_code == 404
    assert admin.get(f"{BASE}/admin/schools/NOPE/credentials").status_code == 403


def test_school_admins_see_and_touch_only_their_own_schools_credentials(
    db_app: Flask, sign_in: Callable[[str], FlaskClient]
) -> None:
    admin_a, admin_b = sign_in("adminA"), sign_in("adminB")
    key_a, _secret = _key_and_secret(
        _issue(admin_a, SCHOOL_A, "A の端末", ["statements/write"]).get_data(as_text=True)
    )
    key_b, _secret = _key_and_secret(
        _issue(admin_b, SCHOOL_B, "B の端末", ["statements/write"]).get_data(as_text=True)
    )
    own = _page(admin_b, f"/admin/schools/{SCHOOL_B}/credentials")
    assert key_b in own
    assert key_a not in own
    a_paths = [
        f"/admin/schools/{SCHOOL_A}/credentials",
        f"/admin/schools/{SCHOOL_A}/credentials/new",
        f"/admin/schools/{SCHOOL_A}/credentials/{key_a}/revoke",
    ]
    for path in a_paths:
        answer = admin_b.get(f"{BASE}{path}")
        assert answer.status_code == 403, path
        assert key_a not in _main(answer.get_data(as_text=True))
    # Another school's key under one's own school is simply not there.
    assert (
        admin_b.get(f"{BASE}/admin/schools/{SCHOOL_B}/credentials/{key_a}/revoke").status_code
        == 404
    )
    token = form_token(admin_b, f"/admin/schools/{SCHOOL_B}/credentials")
    for path in (
        f"/admin/schools/{SCHOOL_A}/credentials/{key_a}/revoke",
        f"/admin/schools/{SCHOOL_B}/credentials/{key_a}/revoke",
    ):
        answer = admin_b.post(f"{BASE}{path}", data={"csrf_token": token})
        assert answer.status_code in (403, 404), path
    stolen = admin_b.post(
        f"{BASE}/admin/schools/{SCHOOL_A}/credentials/new",
        data={"csrf_token": token, "label": "x", "scopes": ["all"]},
    )
    assert stolen.status_code == 403
    assert _count(db_app, Credential, Credential.revoked_at.is_not(None)) == 0
    assert _count(db_app, Credential) == 2
    root = _page(sign_in("root"), f"/admin/schools/{SCHOOL_A}/credentials")
    assert key_a in root
    assert key_b not in root


# --- people and classes ------------------------------------------------------------------------


def test_the_people_list_shows_the_school_logs_every_read_and_links_portfolios(
    db_app: Flask,
    sign_in: Callable[[str], FlaskClient],
    school: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = sign_in("adminA")
    before = _count(db_app, AccessLogEntry)
    page = _page(admin, f"/admin/schools/{SCHOOL_A}/people")
    for name in ("山田 花子", "田中 太郎", "高橋 三郎", "佐藤 一郎", "鈴木 二郎"):
        assert name in page
    for name in ("P1", "P2", "P3", "T1", "T2"):
        assert school["ids"][name] in page
    assert "小学4年" in page  # grade P4
    assert f'href="/portfolio/people/{school["ids"]["P1"]}"' in page
    assert f'href="/portfolio/people/{school["ids"]["T1"]}"' not in page  # not a pupil
    with db_app.app_context(), new_session() as session:
        logged = list(
            session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id).offset(before))
        )
    assert len(logged) == 5
    assert {r.resource for r in logged} == {"people.list"}
    assert {r.purpose for r in logged} == {"administration"}

    pupils = _page(admin, f"/admin/schools/{SCHOOL_A}/people?kind=student")
    assert "山田 花子" in pupils
    assert "佐藤 一郎" not in pupils
    class_4_1 = _page(admin, f"/admin/schools/{SCHOOL_A}/people?class={school['classes']['4-1']}")
    assert "4年1組" in class_4_1
    assert "山田 花子" in class_4_1
    assert "高橋 三郎" not in class_4_1
    assert admin.get(f"{BASE}/admin/schools/{SCHOOL_A}/people?kind=alien").status_code == 400
    assert admin.get(f"{BASE}/admin/schools/{SCHOOL_A}/people?class=999999").status_code == 404

    monkeypatch.setattr("app.web.admin.PEOPLE_PER_PAGE", 3)
    first = _page(admin, f"/admin/schools/{SCHOOL_A}/people")
    assert first.count("<code>") == 3
    more = re.search(r'href="(/admin/schools/[^"]+after=\d+[^"]*)"', first)
    assert more is not None
    second = _page(admin, more.group(1).replace("&amp;", "&"))
    assert second.count("<code>") == 2

    portfolio = admin.get(f"{BASE}/portfolio/people/{school['ids']['P1']}")
    assert portfolio.status_code == 200


def test_the_classes_list_counts_pupils_and_teachers(
    sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    page = _page(sign_in("adminA"), f"/admin/schools/{SCHOOL_A}/classes")
    rows = re.findall(
        r"<tr>\s*<td><a[^>]*>([^<]+)</a>.*?<td>(\d+)</td>\s*<td>(\d+)</td>", page, re.S
    )
    assert rows == [("4年1組", "2", "1"), ("4年2組", "1", "1")]
    assert f"class={school['classes']['4-1']}" in page


def test_school_admins_cannot_see_another_schools_people_or_classes(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    admin_b = sign_in("adminB")
    before = _count(db_app, AccessLogEntry)
    for path in (
        f"/admin/schools/{SCHOOL_A}/people",
        f"/admin/schools/{SCHOOL_A}/people?class={school['classes']['4-1']}",
        f"/admin/schools/{SCHOOL_A}/classes",
    ):
        answer = admin_b.get(f"{BASE}{path}")
        assert answer.status_code == 403, path
        assert "山田" not in answer.get_data(as_text=True)
    own = _page(admin_b, f"/admin/schools/{SCHOOL_B}/people")
    assert "山田" not in own
    # A class of school A named under school B is not found there.
    foreign_class = f"/admin/schools/{SCHOOL_B}/people?class={school['classes']['4-1']}"
    assert admin_b.get(f"{BASE}{foreign_class}").status_code == 404
    assert _count(db_app, AccessLogEntry) == before
    assert admin_b.get(f"{BASE}/portfolio/people/{school['ids']['P1']}").status_code == 403


# --- roster imports ----------------------------------------------------------------------------


@pytest.fixture
def kojimachi(db_app: Flask, school: dict[str, Any]) -> str:
    """A school with a valid MEXT code and its admin ("adminK"), who imports its roster."""
    with db_app.app_context(), new_session() as session:
        create_organisation(session, KOJIMACHI, "千代田区立麹町小学校", kind="school")
        create_account(session, "admink@school.example.jp", PASSWORD, "school_admin", KOJIMACHI)
        session.commit()
    school["emails"]["adminK"] = "admink@school.example.jp"
    return KOJIMACHI


def _kojimachi_roster() -> RosterFiles:
    """The school itself, this school year, 4年1組 with a teacher and two pupils."""
    today = datetime.now(UTC).date()
    builder = RosterBuilder(today.year if today.month >= 4 else today.year - 1)
    own = builder.school(1, "千代田区立麹町小学校", "")
    builder.sessions()
    klass = builder.homeroom(own, 4, 1)
    builder.teacher(own, klass, "kojimachi-es.example.jp")
    for n in (1, 2):
        builder.pupil(own, klass, 4, n, "kojimachi-es.example.jp")
    return builder.files


def test_a_school_admin_imports_their_roster_and_sees_the_summary(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], kojimachi: str
) -> None:
    admin = sign_in("adminK")
    form = _page(admin, "/admin/roster")
    assert 'enctype="multipart/form-data"' in form
    assert '<label for="file">' in form
    started = _upload(admin, _kojimachi_roster().to_zip(), "kojimachi-2026.zip")
    assert started.status_code == 303
    job_page = started.headers["Location"]
    page = _page(admin, job_page)
    assert 'http-equiv="refresh"' not in page  # finished (run in-process without Redis)
    assert 'role="status"' in page
    assert re.search(r"<tr><td>users\.csv</td><td>3</td>", page)
    assert re.search(r"<tr><td>classes\.csv</td><td>1</td>", page)
    recent = _page(admin, "/admin/roster")
    assert "kojimachi-2026.zip" in recent
    assert job_page in recent

    classes = _page(admin, f"/admin/schools/{kojimachi}/classes")
    assert re.search(r"4年1組</a>.*?<td>2</td>\s*<td>1</td>", classes, re.S)
    people = _page(admin, f"/admin/schools/{kojimachi}/people?kind=student")
    assert people.count("/portfolio/people/") == 2
    assert re.search(r"<td>[ァ-ヶー]+ [ァ-ヶー]+</td>", people)  # kana names (Japan Profile)

    # Other admins do not see this school's imports.
    admin_a = sign_in("adminA")
    assert admin_a.get(f"{BASE}{job_page}").status_code == 403
    assert job_page not in _page(admin_a, "/admin/roster")
    assert job_page in _page(sign_in("root"), "/admin/roster")


def test_a_roster_with_problems_is_refused_row_by_row_and_writes_nothing(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], kojimachi: str
) -> None:
    admin = sign_in("adminK")
    files = _kojimachi_roster()
    pupil = files.where("users", username=files.rows("users")[1]["username"])[0]
    pupil["familyName"] = ""
    files.rows("enrollments")[0]["classSourcedId"] = "no-such-class"
    people_before = _count(db_app, Person)
    started = _upload(admin, files.to_zip())
    assert started.status_code == 303
    page = _page(admin, started.headers["Location"])
    assert 'role="alert"' in page
    table = re.findall(r"<tr>\s*<td>([^<]+)</td>\s*<td>(\d+)</td>\s*<td>([^<]+)</td>", page)
    users_line = files.line("users", pupil["sourcedId"])
    assert ("users.csv", str(users_line), "familyName") in table
    assert any(row[0] == "enrollments.csv" and row[1] == "2" for row in table)
    assert _count(db_app, Person) == people_before  # all or nothing
    csv_answer = admin.get(f"{BASE}{started.headers['Location']}/problems.csv")
    assert csv_answer.status_code == 200
    assert csv_answer.mimetype == "text/csv"
    text = csv_answer.get_data(as_text=True)
    assert text.startswith("\ufeff")
    assert f"users.csv,{users_line},familyName," in text


def test_bad_uploads_are_refused_with_a_reason_and_no_job(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], kojimachi: str
) -> None:
    admin = sign_in("adminK")
    token = form_token(admin, "/admin/roster")
    no_file = admin.post(
        f"{BASE}/admin/roster", data={"csrf_token": token}, content_type="multipart/form-data"
    )
    assert no_file.status_code == 400
    assert 'role="alert"' in no_file.get_data(as_text=True)
    for data in (b"", b"this is not a zip"):
        answer = _upload(admin, data, "roster.zip")
        assert answer.status_code == 400, data
        assert 'role="alert"' in answer.get_data(as_text=True)
    # A raw body: the test client spools a multipart file this large to an unclosed temp file.
    too_big = admin.post(
        f"{BASE}/admin/roster",
        data=b"-" * (3 * 1024 * 1024),
        content_type="multipart/form-data; boundary=----ashiato",
    )
    assert too_big.status_code == 413
    assert 'role="alert"' in too_big.get_data(as_text=True)
    foreign = _upload(admin, tokyo_roster().files.to_zip(), "tokyo.zip")  # three schools
    assert foreign.status_code == 403
    assert 'role="alert"' in foreign.get_data(as_text=True)
    no_csrf = admin.post(
        f"{BASE}/admin/roster",
        data={"file": (io.BytesIO(_kojimachi_roster().to_zip()), "r.zip")},
        content_type="multipart/form-data",
    )
    assert no_csrf.status_code == 400
    assert _count(db_app, BackgroundJob) == 0
    assert admin.get(f"{BASE}/admin/roster/no-such-job").status_code == 404


def test_a_running_import_refreshes_itself_and_shows_its_progress(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], kojimachi: str
) -> None:
    with db_app.app_context(), new_session() as session:
        org_id = session.scalar(select(Organisation.id).where(Organisation.code == kojimachi))
        account = session.scalar(select(Account.id).where(Account.email.startswith("admink")))
        job_id = create_job(
            session,
            "roster_import",
            org_id=org_id,
            requested_by=account,
            upload=("big.zip", b"PK"),
        )
        set_status(session, job_id, "running")
        set_progress(session, job_id, 40, 100)
        session.commit()
    page = _page(sign_in("adminK"), f"/admin/roster/{job_id}")
    assert '<meta http-equiv="refresh"' in page
    assert '<progress id="progress" max="100" value="40">' in page
    assert f'href="/admin/roster/{job_id}"' in page  # refresh by hand too
    assert sign_in("adminB").get(f"{BASE}/admin/roster/{job_id}").status_code == 403


@pytest.fixture
def redis_app(db_app: Flask) -> Iterator[tuple[Flask, Redis]]:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        need_service("Redis", "set TEST_REDIS_URL to run the rq tests")
    redis = Redis.from_url(url)
    try:
        redis.ping()
    except Exception as exc:  # any failure means: no Redis to test with
        need_service("Redis", f"Redis at {url} does not answer: {exc}")
    redis.flushdb()
    app = create_app({**db_app.config, "REDIS_URL": url})
    yield app, redis
    redis.flushdb()
    redis.close()
    with app.app_context():
        get_engine().dispose()


@pytest.mark.redis
def test_with_redis_the_import_waits_for_a_worker_and_the_page_follows_it(
    redis_app: tuple[Flask, Redis], school: dict[str, Any], kojimachi: str
) -> None:
    app, redis = redis_app
    admin = app.test_client()
    admin.environ_base["HTTP_REFERER"] = f"{BASE}/"
    token = csrf_of(admin.get(f"{BASE}/sign-in").get_data(as_text=True))
    signed = admin.post(
        f"{BASE}/sign-in",
        data={"email": school["emails"]["adminK"], "password": PASSWORD, "csrf_token": token},
    )
    assert signed.status_code == 302
    started = _upload(admin, _kojimachi_roster().to_zip())
    assert started.status_code == 303
    waiting = _page(admin, started.headers["Location"])
    assert '<meta http-equiv="refresh"' in waiting
    with app.app_context(), new_session() as session:
        job = session.scalars(select(BackgroundJob)).one()
        assert job.status == "queued"
        assert job.rq_id
    with app.app_context():
        worker = SimpleWorker([Queue("default", connection=redis)], connection=redis)
        assert worker.work(burst=True)
    done = _page(admin, started.headers["Location"])
    assert '<meta http-equiv="refresh"' not in done
    assert re.search(r"<tr><td>users\.csv</td><td>3</td>", done)


def test_a_school_admin_cannot_change_another_schools_pupils_with_a_delta_roster(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], kojimachi: str
) -> None:
    tokyo = tokyo_roster()
    root = sign_in("root")
    assert _upload(root, tokyo.files.to_zip()).status_code == 303
    other_class = tokyo.classes[tokyo.schools[2]][0]  # 渋谷区立神宮前小学校
    victim = dict(tokyo.files.find("users", tokyo.pupils[other_class][0]))
    victim["familyName"] = "改ざん"
    delta = RosterFiles()
    delta.rows("users").append(victim)
    answer = _upload(sign_in("adminK"), delta.to_zip("delta"))
    assert answer.status_code in (303, 403)  # refused at once, or by the import job
    assert _count(db_app, Person, Person.family_name == "改ざん") == 0
