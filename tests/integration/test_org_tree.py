"""The organisation tree: official codes validated by kind, parents checked, regions found."""

from __future__ import annotations

import pytest
from flask import Flask

from app.db import new_session
from records.codes import InvalidCodeError, school_code_check_digit
from records.errors import BadRequestError
from records.organisations import create_organisation, subtree_ids

SCHOOL = "B11321000001"  # 小学校, 東京都, 公立, number 0000001 (check digit computed)


def test_tree_is_built_and_regions_found(db_app: Flask) -> None:
    school_code = SCHOOL + school_code_check_digit(SCHOOL)
    with db_app.app_context(), new_session() as session:
        japan = create_organisation(session, "JP", "日本", kind="nation")
        tokyo = create_organisation(session, "JP-13", "東京都", kind="prefecture", parent_code="JP")
        chiyoda = create_organisation(session, "131016", "千代田区", kind="municipality")
        school = create_organisation(
            session, school_code.lower(), "第一小学校", kind="school", parent_code="131016"
        )
        other_city = create_organisation(session, "012131", "苫小牧市", kind="municipality")
        assert tokyo.code == "13"
        assert chiyoda.parent_id == tokyo.id  # attached to its prefecture by its code
        assert school.code == school_code
        assert other_city.parent_id is None  # 北海道 is not in this tree
        assert subtree_ids(session, tokyo.id) == {tokyo.id, chiyoda.id, school.id}
        assert subtree_ids(session, japan.id) == {japan.id, tokyo.id, chiyoda.id, school.id}
        assert subtree_ids(session, school.id) == {school.id}


def test_wrong_check_digits_are_refused_saying_so(db_app: Flask) -> None:
    right = school_code_check_digit(SCHOOL)
    wrong = str((int(right) + 1) % 10)
    with db_app.app_context(), new_session() as session:
        with pytest.raises(InvalidCodeError, match="check digit"):
            create_organisation(session, SCHOOL + wrong, "X", kind="school")
        with pytest.raises(InvalidCodeError, match="check digit"):
            create_organisation(session, "131017", "千代田区?", kind="municipality")


def test_parents_must_fit(db_app: Flask) -> None:
    with db_app.app_context(), new_session() as session:
        create_organisation(session, "13", "東京都", kind="prefecture")
        create_organisation(session, "01", "北海道", kind="prefecture")
        with pytest.raises(BadRequestError, match="lies in prefecture 13"):
            create_organisation(
                session, "131016", "千代田区", kind="municipality", parent_code="01"
            )
        school = SCHOOL + school_code_check_digit(SCHOOL)
        create_organisation(session, "131016", "千代田区", kind="municipality")
        create_organisation(session, school, "第一小学校", kind="school", parent_code="131016")
        with pytest.raises(BadRequestError, match="cannot belong"):
            create_organisation(
                session, "131130", "渋谷区", kind="municipality", parent_code=school
            )


def test_cli_reports_a_bad_code_as_a_message(db_app: Flask) -> None:
    result = db_app.test_cli_runner().invoke(
        args=["orgs", "create", "--kind", "municipality", "--code", "131017", "--name", "X"]
    )
    assert result.exit_code != 0
    assert "check digit" in result.output
