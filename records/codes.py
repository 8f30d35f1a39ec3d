"""Japanese education codes: prefecture, municipality and MEXT school codes, OneRoster Japan
Profile grades and the academic year (年度). The algorithms are in /work/shared/CODES.md.

Every `parse_*` function returns the canonical form or raises `InvalidCodeError` (-> 400) with a
message that says what was wrong and what is expected.

Input normalisation, the same in every `parse_*` function: surrounding whitespace (including the
full-width space U+3000) is stripped, full-width ASCII (全角英数字, U+FF01-U+FF5E, what an IME in
Japanese mode types) is folded to ASCII, and letters are upper-cased. Nothing else is normalised:
NFKC is not used because it would also turn "①" or "²" into digits, so any other character is
refused, naming it. The `*_check_digit` helpers do no normalisation: they take the canonical form.

Reference names come from `records/data/` (the `japancode` package, MIT), loaded once, on first use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Final

from records.errors import BadRequestError


class InvalidCodeError(BadRequestError):
    """A prefecture, municipality, school or grade code is malformed or fails its check digit."""


# ---------------------------------------------------------------------------------------------
# Input normalisation

_FULLWIDTH: Final = str.maketrans({chr(0xFF01 + i): chr(0x21 + i) for i in range(94)})
_DIGITS: Final = frozenset("0123456789")
_SHOWN_MAX = 40


def _shown(value: str) -> str:
    """The caller's input, quoted and cut short, for error messages."""
    return repr(value if len(value) <= _SHOWN_MAX else value[:_SHOWN_MAX] + "...")


def _clean(value: object, what: str, expected: str) -> str:
    if not isinstance(value, str):
        raise InvalidCodeError(f"{what} must be text, not {type(value).__name__}; {expected}")
    text = value.strip().translate(_FULLWIDTH).strip().upper()
    if not text:
        raise InvalidCodeError(f"{what} is empty; {expected}")
    for char in text:
        if not char.isascii():
            raise InvalidCodeError(
                f"{what} {_shown(value)} contains {char!r} (U+{ord(char):04X}), which is not an "
                f"ASCII letter or digit; {expected}"
            )
    return text


def _is_digits(text: str, length: int) -> bool:
    return len(text) == length and all(char in _DIGITS for char in text)


def _is_prefecture(two_digits: str) -> bool:
    return _is_digits(two_digits, 2) and 1 <= int(two_digits) <= 47


# ---------------------------------------------------------------------------------------------
# Prefectures (JIS X 0401)

_PREFECTURE_EXPECTED: Final = (
    "expected two digits from 01 to 47 (JIS X 0401), e.g. '13', or 'JP-13'"
)
_PREFECTURE_RE: Final = re.compile(r"(?:JP-)?([0-9]{2})", re.ASCII)


def parse_prefecture_code(value: str) -> str:
    """Parse a prefecture code: "13", "JP-13", "jp-13" -> "13"."""
    text = _clean(value, "prefecture code", _PREFECTURE_EXPECTED)
    match = _PREFECTURE_RE.fullmatch(text)
    if match is None:
        if _is_digits(text, 1) and text != "0":
            raise InvalidCodeError(
                f"prefecture code {_shown(value)} has one digit; JIS X 0401 codes have two: "
                f"did you mean '0{text}'? (spreadsheets often drop the leading zero)"
            )
        if _is_digits(text, 6) and _is_prefecture(text[:2]):
            raise InvalidCodeError(
                f"prefecture code {_shown(value)} looks like a 6-digit local-government code; "
                f"its prefecture is the first two digits, '{text[:2]}'"
            )
        raise InvalidCodeError(
            f"prefecture code {_shown(value)} is not valid; {_PREFECTURE_EXPECTED}"
        )
    digits = match.group(1)
    if not _is_prefecture(digits):
        raise InvalidCodeError(
            f"prefecture code {_shown(value)} is out of range: JIS X 0401 codes run from "
            "01 (北海道) to 47 (沖縄県)"
        )
    return digits


# ---------------------------------------------------------------------------------------------
# Local-government codes (全国地方公共団体コード, JIS X 0402)

_MUNICIPALITY_EXPECTED: Final = (
    "expected 6 digits (the 5-digit JIS X 0402 code and its check digit), e.g. '131016'"
)
_MUNICIPALITY_WEIGHTS: Final = (6, 5, 4, 3, 2)


def municipality_check_digit(five_digits: str) -> str:
    """The JIS X 0402 check digit of a 5-digit code: r = sum(weights 6..2) mod 11,
    check = (11 - r) mod 10."""
    if not _is_digits(five_digits, 5):
        raise InvalidCodeError(
            f"{_shown(five_digits)} is not 5 ASCII digits; a check digit is computed from the "
            "5-digit municipality code, e.g. '13101'"
        )
    total = sum(w * int(d) for w, d in zip(_MUNICIPALITY_WEIGHTS, five_digits, strict=True))
    return str((11 - total % 11) % 10)


def parse_municipality_code(value: str) -> str:
    """A 6-digit local-government code with a correct check digit: "131016" (千代田区).

    Prefectures' own codes (130001 東京都) are valid too. A 5-digit input is refused with the
    two ways to fix it that apply: a lost leading zero, or a missing check digit.
    """
    text = _clean(value, "municipality code", _MUNICIPALITY_EXPECTED)
    if _is_digits(text, 5):
        raise InvalidCodeError(_five_digit_message(value, text))
    if not _is_digits(text, 6):
        raise InvalidCodeError(
            f"municipality code {_shown(value)} is not valid; {_MUNICIPALITY_EXPECTED}"
        )
    if not _is_prefecture(text[:2]):
        raise InvalidCodeError(
            f"municipality code {_shown(value)} starts with '{text[:2]}', which is not a "
            "prefecture code (01 to 47)"
        )
    expected = municipality_check_digit(text[:5])
    if text[5] != expected:
        raise InvalidCodeError(
            f"municipality code {_shown(value)} has the wrong check digit: it ends in {text[5]}, "
            f"but the check digit for {text[:5]} is {expected} ('{text[:5]}{expected}'); "
            "if that is not the place you meant, another digit is mistyped"
        )
    return text


def _five_digit_message(value: str, text: str) -> str:
    fixes = []
    padded = "0" + text
    if _is_prefecture(padded[:2]) and municipality_check_digit(padded[:5]) == padded[5]:
        fixes.append(f"if a leading zero was lost, it is '{padded}'")
    if _is_prefecture(text[:2]):
        fixes.append(
            f"if the check digit is missing, it is '{text}{municipality_check_digit(text)}'"
        )
    hint = "; ".join(fixes) if fixes else "e.g. '131016'"
    return (
        f"municipality code {_shown(value)} has 5 digits; expected 6 (the 5-digit code and its "
        f"check digit): {hint}"
    )


def municipality_prefecture(code: str) -> str:
    """The prefecture (JIS X 0401) of a local-government code: its first two digits."""
    return parse_municipality_code(code)[:2]


# ---------------------------------------------------------------------------------------------
# School codes (学校コード, MEXT, since 2020)

SCHOOL_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "A1": "幼稚園",
        "B1": "小学校",
        "C1": "中学校",
        "C2": "義務教育学校",
        "D1": "高等学校",
        "D2": "中等教育学校",
        "E1": "特別支援学校",
        "F1": "大学",
        "G1": "高等専門学校",
        "H1": "専修学校",
        "H2": "各種学校",
    }
)
ESTABLISHMENTS: Final[Mapping[str, str]] = MappingProxyType({"1": "国立", "2": "公立", "3": "私立"})
_SCHOOL_LETTERS: Final = "ABCDEFGH"
_SCHOOL_EXPECTED: Final = (
    "expected 13 characters: school type (A1 to H2), prefecture (2 digits), establishment "
    "(1 国立, 2 公立, 3 私立), school number (7 digits) and check digit, e.g. 'B108254200026'"
)


@dataclass(frozen=True, slots=True)
class SchoolCode:
    """A valid MEXT school code, split into its parts (all strings, as written in the code)."""

    code: str  # "B108254200026"
    school_type: str  # "B1"
    school_type_name_ja: str  # "小学校"
    prefecture: str  # "08"
    establishment: str  # "2"
    establishment_name_ja: str  # "公立"
    number: str  # "5420002"


def school_code_check_digit(first12: str) -> str:
    """The check digit of the first 12 characters of a school code (upper-case letter A-H, then
    11 digits): the letter becomes two digits (A=01 ... H=08), the 13 digits are weighted 1, 2,
    1, 2, ... from the left, the digits of the products are added, check = (10 - sum mod 10) mod 10.
    Not Luhn, which doubles from the right."""
    if not (len(first12) == 12 and first12[0] in _SCHOOL_LETTERS and _is_digits(first12[1:], 11)):
        raise InvalidCodeError(
            f"{_shown(first12)} is not a school-code prefix; a check digit is computed from 12 "
            "characters: a letter A to H and 11 digits, e.g. 'B10825420002'"
        )
    digits = f"{_SCHOOL_LETTERS.index(first12[0]) + 1:02d}{first12[1:]}"
    total = 0
    for position, digit in enumerate(digits):
        product = int(digit) * (1 if position % 2 == 0 else 2)
        total += product // 10 + product % 10
    return str((10 - total % 10) % 10)


def parse_school_code(value: str) -> SchoolCode:
    """A 13-character MEXT school code; lower-case letters and full-width input are accepted."""
    text = _clean(value, "school code", _SCHOOL_EXPECTED)
    shown = _shown(value)
    letter = text[0]
    if not letter.isalpha():
        raise InvalidCodeError(
            f"school code {shown} starts with {letter!r}; it must start with a school-type letter "
            f"A to H; {_SCHOOL_EXPECTED}"
        )
    if letter not in _SCHOOL_LETTERS:
        raise InvalidCodeError(
            f"school code {shown} starts with '{letter}', which is not a school-type letter: "
            "they run from A (幼稚園) to H (専修学校, 各種学校)"
        )
    for position, char in enumerate(text[1:], start=2):
        if char not in _DIGITS:
            raise InvalidCodeError(
                f"school code {shown} has {char!r} at position {position}; after the type letter "
                f"every character must be a digit; {_SCHOOL_EXPECTED}"
            )
    if len(text) != 13:
        missing = ""
        if len(text) == 12:
            missing = f" (if only the check digit is missing: '{_complete_school_code(text)}')"
        raise InvalidCodeError(
            f"school code {shown} has {len(text)} characters{missing}; {_SCHOOL_EXPECTED}"
        )
    school_type, prefecture, establishment = text[:2], text[2:4], text[4]
    if school_type not in SCHOOL_TYPES:
        valid = ", ".join(f"{t} ({n})" for t, n in SCHOOL_TYPES.items() if t[0] == letter)
        raise InvalidCodeError(
            f"school code {shown} has school type '{school_type}', which does not exist; "
            f"with the letter {letter} the school types are {valid}"
        )
    if not _is_prefecture(prefecture):
        raise InvalidCodeError(
            f"school code {shown} has prefecture '{prefecture}' (characters 3-4); "
            "expected a JIS X 0401 prefecture code from 01 to 47"
        )
    if establishment not in ESTABLISHMENTS:
        raise InvalidCodeError(
            f"school code {shown} has establishment '{establishment}' (character 5); "
            "expected 1 (国立), 2 (公立) or 3 (私立)"
        )
    expected = school_code_check_digit(text[:12])
    if text[12] != expected:
        raise InvalidCodeError(
            f"school code {shown} has the wrong check digit: it ends in {text[12]}, but the check "
            f"digit for {text[:12]} is {expected} ('{text[:12]}{expected}'); "
            "if that is not the school you meant, another character is mistyped"
        )
    return SchoolCode(
        code=text,
        school_type=school_type,
        school_type_name_ja=SCHOOL_TYPES[school_type],
        prefecture=prefecture,
        establishment=establishment,
        establishment_name_ja=ESTABLISHMENTS[establishment],
        number=text[5:12],
    )


def _complete_school_code(first12: str) -> str:
    return first12 + school_code_check_digit(first12)


# ---------------------------------------------------------------------------------------------
# Grades (OneRoster Japan Profile)

_GRADE_BANDS: Final[Mapping[str, tuple[str, int]]] = MappingProxyType(
    {"P": ("P (小学校)", 6), "J": ("J (中学校)", 3), "H": ("H (高等学校)", 3), "E": ("E", 3)}
)
GRADES: Final[tuple[str, ...]] = tuple(
    f"{band}{year}" for band, (_, years) in _GRADE_BANDS.items() for year in range(1, years + 1)
)
_GRADE_EXPECTED: Final = "expected P1-P6 (小学校), J1-J3 (中学校), H1-H3 (高等学校) or E1-E3"


def parse_grade(value: str) -> str:
    """A OneRoster Japan Profile grade: "p1" -> "P1"; P1-P6, J1-J3, H1-H3, and E1-E3."""
    text = _clean(value, "grade", _GRADE_EXPECTED)
    if text in GRADES:
        return text
    band = _GRADE_BANDS.get(text[0])
    if band is not None and text[1:].isdigit():
        label, years = band
        raise InvalidCodeError(
            f"grade {_shown(value)} is out of range: {label} runs from "
            f"{text[0]}1 to {text[0]}{years}"
        )
    raise InvalidCodeError(f"grade {_shown(value)} is not a Japan Profile grade; {_GRADE_EXPECTED}")


# ---------------------------------------------------------------------------------------------
# Academic year (年度): April 1 to March 31

JST: Final = timezone(timedelta(hours=9), "JST")


def academic_year(d: date) -> int:
    """The 年度 a day falls in: 2026-03-31 -> 2025, 2026-04-01 -> 2026.

    A `datetime` is first converted to Japan time (UTC+9, no daylight saving), so an instant
    late on 31 March UTC counts in the year that starts on 1 April in Japan. Naive datetimes
    are refused (ValueError): they name no instant.
    """
    if isinstance(d, datetime):
        if d.tzinfo is None or d.utcoffset() is None:
            raise ValueError("academic_year needs a timezone-aware datetime (or a plain date)")
        d = d.astimezone(JST).date()
    return d.year if d.month >= 4 else d.year - 1


def academic_year_bounds(year: int) -> tuple[date, date]:
    """First and last day (both inclusive) of a 年度: 2026 -> (2026-04-01, 2027-03-31)."""
    return date(year, 4, 1), date(year + 1, 3, 31)


def academic_year_title(year: int) -> str:
    """The OneRoster academicSession title: 2026 -> "2026年度"."""
    return f"{year}年度"


# ---------------------------------------------------------------------------------------------
# Reference names (records/data, from the japancode package, MIT)


def prefecture_name(code: str) -> str:
    """Kanji name of a prefecture: "13" or "JP-13" -> "東京都"."""
    return _prefecture_names()[parse_prefecture_code(code)]


def municipality_name(code: str) -> str | None:
    """Kanji name of a municipality: "131016" -> "千代田区"; wards of designated cities read
    "札幌市 中央区" (with a space, as in the source).

    Raises InvalidCodeError for an invalid code. Returns None for a valid code the data does not
    hold: prefectures' own codes (130001; use `prefecture_name`) and municipalities created or
    renumbered after the snapshot (it predates 浜松市's 2024 wards, e.g. 221384 中央区).
    """
    return _municipality_names().get(parse_municipality_code(code))


def _load_rows(name: str) -> list[dict[str, Any]]:
    text = resources.files("records.data").joinpath(name).read_text(encoding="utf-8")
    rows: list[dict[str, Any]] = json.loads(text)
    return rows


@cache
def _prefecture_names() -> Mapping[str, str]:
    rows = _load_rows("prefectures.json")
    return MappingProxyType({str(row["lgcode"]).zfill(6)[:2]: str(row["pref"]) for row in rows})


@cache
def _municipality_names() -> Mapping[str, str]:
    rows = _load_rows("municipalities.json")
    return MappingProxyType({str(row["lgcode"]).zfill(6): str(row["city"]) for row in rows})
