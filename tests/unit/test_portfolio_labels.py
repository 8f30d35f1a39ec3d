"""How statements read in plain words, and the streak arithmetic."""

from __future__ import annotations

from datetime import date

from records.portfolio import vocabulary as v
from records.portfolio.labels import pick_language, read_statement
from records.portfolio.summary import school_year_of, streaks
from tests.factories import make_statement


def test_known_verbs_read_as_a_sentence_in_japanese_and_english() -> None:
    st = make_statement()
    assert read_statement(st, "ja").sentence == "「分数 第1単元」をやりとげた"
    assert read_statement(st, "en").sentence == "completed “Fractions unit 1”"


def test_names_fall_back_to_japanese_then_english_then_canonical_then_the_iri() -> None:
    assert pick_language({"ja-JP": "漢字", "en-US": "kanji"}, "ja") == "漢字"
    assert pick_language({"en-GB": "maths"}, "ja") == "maths"
    assert pick_language({"fr": "calcul"}, "en") == "calcul"
    bare = make_statement(object={"id": "https://tool.example/items/long-division"})
    assert read_statement(bare, "en").object_name == "long division"
    canonical = {"https://tool.example/items/long-division": {"ja": "わり算の筆算"}}
    assert read_statement(bare, "ja", canonical).object_name == "わり算の筆算"


def test_unknown_verbs_use_the_statements_own_display() -> None:
    st = make_statement(
        verb={"id": "https://tool.example/verbs/drew", "display": {"ja": "えがいた"}}
    )
    assert read_statement(st, "ja").sentence == "分数 第1単元：えがいた"
    bare = make_statement(verb={"id": "https://tool.example/verbs/drew"})
    assert "drew" in read_statement(bare, "en").sentence


def test_score_duration_and_kind() -> None:
    st = make_statement(
        verb={"id": v.ADL + "passed"},
        result={"score": {"raw": 8, "min": 0, "max": 10}, "duration": "PT1H5M", "success": True},
    )
    reading = read_statement(st, "ja")
    assert reading.score_text == "8 / 10"
    assert reading.score == 0.8
    assert reading.minutes == 65
    assert reading.kind == "test"
    assert reading.success is True
    lesson = read_statement(make_statement(verb={"id": v.ADL + "attended"}), "ja")
    assert lesson.kind == "lesson"
    mine = make_statement(context={"contextActivities": {"category": [{"id": v.ENTRY_CATEGORY}]}})
    assert read_statement(mine, "ja").kind == "mine"
    assert read_statement(make_statement(), "ja").kind == "device"


def test_subjects_come_from_category_activities() -> None:
    st = make_statement(
        context={"contextActivities": {"category": [{"id": v.subject_iri("science")}]}}
    )
    assert read_statement(st, "ja").subjects == ("science",)


def test_streaks_and_school_years() -> None:
    today = date(2026, 11, 27)
    days = [date(2026, 11, d) for d in (20, 21, 22, 25, 26, 27)]
    assert streaks(days, today) == (3, 3)
    assert streaks([date(2026, 11, 26)], today) == (1, 1)  # today may still be empty
    assert streaks([date(2026, 11, 24)], today) == (0, 1)
    assert school_year_of(today) == (date(2026, 4, 1), date(2027, 3, 31))
    assert school_year_of(date(2027, 2, 1)) == (date(2026, 4, 1), date(2027, 3, 31))
