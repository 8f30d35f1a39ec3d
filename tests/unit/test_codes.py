"""records.codes: every example in CODES.md, every code in the reference data, each error message,
and check-digit properties."""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from records.codes import (
    ESTABLISHMENTS,
    GRADES,
    SCHOOL_TYPES,
    InvalidCodeError,
    SchoolCode,
    academic_year,
    academic_year_bounds,
    academic_year_title,
    municipality_check_digit,
    municipality_name,
    municipality_prefecture,
    parse_grade,
    parse_municipality_code,
    parse_prefecture_code,
    parse_school_code,
    prefecture_name,
    school_code_check_digit,
)
from records.errors import BadRequestError

DIGITS = "0123456789"


def _rows(name: str) -> list[dict[str, Any]]:
    text = resources.files("records.data").joinpath(name).read_text(encoding="utf-8")
    rows: list[dict[str, Any]] = json.loads(text)
    return rows


PREFECTURES = _rows("prefectures.json")
MUNICIPALITIES = _rows("municipalities.json")
MUNICIPALITY_CODES = [str(row["lgcode"]).zfill(6) for row in MUNICIPALITIES]


def fullwidth(text: str) -> str:
    """ASCII -> full-width forms (what an IME in Japanese mode types)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def other_digits(digit: str) -> list[str]:
    return [d for d in DIGITS if d != digit]


# ---------------------------------------------------------------------------------------------
# CODES.md examples


@pytest.mark.parametrize(
    ("code", "name"), [("131016", "千代田区"), ("012131", "苫小牧市"), ("012050", "室蘭市")]
)
def test_municipality_examples(code: str, name: str) -> None:
    assert parse_municipality_code(code) == code
    assert municipality_check_digit(code[:5]) == code[5]
    assert municipality_name(code) == name


def test_prefecture_example_130001() -> None:
    assert parse_municipality_code("130001") == "130001"
    assert municipality_prefecture("130001") == "13"
    assert prefecture_name(municipality_prefecture("130001")) == "東京都"
    assert municipality_name("130001") is None  # a prefecture, not a municipality


def test_municipality_prefecture() -> None:
    assert municipality_prefecture("012131") == "01"
    assert prefecture_name(municipality_prefecture("012131")) == "北海道"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "F112310102342",
            SchoolCode("F112310102342", "F1", "大学", "12", "3", "私立", "1010234"),
        ),
        (
            "B108254200026",
            SchoolCode("B108254200026", "B1", "小学校", "08", "2", "公立", "5420002"),
        ),
    ],
)
def test_school_code_examples(code: str, expected: SchoolCode) -> None:
    assert parse_school_code(code) == expected
    assert school_code_check_digit(code[:12]) == code[12]


def test_school_code_check_digit_is_not_luhn() -> None:
    # Luhn (doubling from the right) gives a different digit for the CODES.md example.
    digits = "06" + "F112310102342"[1:12]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        product = int(digit) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    assert str((10 - total % 10) % 10) != school_code_check_digit("F11231010234")


# ---------------------------------------------------------------------------------------------
# Reference data: every code passes, every wrong check digit fails


def test_reference_data_sizes() -> None:
    assert len(PREFECTURES) == 47
    assert len(MUNICIPALITIES) == 1916  # 1,741 municipalities and 175 wards
    assert len(set(MUNICIPALITY_CODES)) == len(MUNICIPALITY_CODES)


@pytest.mark.parametrize("code", MUNICIPALITY_CODES)
def test_every_municipality_validates_and_any_other_check_digit_fails(code: str) -> None:
    assert parse_municipality_code(code) == code
    assert municipality_name(code) is not None
    for digit in other_digits(code[5]):
        with pytest.raises(InvalidCodeError, match="wrong check digit"):
            parse_municipality_code(code[:5] + digit)


def test_every_municipality_name_matches_its_row() -> None:
    for row, code in zip(MUNICIPALITIES, MUNICIPALITY_CODES, strict=True):
        assert municipality_name(code) == row["city"]
        assert prefecture_name(municipality_prefecture(code)) == row["pref"]


@pytest.mark.parametrize("row", PREFECTURES, ids=lambda row: str(row["lgcode"]))
def test_every_prefecture_code_validates(row: dict[str, Any]) -> None:
    code = str(row["lgcode"])
    two = code[:2]
    assert parse_municipality_code(code) == code
    assert code[2:5] == "000"
    assert parse_prefecture_code(two) == two
    assert parse_prefecture_code(row["ISO3166-2"]) == two
    assert prefecture_name(two) == row["pref"]
    assert prefecture_name(row["ISO3166-2"]) == row["pref"]
    for digit in other_digits(code[5]):
        with pytest.raises(InvalidCodeError, match="wrong check digit"):
            parse_municipality_code(code[:5] + digit)


def test_all_47_prefecture_codes() -> None:
    codes = [f"{n:02d}" for n in range(1, 48)]
    assert [parse_prefecture_code(c) for c in codes] == codes
    assert prefecture_name("01") == "北海道"
    assert prefecture_name("47") == "沖縄県"


def test_wards_keep_the_source_spelling() -> None:
    assert municipality_name("011011") == "札幌市 中央区"


def test_valid_code_missing_from_the_snapshot_is_none() -> None:
    # 浜松市中央区, created 2024-01-01, after the japancode 0.1.0 snapshot.
    assert parse_municipality_code("221384") == "221384"
    assert municipality_name("221384") is None


def test_licence_travels_with_the_data() -> None:
    data = resources.files("records.data")
    assert "MIT License" in data.joinpath("LICENSE-japancode.txt").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Normalisation


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13", "13"),
        (" 13 ", "13"),
        ("JP-13", "13"),
        ("jp-13", "13"),
        (fullwidth("13"), "13"),
        (fullwidth("JP-13"), "13"),
        ("\u300013\u3000", "13"),
    ],
)
def test_prefecture_normalisation(raw: str, expected: str) -> None:
    assert parse_prefecture_code(raw) == expected


def test_municipality_normalisation() -> None:
    assert parse_municipality_code(fullwidth("131016")) == "131016"
    assert parse_municipality_code(" 131016\n") == "131016"


def test_school_code_normalisation() -> None:
    assert parse_school_code(" f112310102342 ").code == "F112310102342"
    assert parse_school_code(fullwidth("b108254200026")).code == "B108254200026"


@pytest.mark.parametrize(("raw", "expected"), [("p1", "P1"), (" J3 ", "J3"), ("h2", "H2")])
def test_grade_normalisation(raw: str, expected: str) -> None:
    assert parse_grade(raw) == expected


def test_grades() -> None:
    expected = [
        f"{band}{n}"
        for band, years in [("P", 6), ("J", 3), ("H", 3), ("E", 3)]
        for n in range(1, years + 1)
    ]
    assert list(GRADES) == expected
    assert [parse_grade(g) for g in GRADES] == list(GRADES)


# ---------------------------------------------------------------------------------------------
# Error messages


def test_invalid_code_error_is_a_400() -> None:
    assert issubclass(InvalidCodeError, BadRequestError)


ERRORS = [
    # prefectures
    (parse_prefecture_code, "", "prefecture code is empty; expected two digits from 01 to 47"),
    (parse_prefecture_code, "1", "has one digit; JIS X 0401 codes have two: did you mean '01'?"),
    (parse_prefecture_code, "00", "is out of range: JIS X 0401 codes run from 01 (北海道) to 47"),
    (parse_prefecture_code, "48", "is out of range"),
    (parse_prefecture_code, "JP-48", "is out of range"),
    (parse_prefecture_code, "130001", "looks like a 6-digit local-government code; its prefecture"),
    (parse_prefecture_code, "Tokyo", "is not valid; expected two digits from 01 to 47"),
    (parse_prefecture_code, "JP13", "is not valid"),
    (parse_prefecture_code, "東京都", "contains '東' (U+6771), which is not an ASCII letter"),
    (parse_prefecture_code, "\u2460\u2462", "contains '①' (U+2460)"),
    (parse_prefecture_code, "\u0661\u0663", "contains '\u0661' (U+0661)"),
    # municipalities
    (parse_municipality_code, "", "municipality code is empty; expected 6 digits"),
    (parse_municipality_code, "131017", "wrong check digit: it ends in 7, but the check digit for"),
    (parse_municipality_code, "131017", "13101 is 6 ('131016')"),
    (parse_municipality_code, "12131", "if a leading zero was lost, it is '012131'"),
    (parse_municipality_code, "13101", "if the check digit is missing, it is '131016'"),
    (parse_municipality_code, "99999", "has 5 digits; expected 6 (the 5-digit code and its check"),
    (parse_municipality_code, "481231", "starts with '48', which is not a prefecture code"),
    (parse_municipality_code, "000001", "starts with '00', which is not a prefecture code"),
    (parse_municipality_code, "13101-6", "is not valid; expected 6 digits"),
    (parse_municipality_code, "1310166", "is not valid; expected 6 digits"),
    # school codes
    (parse_school_code, "", "school code is empty; expected 13 characters"),
    (parse_school_code, "B108254200027", "wrong check digit: it ends in 7, but the check digit"),
    (parse_school_code, "B108254200027", "for B10825420002 is 6 ('B108254200026')"),
    (parse_school_code, "B10825420002", "has 12 characters (if only the check digit is missing"),
    (parse_school_code, "B1082542000266", "has 14 characters; expected 13 characters"),
    (parse_school_code, "I108254200026", "starts with 'I', which is not a school-type letter"),
    (
        parse_school_code,
        "1108254200026",
        "starts with '1'; it must start with a school-type letter",
    ),
    (parse_school_code, "B208254200026", "school type 'B2', which does not exist; with the letter"),
    (parse_school_code, "B208254200026", "B the school types are B1 (小学校)"),
    (parse_school_code, "C308254200026", "C1 (中学校), C2 (義務教育学校)"),
    (parse_school_code, "B148254200026", "has prefecture '48' (characters 3-4); expected a JIS"),
    (parse_school_code, "B100254200026", "has prefecture '00'"),
    (parse_school_code, "B108454200026", "has establishment '4' (character 5); expected 1 (国立)"),
    (parse_school_code, "B108054200026", "has establishment '0'"),
    (parse_school_code, "BX08254200026", "has 'X' at position 2; after the type letter every"),
    (parse_school_code, "B1-0825420002", "has '-' at position 3"),
    # grades
    (parse_grade, "", "grade is empty; expected P1-P6"),
    (parse_grade, "P7", "grade 'P7' is out of range: P (小学校) runs from P1 to P6"),
    (parse_grade, "P0", "is out of range: P (小学校)"),
    (parse_grade, "J4", "is out of range: J (中学校) runs from J1 to J3"),
    (parse_grade, "H4", "is out of range: H (高等学校) runs from H1 to H3"),
    (parse_grade, "E4", "is out of range: E runs from E1 to E3"),
    (parse_grade, "K1", "is not a Japan Profile grade; expected P1-P6 (小学校), J1-J3"),
    (parse_grade, "1", "is not a Japan Profile grade"),
    (parse_grade, "小1", "contains '小'"),
]


@pytest.mark.parametrize(
    ("parse", "raw", "message"), ERRORS, ids=[f"{p.__name__}-{r!r}" for p, r, _ in ERRORS]
)
def test_error_messages(parse: Any, raw: str, message: str) -> None:
    with pytest.raises(InvalidCodeError, match=re.escape(message)):
        parse(raw)


@pytest.mark.parametrize("parse", [parse_prefecture_code, parse_municipality_code, parse_grade])
def test_non_text_is_refused(parse: Any) -> None:
    with pytest.raises(InvalidCodeError, match="must be text, not int"):
        parse(13)


def test_long_input_is_cut_short_in_the_message() -> None:
    with pytest.raises(InvalidCodeError) as info:
        parse_municipality_code("1" * 10_000)
    assert len(info.value.message) < 300


@pytest.mark.parametrize("bad", ["1310", "131016", "1310a", fullwidth("13101")])
def test_municipality_check_digit_takes_five_ascii_digits(bad: str) -> None:
    with pytest.raises(InvalidCodeError, match="is not 5 ASCII digits"):
        municipality_check_digit(bad)


@pytest.mark.parametrize("bad", ["B1082542000", "I10825420002", "b10825420002", "BB0825420002"])
def test_school_code_check_digit_takes_a_canonical_prefix(bad: str) -> None:
    with pytest.raises(InvalidCodeError, match="is not a school-code prefix"):
        school_code_check_digit(bad)


# ---------------------------------------------------------------------------------------------
# Properties

SETTINGS = settings(max_examples=300, deadline=None)
PREFECTURE = st.integers(1, 47).map(lambda n: f"{n:02d}")


def digit_strings(size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=DIGITS, min_size=size, max_size=size)


@SETTINGS
@given(five=digit_strings(5))
def test_check_digit_is_one_digit_for_any_five_digits(five: str) -> None:
    assert municipality_check_digit(five) in DIGITS


@SETTINGS
@given(prefecture=PREFECTURE, rest=digit_strings(3))
def test_municipality_check_digit_round_trip(prefecture: str, rest: str) -> None:
    five = prefecture + rest
    check = municipality_check_digit(five)
    assert parse_municipality_code(five + check) == five + check
    for digit in other_digits(check):
        with pytest.raises(InvalidCodeError, match=f"the check digit for {five} is {check}"):
            parse_municipality_code(five + digit)


SCHOOL_PREFIX = st.builds(
    lambda school_type, prefecture, establishment, number: (
        school_type + prefecture + establishment + number
    ),
    st.sampled_from(sorted(SCHOOL_TYPES)),
    PREFECTURE,
    st.sampled_from(sorted(ESTABLISHMENTS)),
    digit_strings(7),
)


@SETTINGS
@given(prefix=SCHOOL_PREFIX)
def test_school_code_check_digit_round_trip(prefix: str) -> None:
    check = school_code_check_digit(prefix)
    school = parse_school_code(prefix + check)
    assert school.code == prefix + check
    assert school.school_type + school.prefecture + school.establishment + school.number == prefix
    assert school.school_type_name_ja == SCHOOL_TYPES[school.school_type]
    assert school.establishment_name_ja == ESTABLISHMENTS[school.establishment]
    for digit in other_digits(check):
        with pytest.raises(InvalidCodeError, match=f"the check digit for {prefix} is {check}"):
            parse_school_code(prefix + digit)


@SETTINGS
@given(prefix=SCHOOL_PREFIX, data=st.data())
def test_any_single_character_change_to_a_school_code_is_caught(
    prefix: str, data: st.DataObject
) -> None:
    code = prefix + school_code_check_digit(prefix)
    position = data.draw(st.integers(0, 12))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if position == 0 else DIGITS
    char = data.draw(st.sampled_from([c for c in alphabet if c != code[position]]))
    with pytest.raises(InvalidCodeError):
        parse_school_code(code[:position] + char + code[position + 1 :])


@SETTINGS
@given(value=st.text(max_size=20))
def test_parsers_raise_only_invalid_code_error(value: str) -> None:
    for parse in (parse_prefecture_code, parse_municipality_code, parse_school_code, parse_grade):
        with contextlib.suppress(InvalidCodeError):
            parse(value)


# ---------------------------------------------------------------------------------------------
# Academic year (年度)


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2026, 3, 31), 2025),
        (date(2026, 4, 1), 2026),
        (date(2026, 1, 1), 2025),
        (date(2025, 12, 31), 2025),
        (date(2024, 2, 29), 2023),
        (date(2027, 3, 31), 2026),
    ],
)
def test_academic_year(day: date, year: int) -> None:
    assert academic_year(day) == year


def test_academic_year_of_an_instant_is_taken_in_japan() -> None:
    # 2026-03-31T15:00Z is 2026-04-01T00:00 in Japan.
    assert academic_year(datetime(2026, 3, 31, 14, 59, 59, tzinfo=UTC)) == 2025
    assert academic_year(datetime(2026, 3, 31, 15, 0, tzinfo=UTC)) == 2026
    jst = timezone(timedelta(hours=9))
    assert academic_year(datetime(2026, 4, 1, 0, 0, tzinfo=jst)) == 2026
    assert academic_year(datetime(2026, 3, 31, 23, 59, 59, tzinfo=jst)) == 2025


def test_academic_year_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        academic_year(datetime(2026, 4, 1, 0, 0))  # noqa: DTZ001 - the naive value under test


def test_academic_year_bounds_and_title() -> None:
    first, last = academic_year_bounds(2026)
    assert (first, last) == (date(2026, 4, 1), date(2027, 3, 31))
    assert academic_year(first) == academic_year(last) == 2026
    assert academic_year(first - timedelta(days=1)) == 2025
    assert academic_year(last + timedelta(days=1)) == 2027
    assert academic_year_title(2026) == "2026年度"


@SETTINGS
@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_every_day_lies_within_the_bounds_of_its_academic_year(day: date) -> None:
    first, last = academic_year_bounds(academic_year(day))
    assert first <= day <= last
