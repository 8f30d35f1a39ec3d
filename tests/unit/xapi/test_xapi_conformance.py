"""Every templated statement of ADL's xAPI 1.0.3 conformance suite, with the status it expects.

The cases come from data/conformance_cases.json.gz (see extract_conformance_cases.js there):
200 means parse_statement accepts the statement, 400 that it raises InvalidStatementError.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from records.errors import InvalidStatementError
from records.xapi import parse_statement

CASES: list[dict[str, Any]] = json.loads(
    gzip.decompress((Path(__file__).parent / "data" / "conformance_cases.json.gz").read_bytes())
)


def test_the_suite_cases_are_all_there() -> None:
    assert len(CASES) == 950
    assert {case["expect"] for case in CASES} == {200, 400}


@pytest.mark.parametrize(
    "case",
    CASES,
    ids=[f"{case['file']}#{index:03d}-{case['expect']}" for index, case in enumerate(CASES)],
)
def test_conformance_case(case: dict[str, Any]) -> None:
    if case["expect"] == 200:
        parse_statement(case["statement"])
    else:
        with pytest.raises(InvalidStatementError, match=r"^statement[.\[:]"):
            parse_statement(case["statement"])
