"""Result and Score objects (Data 2.4.5)."""

from __future__ import annotations

from records.xapi.primitives import (
    boolean,
    check_duration,
    check_extensions,
    check_keys,
    fail,
    number,
    require_object,
    show,
    text,
)

_RESULT_KEYS = frozenset({"score", "success", "completion", "response", "duration", "extensions"})
_SCORE_KEYS = frozenset({"scaled", "raw", "min", "max"})


def check_result(value: object, path: str) -> None:
    result = require_object(value, path, "a Result")
    check_keys(result, _RESULT_KEYS, path, "a Result")
    if "score" in result:
        check_score(result["score"], f"{path}.score")
    if "success" in result:
        boolean(result["success"], f"{path}.success")
    if "completion" in result:
        boolean(result["completion"], f"{path}.completion")
    if "response" in result:
        text(result["response"], f"{path}.response")
    if "duration" in result:
        check_duration(result["duration"], f"{path}.duration")
    if "extensions" in result:
        check_extensions(result["extensions"], f"{path}.extensions")


def check_score(value: object, path: str) -> None:
    """scaled in [-1, 1]; min < max; min <= raw <= max where given (Data 2.4.5.1)."""
    score = require_object(value, path, "a Score")
    check_keys(score, _SCORE_KEYS, path, "a Score")
    if "scaled" in score:
        scaled = number(score["scaled"], f"{path}.scaled")
        if not -1 <= scaled <= 1:
            fail(f"{path}.scaled", f"must be between -1 and 1 inclusive, got {show(scaled)}")
    low = number(score["min"], f"{path}.min") if "min" in score else None
    high = number(score["max"], f"{path}.max") if "max" in score else None
    if low is not None and high is not None and not low < high:
        fail(f"{path}.min", f"must be less than max ({show(high)}), got {show(low)}")
    if "raw" in score:
        raw = number(score["raw"], f"{path}.raw")
        if low is not None and raw < low:
            fail(f"{path}.raw", f"must not be less than min ({show(low)}), got {show(raw)}")
        if high is not None and raw > high:
            fail(f"{path}.raw", f"must not be greater than max ({show(high)}), got {show(raw)}")
