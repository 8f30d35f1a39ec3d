"""How a stored statement reads in plain words, in the reader's language.

Names come from the statement itself (the reader's language first, then Japanese, English, any),
then from the LRS's canonical activity definitions, then from our vocabulary, and last from the
IRI's final segment: every statement reads as something, even from a tool that sends bare ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeGuard

import isodate

from records.portfolio import vocabulary as v

_LANG_ORDER = {"ja": ("ja", "ja-JP", "en", "en-US", "en-GB"), "en": ("en", "en-US", "en-GB")}


def pick_language(names: Mapping[str, Any] | None, locale: str) -> str | None:
    """The best string of a language map for `locale` (region-insensitive), or None."""
    if not isinstance(names, Mapping) or not names:
        return None
    for tag in _LANG_ORDER.get(locale, ()):
        if isinstance(names.get(tag), str) and names[tag]:
            return str(names[tag])
    base = locale.split("-")[0].lower()
    for tag, text in names.items():
        if str(tag).split("-")[0].lower() == base and isinstance(text, str) and text:
            return text
    for tag in ("ja", "en"):
        for key, text in names.items():
            if str(key).lower().startswith(tag) and isinstance(text, str) and text:
                return text
    first = next((t for t in names.values() if isinstance(t, str) and t), None)
    return first


def iri_tail(iri: str) -> str:
    tail = iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return tail.replace("-", " ").replace("_", " ") or iri


@dataclass(frozen=True, slots=True)
class Reading:
    """One statement in plain words, plus the facts the timeline and charts show."""

    sentence: str
    object_name: str
    kind: str  # a key of vocabulary.TIMELINE_KINDS
    entry_kind: str | None  # a key of vocabulary.ENTRY_KINDS for the portfolio's own entries
    subjects: tuple[str, ...]  # codes of vocabulary.SUBJECTS
    minutes: float | None
    score: float | None  # 0..1 (result.score.scaled, or raw within min..max)
    score_text: str | None
    success: bool | None
    response: str | None
    occurred: datetime | None


def categories(statement: Mapping[str, Any]) -> list[str]:
    ctx = statement.get("context")
    acts = ctx.get("contextActivities") if isinstance(ctx, Mapping) else None
    found = acts.get("category") if isinstance(acts, Mapping) else None
    if isinstance(found, Mapping):
        found = [found]
    if not isinstance(found, list):
        return []
    return [str(a.get("id")) for a in found if isinstance(a, Mapping) and a.get("id")]


def subjects_of(statement: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(
        iri[len(v.SUBJECT_PREFIX) :]
        for iri in categories(statement)
        if iri.startswith(v.SUBJECT_PREFIX) and iri[len(v.SUBJECT_PREFIX) :] in v.SUBJECTS
    )


def timeline_kind(statement: Mapping[str, Any]) -> str:
    """The same rule as the timeline's kind filter (vocabulary.TEST_VERBS and friends)."""
    if v.ENTRY_CATEGORY in categories(statement):
        return "mine"
    verb = _verb_id(statement)
    if verb in v.TEST_VERBS:
        return "test"
    if verb in v.LESSON_VERBS:
        return "lesson"
    return "device"


def minutes_of(statement: Mapping[str, Any]) -> float | None:
    result = statement.get("result")
    raw = result.get("duration") if isinstance(result, Mapping) else None
    if not isinstance(raw, str):
        return None
    try:
        value = isodate.parse_duration(raw)
    except (isodate.ISO8601Error, ValueError):
        return None
    if not isinstance(value, timedelta):  # years or months: not one learning session
        return None
    return max(value.total_seconds(), 0.0) / 60.0


def score_of(statement: Mapping[str, Any]) -> tuple[float | None, str | None]:
    """(0..1 score, how to show it) from result.score; scaled wins, then raw within min..max."""
    result = statement.get("result")
    score = result.get("score") if isinstance(result, Mapping) else None
    if not isinstance(score, Mapping):
        return None, None
    scaled, raw = score.get("scaled"), score.get("raw")
    low, high = score.get("min"), score.get("max")
    if _number(raw) and _number(high):
        floor = float(low) if _number(low) else 0.0
        span = float(high) - floor
        fraction = (float(raw) - floor) / span if span > 0 else None
        text = f"{_plain(raw)} / {_plain(high)}"
        if _number(scaled):
            fraction = float(scaled)
        return fraction, text
    if _number(scaled):
        return float(scaled), f"{round(float(scaled) * 100)}%"
    if _number(raw):
        return None, _plain(raw)
    return None, None


def read_statement(
    statement: Mapping[str, Any],
    locale: str,
    activity_names: Mapping[str, Mapping[str, Any]] | None = None,
) -> Reading:
    obj = statement.get("object")
    object_name = _object_name(obj, locale, activity_names or {})
    verb = _verb_id(statement)
    phrase = v.VERB_PHRASES.get(verb)
    if phrase is not None:
        sentence = phrase.get(locale).format(o=object_name)
    else:
        verb_word = pick_language(_verb_display(statement), locale) or iri_tail(verb)
        sentence = (
            f"{object_name}：{verb_word}" if locale == "ja" else f"{verb_word} “{object_name}”"
        )
    result = statement.get("result")
    result = result if isinstance(result, Mapping) else {}
    score, score_text = score_of(statement)
    response = result.get("response")
    success = result.get("success")
    ctx = statement.get("context")
    extensions = ctx.get("extensions") if isinstance(ctx, Mapping) else None
    entry_kind = extensions.get(v.ENTRY_KIND_EXT) if isinstance(extensions, Mapping) else None
    return Reading(
        sentence=sentence,
        object_name=object_name,
        kind=timeline_kind(statement),
        entry_kind=entry_kind if entry_kind in v.ENTRY_KINDS else None,
        subjects=subjects_of(statement),
        minutes=minutes_of(statement),
        score=score,
        score_text=score_text,
        success=success if isinstance(success, bool) else None,
        response=response if isinstance(response, str) and response else None,
        occurred=_timestamp(statement),
    )


def activity_ids(statements: Iterable[Mapping[str, Any]]) -> set[str]:
    """Activity ids whose names a page may need from the canonical definitions."""
    found: set[str] = set()
    for st in statements:
        obj = st.get("object")
        if isinstance(obj, Mapping) and obj.get("objectType", "Activity") == "Activity":
            definition = obj.get("definition")
            if not (isinstance(definition, Mapping) and definition.get("name")):
                found.add(str(obj.get("id")))
    return found


def _object_name(obj: Any, locale: str, activity_names: Mapping[str, Mapping[str, Any]]) -> str:
    if not isinstance(obj, Mapping):
        return "?"
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        definition = obj.get("definition")
        name = (
            pick_language(definition.get("name"), locale)
            if isinstance(definition, Mapping)
            else None
        )
        oid = str(obj.get("id", ""))
        return name or pick_language(activity_names.get(oid), locale) or iri_tail(oid)
    if kind in ("Agent", "Group"):
        return str(obj.get("name") or ("グループ" if locale == "ja" else "a group"))
    if kind == "StatementRef":
        return "記録" if locale == "ja" else "an entry"
    if kind == "SubStatement":
        return "予定" if locale == "ja" else "a plan"
    return "?"


def _verb_id(statement: Mapping[str, Any]) -> str:
    verb = statement.get("verb")
    return str(verb.get("id", "")) if isinstance(verb, Mapping) else ""


def _verb_display(statement: Mapping[str, Any]) -> Mapping[str, Any] | None:
    verb = statement.get("verb")
    display = verb.get("display") if isinstance(verb, Mapping) else None
    return display if isinstance(display, Mapping) else None


def _timestamp(statement: Mapping[str, Any]) -> datetime | None:
    raw = statement.get("timestamp") or statement.get("stored")
    if not isinstance(raw, str):
        return None
    try:
        moment: datetime = isodate.parse_datetime(raw)
    except (isodate.ISO8601Error, ValueError):
        return None
    return moment


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _plain(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"
