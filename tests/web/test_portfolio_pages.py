"""The pupil's portfolio and the teacher's class pages, through real forms."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.db import new_session
from records.identity.models import AccessLogEntry
from records.models import Attachment, StoredStatement
from records.portfolio import vocabulary as v
from tests.web.conftest import BASE, form_token

pytestmark = pytest.mark.db

# A real 1x1 PNG: the upload check looks at the bytes, not the file name.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _post_entry(client: FlaskClient, **fields: Any) -> Any:
    token = form_token(client, f"/portfolio/new?kind={fields.get('kind', 'activity')}")
    data = {"csrf_token": token, **fields}
    return client.post(f"{BASE}/portfolio/new", data=data, content_type="multipart/form-data")


def _statements(app: Flask) -> list[dict[str, Any]]:
    with app.app_context(), new_session() as session:
        return list(session.scalars(select(StoredStatement.full).order_by(StoredStatement.seq)))


def _count(app: Flask, model: Any) -> int:
    with app.app_context(), new_session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_pupil_logs_an_activity_with_a_photo_and_sees_it(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    pupil = sign_in("P1")
    answer = _post_entry(
        pupil,
        kind="activity",
        title="リコーダーのれんしゅう",
        subject="music",
        minutes="25",
        text="「きらきら星」がふけた",
        photo=(io.BytesIO(PNG), "recorder.png"),
    )
    assert answer.status_code == 302
    [stored] = _statements(db_app)
    assert stored["actor"]["account"]["name"] == school["ids"]["P1"]
    assert stored["verb"]["id"] == v.VERB_DID
    assert stored["result"]["duration"] == "PT25M"
    assert {"id": v.subject_iri("music")} in stored["context"]["contextActivities"]["category"]
    [attachment] = stored["attachments"]
    assert attachment["contentType"] == "image/png"
    assert stored["authority"]["account"]["name"] == "portfolio"

    home = pupil.get(f"{BASE}/portfolio").get_data(as_text=True)
    assert "「リコーダーのれんしゅう」をした" in home
    assert "25分" in home or "25 分" in home
    assert 'id="chart-subjects"' in home  # the time-by-subject chart has data
    assert "音楽" in home
    file_url = re.search(r'src="(/portfolio/people/[^"]+/files/[0-9a-f]{64})"', home)
    assert file_url is not None
    photo = pupil.get(f"{BASE}{file_url.group(1)}")
    assert photo.status_code == 200
    assert photo.data == PNG
    assert photo.headers["X-Content-Type-Options"] == "nosniff"


def test_a_reflection_is_saved_with_its_prompt_and_shown_to_the_teacher(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    pupil = sign_in("P1")
    answer = _post_entry(
        pupil, kind="reflection", title="分数のたし算", prompt="learned", text="分母をそろえる"
    )
    assert answer.status_code == 302
    teacher = sign_in("T1")
    page = teacher.get(f"{BASE}/classes/{school['classes']['4-1']}").get_data(as_text=True)
    assert "分母をそろえる" in page
    assert "山田 花子" in page
    assert "今週" in page


def test_bad_entries_are_refused_with_reasons_and_nothing_is_written(
    db_app: Flask, sign_in: Callable[[str], FlaskClient]
) -> None:
    pupil = sign_in("P1")
    cases = [
        {"kind": "activity", "title": ""},
        {"kind": "activity", "title": "x", "minutes": "lots"},
        {"kind": "activity", "title": "x", "minutes": "0"},
        {"kind": "activity", "title": "x", "happened_on": "2999-01-01"},
        {"kind": "activity", "title": "x", "subject": "astrology"},
        {"kind": "reflection", "title": "x", "text": ""},
        {"kind": "artifact", "title": "x"},
        {"kind": "artifact", "title": "x", "photo": (io.BytesIO(b"MZ\x90\x00evil"), "a.png")},
        {"kind": "activity", "title": "x" * 201},
    ]
    for fields in cases:
        answer = _post_entry(pupil, **fields)
        assert answer.status_code == 400, fields
        assert 'role="alert"' in answer.get_data(as_text=True)
    assert _statements(db_app) == []
    assert _count(db_app, Attachment) == 0


def test_editing_voids_the_old_entry_and_withdrawing_hides_it(
    db_app: Flask, sign_in: Callable[[str], FlaskClient]
) -> None:
    pupil = sign_in("P1")
    _post_entry(pupil, kind="goal", title="毎日10分読書する")
    [first] = _statements(db_app)
    token = form_token(pupil, f"/portfolio/entries/{first['id']}/edit")
    edited = pupil.post(
        f"{BASE}/portfolio/entries/{first['id']}/edit",
        data={"csrf_token": token, "kind": "goal", "title": "毎日20分読書する"},
    )
    assert edited.status_code == 302, edited.get_data(as_text=True)[-3000:]
    statements = _statements(db_app)
    new = next(s for s in statements if s["context"].get("extensions", {}).get(v.REVISES_EXT))
    assert new["context"]["extensions"][v.REVISES_EXT] == first["id"]
    assert any(
        s["verb"]["id"] == v.VERB_VOIDED and s["object"]["id"] == first["id"] for s in statements
    )
    home = pupil.get(f"{BASE}/portfolio").get_data(as_text=True)
    assert "毎日20分読書する" in home
    assert "毎日10分読書する" not in home
    token = form_token(pupil, "/portfolio")
    gone = pupil.post(f"{BASE}/portfolio/entries/{new['id']}/withdraw", data={"csrf_token": token})
    assert gone.status_code == 302
    assert "毎日20分読書する" not in pupil.get(f"{BASE}/portfolio").get_data(as_text=True)


def test_a_pupil_cannot_edit_what_someone_else_wrote(
    db_app: Flask, sign_in: Callable[[str], FlaskClient]
) -> None:
    _post_entry(sign_in("P1"), kind="goal", title="P1のめあて")
    [entry] = _statements(db_app)
    other = sign_in("P2")
    token = form_token(other, "/portfolio")
    answer = other.post(
        f"{BASE}/portfolio/entries/{entry['id']}/withdraw", data={"csrf_token": token}
    )
    assert answer.status_code in (403, 404)
    assert len(_statements(db_app)) == 1


def test_teacher_feedback_and_achievement_show_on_the_entry(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    _post_entry(sign_in("P1"), kind="activity", title="とび箱 5段", subject="pe")
    [entry] = _statements(db_app)
    teacher = sign_in("T1")
    pupil_page = f"/portfolio/people/{school['ids']['P1']}"
    token = form_token(teacher, pupil_page)
    path = f"{BASE}{pupil_page}/entries/{entry['id']}/feedback"
    assert (
        teacher.post(path, data={"csrf_token": token, "text": "よくがんばったね"}).status_code
        == 302
    )
    assert teacher.post(path, data={"csrf_token": token, "achievement": "1"}).status_code == 302
    home = sign_in("P1").get(f"{BASE}/portfolio").get_data(as_text=True)
    assert "よくがんばったね" in home
    assert "佐藤 一郎" in home
    assert "★" in home
    # The comments are shown with the entry, not as entries of their own.
    assert home.count('class="kind-') == 1


def test_a_teacher_of_another_class_cannot_open_the_portfolio(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    _post_entry(sign_in("P1"), kind="activity", title="ひみつ", photo=(io.BytesIO(PNG), "a.png"))
    [entry] = _statements(db_app)
    other = sign_in("T2")
    pupil_page = f"{BASE}/portfolio/people/{school['ids']['P1']}"
    assert other.get(pupil_page).status_code == 403
    assert other.get(f"{pupil_page}/history").status_code == 403
    sha2 = entry["attachments"][0]["sha2"]
    assert other.get(f"{pupil_page}/entries/{entry['id']}/files/{sha2}").status_code == 403
    token = form_token(other, "/classes")
    answer = other.post(
        f"{pupil_page}/entries/{entry['id']}/feedback", data={"csrf_token": token, "text": "x"}
    )
    assert answer.status_code == 403
    assert other.get(f"{BASE}/classes/{school['classes']['4-1']}").status_code == 403
    assert "ひみつ" not in other.get(pupil_page).get_data(as_text=True)


def test_every_portfolio_page_records_the_access(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    teacher = sign_in("T1")
    before = _count(db_app, AccessLogEntry)
    teacher.get(f"{BASE}/portfolio/people/{school['ids']['P1']}")
    teacher.get(f"{BASE}/portfolio/people/{school['ids']['P1']}/history")
    teacher.get(f"{BASE}/classes/{school['classes']['4-1']}")  # P1 and P2
    with db_app.app_context(), new_session() as session:
        rows = list(
            session.scalars(
                select(AccessLogEntry).where(AccessLogEntry.id > 0).order_by(AccessLogEntry.id)
            )
        )
    new = rows[before:]
    assert [r.resource for r in new] == [
        "portfolio.home",
        "portfolio.history",
        "class.overview",
        "class.overview",
    ]
    assert {r.purpose for r in new} == {"teaching"}


def test_class_log_writes_one_statement_per_chosen_pupil(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    teacher = sign_in("T1")
    path = f"/classes/{school['classes']['4-1']}/log"
    token = form_token(teacher, path)
    everyone = teacher.post(
        f"{BASE}{path}",
        data={
            "csrf_token": token,
            "title": "校外学習（博物館）",
            "subject": "social",
            "who": "all",
        },
    )
    assert everyone.status_code == 302
    assert len(_statements(db_app)) == 2
    some = teacher.post(
        f"{BASE}{path}",
        data={
            "csrf_token": token,
            "title": "図書委員会",
            "who": "some",
            "pupils": [school["ids"]["P2"]],
        },
    )
    assert some.status_code == 302
    statements = _statements(db_app)
    assert len(statements) == 3
    assert statements[-1]["actor"]["account"]["name"] == school["ids"]["P2"]
    assert statements[-1]["context"]["instructor"]["name"] == "佐藤 一郎"
    outsider = teacher.post(
        f"{BASE}{path}",
        data={"csrf_token": token, "title": "x", "who": "some", "pupils": [school["ids"]["P3"]]},
    )
    assert outsider.status_code == 400
    assert len(_statements(db_app)) == 3
    page = sign_in("P2").get(f"{BASE}/portfolio").get_data(as_text=True)
    assert "「図書委員会」に出席した" in page


def test_history_filters_by_kind_and_subject_and_pages(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    pupil = sign_in("P1")
    for n in range(35):
        _post_entry(pupil, kind="activity", title=f"計算ドリル {n}", subject="arithmetic")
    _post_entry(pupil, kind="goal", title="漢字をおぼえる", subject="japanese")
    history = f"{BASE}/portfolio/people/{school['ids']['P1']}/history"
    first = pupil.get(history).get_data(as_text=True)
    assert first.count('class="kind-') == 30
    more = re.search(r'href="([^"]+page=[^"]+)"', first)
    assert more is not None
    second = pupil.get(f"{BASE}{more.group(1).replace('&amp;', '&')}").get_data(as_text=True)
    assert second.count('class="kind-') == 6
    japanese = pupil.get(f"{history}?subject=japanese").get_data(as_text=True)
    assert japanese.count('class="kind-') == 1
    assert pupil.get(f"{history}?kind=test").get_data(as_text=True).count('class="kind-') == 0
    assert pupil.get(f"{history}?subject=nonsense").status_code == 400
    assert pupil.get(f"{history}?page=garbage").status_code == 400


def test_the_language_switch_is_remembered_per_account(
    db_app: Flask, sign_in: Callable[[str], FlaskClient]
) -> None:
    pupil = sign_in("P1")
    assert '<html lang="ja">' in pupil.get(f"{BASE}/portfolio").get_data(as_text=True)
    token = form_token(pupil, "/portfolio")
    switched = pupil.post(
        f"{BASE}/language", data={"csrf_token": token, "lang": "en", "next": "/portfolio"}
    )
    assert switched.status_code == 302
    assert switched.headers["Location"].endswith("/portfolio")
    page = sign_in("P1").get(f"{BASE}/portfolio").get_data(as_text=True)  # a new session
    assert '<html lang="en">' in page
    assert "My learning" in page
    evil = pupil.post(
        f"{BASE}/language",
        data={"csrf_token": token, "lang": "ja", "next": "https://evil.example/"},
    )
    assert "evil" not in evil.headers["Location"]


def test_pages_need_sign_in(client: FlaskClient) -> None:
    for path in ("/portfolio", "/portfolio/new", "/classes", "/classes/1"):
        answer = client.get(f"{BASE}{path}")
        assert answer.status_code == 302
        assert "/sign-in" in answer.headers["Location"]


def test_plotly_is_served_locally_and_cached(client: FlaskClient) -> None:
    answer = client.get(f"{BASE}/assets/plotly.min.js")
    assert answer.status_code == 200
    assert b"plotly" in answer.data[:2000].lower()
    again = client.get(
        f"{BASE}/assets/plotly.min.js", headers={"If-None-Match": answer.headers["ETag"]}
    )
    assert again.status_code == 304


def _queries_for(app: Flask, client: FlaskClient, path: str) -> int:
    from sqlalchemy import event

    from app.db import get_engine

    with app.app_context():
        engine = get_engine()
    count = 0

    def _count(*_args: Any) -> None:
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", _count)
    try:
        assert client.get(f"{BASE}{path}").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    return count


def test_pages_cost_the_same_number_of_queries_whatever_the_number_of_records(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    """No N+1: a page's SQL statements do not grow with the records, feedback and files on it."""
    pupil = sign_in("P1")
    teacher = sign_in("T1")
    history = f"/portfolio/people/{school['ids']['P1']}/history"

    def add(n: int) -> None:
        for k in range(n):
            _post_entry(
                pupil,
                kind="activity",
                title=f"音読 {k}",
                subject="japanese",
                photo=(io.BytesIO(PNG), f"p{k}.png"),
            )
        for st in _statements(db_app)[-n:]:
            token = form_token(teacher, f"/portfolio/people/{school['ids']['P1']}")
            teacher.post(
                f"{BASE}/portfolio/people/{school['ids']['P1']}/entries/{st['id']}/feedback",
                data={"csrf_token": token, "text": "いいね"},
            )

    add(2)
    few = (_queries_for(db_app, pupil, "/portfolio"), _queries_for(db_app, pupil, history))
    add(8)
    many = (_queries_for(db_app, pupil, "/portfolio"), _queries_for(db_app, pupil, history))
    assert many == few
    class_page = f"/classes/{school['classes']['4-1']}"
    two_pupils = _queries_for(db_app, teacher, class_page)
    with db_app.app_context(), new_session() as session:  # a third pupil joins the class
        from records.identity.models import Enrollment, Person

        p3 = session.scalars(select(Person).where(Person.public_id == school["ids"]["P3"])).one()
        joined = Enrollment(
            org_id=session.scalars(select(Enrollment.org_id)).first(),
            sourced_id="e-p3-41",
            person_id=p3.id,
            class_id=school["classes"]["4-1"],
            role="student",
            active=True,
        )
        session.add(joined)
        session.commit()
    assert _queries_for(db_app, teacher, class_page) == two_pupils


def test_editing_an_artifact_keeps_its_files(
    db_app: Flask, sign_in: Callable[[str], FlaskClient]
) -> None:
    pupil = sign_in("P1")
    _post_entry(pupil, kind="artifact", title="夏休みの絵", photo=(io.BytesIO(PNG), "e.png"))
    [first] = _statements(db_app)
    token = form_token(pupil, f"/portfolio/entries/{first['id']}/edit")
    edited = pupil.post(
        f"{BASE}/portfolio/entries/{first['id']}/edit",
        data={"csrf_token": token, "kind": "artifact", "title": "夏休みの絵（かんせい）"},
        content_type="multipart/form-data",
    )
    assert edited.status_code == 302
    new = _statements(db_app)[-2]  # the replacement, then the voiding statement
    assert new["object"]["definition"]["name"] == {"ja": "夏休みの絵（かんせい）"}
    assert [a["sha2"] for a in new["attachments"]] == [a["sha2"] for a in first["attachments"]]


def test_device_records_read_in_plain_words_and_late_arrivals_say_so(
    db_app: Flask, sign_in: Callable[[str], FlaskClient], school: dict[str, Any]
) -> None:
    """A learning app's statement (sent days late, by an offline tablet) on the pupil's page."""
    from datetime import UTC, datetime, timedelta

    from records.credentials import create_credential, parse_scopes
    from tests.factories import make_statement

    with db_app.app_context(), new_session() as session:
        new = create_credential(
            session,
            "B113210000015",
            parse_scopes("statements/write"),
            "ドリルアプリ",
            db_app.config["CREDENTIAL_HASH_KEY"].encode(),
        )
        session.commit()
    auth = base64.b64encode(f"{new.info.key}:{new.secret}".encode()).decode()
    week_ago = (datetime.now(UTC) - timedelta(days=7)).isoformat()
    statement = make_statement(
        actor={"account": {"homePage": "http://lrs.test/", "name": school["ids"]["P1"]}},
        timestamp=week_ago,
    )
    answer = db_app.test_client().post(
        f"{BASE}/xapi/statements",
        json=statement,
        headers={"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"},
    )
    assert answer.status_code == 200
    home = sign_in("P1").get(f"{BASE}/portfolio").get_data(as_text=True)
    assert "「分数 第1単元」をやりとげた" in home
    assert "80%" in home  # result.score.scaled 0.8
    assert "とどいた記録" in home
