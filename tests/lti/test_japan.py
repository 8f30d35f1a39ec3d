"""Japan profile values in launches (no database)."""

from __future__ import annotations

import pytest

from lti.japan import launch_grade, school_code_of


@pytest.mark.parametrize(
    ("custom", "grade"),
    [
        ({"grade": "P1"}, "P1"),
        ({"grade": "p6"}, "P6"),
        ({"grade": "J3"}, "J3"),
        ({"grade": "H1"}, "H1"),
        ({"grade": "\uff30\uff14"}, "P4"),  # full-width input, as typed in Japanese systems
        ({"grade": "P7"}, None),
        ({"grade": "E1"}, None),  # a OneRoster grade, but not a school grade of a pupil
        ({"grade": "小4"}, None),
        ({"grade": 4}, None),
        ({}, None),
    ],
)
def test_custom_grade_is_understood_or_ignored(
    custom: dict[str, object], grade: str | None
) -> None:
    assert launch_grade(custom) == grade


def test_deployment_ids_shaped_like_school_codes() -> None:
    assert school_code_of("B113210000014") == "B113210000014"
    assert school_code_of("b113210000014") == "B113210000014"
    assert school_code_of("B113210000015") is None  # wrong check digit
    assert school_code_of("deployment-1") is None
