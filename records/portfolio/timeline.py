"""A pupil's timeline: everything stored about them, newest first, a page at a time, in plain
words; teachers' feedback and achievement marks shown with the entry they are about.

Filters go through the statement index (records.query), so a page costs the same with ten
records or ten thousand. A page is three queries whatever its length: the statements, the
feedback on them, and the names of activities sent as bare ids.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from records.errors import BadRequestError
from records.keys import index_key
from records.models import Activity, StoredStatement
from records.portfolio import vocabulary as v
from records.portfolio.access import Pupil
from records.portfolio.labels import (
    Reading,
    activity_ids,
    categories,
    pick_language,
    read_statement,
)
from records.query import Reader, StatementQuery, decode_cursor, find_statements
from records.xapi import agent_key

PAGE_SIZE = 30


@dataclass(frozen=True, slots=True)
class TimelineFilter:
    subject: str | None = None  # a key of vocabulary.SUBJECTS
    kind: str | None = None  # a key of vocabulary.TIMELINE_KINDS
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.subject is not None and self.subject not in v.SUBJECTS:
            raise BadRequestError(f"unknown subject {self.subject!r}")
        if self.kind is not None and self.kind not in v.TIMELINE_KINDS:
            raise BadRequestError(f"unknown kind {self.kind!r}")


@dataclass(frozen=True, slots=True)
class AttachmentLink:
    sha2: str
    content_type: str
    name: str

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


@dataclass(frozen=True, slots=True)
class Feedback:
    statement_id: str
    by: str
    text: str | None
    at: datetime | None
    achievement: bool


@dataclass(frozen=True, slots=True)
class TimelineItem:
    statement_id: str
    stored: datetime
    reading: Reading
    own_entry: bool  # written by the pupil in the portfolio: they may edit or withdraw it
    prompt: str | None
    revises: str | None
    attachments: tuple[AttachmentLink, ...]
    feedback: tuple[Feedback, ...] = field(default=())

    @property
    def achievement(self) -> bool:
        return any(f.achievement for f in self.feedback)

    @property
    def arrived_late(self) -> bool:
        """Sent days after it happened (a device that was offline): the timeline is in the
        order records arrived, so the pupil is told why an older date shows up here."""
        occurred = self.reading.occurred
        if occurred is None or occurred.tzinfo is None or self.stored.tzinfo is None:
            return False
        return self.stored - occurred > timedelta(days=1)


@dataclass(frozen=True, slots=True)
class TimelinePage:
    items: list[TimelineItem]
    next_cursor: str | None


def timeline_page(
    session: Session,
    pupil: Pupil,
    filters: TimelineFilter,
    locale: str,
    cursor: str | None = None,
    page_size: int = PAGE_SIZE,
) -> TimelinePage:
    if not pupil.agent_keys:
        return TimelinePage([], None)
    query = timeline_query(pupil, filters)
    if cursor:
        after, horizon = _decode(cursor)
        query = replace(query, after=after, horizon=horizon)
    page = find_statements(session, Reader(org_id=None), query, page_size)
    statements = page.statements
    names = _activity_names(session, statements, locale)
    feedback = _feedback_for(session, [str(st["id"]) for st in statements])
    items = [_item(st, locale, names, feedback.get(str(st["id"]), ()), pupil) for st in statements]
    next_cursor = None
    if page.more:
        more = decode_cursor(page.more)
        if more.after is not None and more.horizon is not None:
            next_cursor = _encode(more.after, more.horizon)
    return TimelinePage(items, next_cursor)


def timeline_query(pupil: Pupil, filters: TimelineFilter) -> StatementQuery:
    """The index terms for a pupil's timeline with these filters (one rule per kind)."""
    require: list[tuple[str, tuple[str, ...]]] = []
    exclude: list[tuple[str, tuple[str, ...]]] = [
        ("C", (index_key(v.FEEDBACK_CATEGORY),)),  # shown with the entry they are about
        ("v", (index_key(v.VERB_VOIDED),)),
    ]
    mine = ("C", (index_key(v.ENTRY_CATEGORY),))
    tests = ("v", tuple(index_key(verb) for verb in v.TEST_VERBS))
    lessons = ("v", tuple(index_key(verb) for verb in v.LESSON_VERBS))
    if filters.kind == "mine":
        require.append(mine)
    elif filters.kind == "test":
        require.append(tests)
        exclude.append(mine)
    elif filters.kind == "lesson":
        require.append(lessons)
        exclude.append(mine)
    elif filters.kind == "device":
        exclude.extend([mine, tests, lessons])
    if filters.subject:
        require.append(("C", (index_key(v.subject_iri(filters.subject)),)))
    return StatementQuery(
        person_keys=pupil.agent_keys,
        since=filters.since,
        until=filters.until,
        require=tuple(require),
        exclude=tuple(exclude),
    )


def _item(
    st: Mapping[str, Any],
    locale: str,
    names: Mapping[str, Mapping[str, Any]],
    feedback: Sequence[Feedback],
    pupil: Pupil,
) -> TimelineItem:
    reading = read_statement(st, locale, names)
    ctx = st.get("context")
    ext = ctx.get("extensions") if isinstance(ctx, Mapping) else None
    ext = ext if isinstance(ext, Mapping) else {}
    prompt_code = ext.get(v.PROMPT_EXT)
    prompt = (
        v.REFLECTION_PROMPTS[prompt_code].get(locale)
        if prompt_code in v.REFLECTION_PROMPTS
        else None
    )
    revises = ext.get(v.REVISES_EXT)
    return TimelineItem(
        statement_id=str(st["id"]),
        stored=datetime.fromisoformat(str(st["stored"])),
        reading=reading,
        own_entry=reading.entry_kind is not None and _is_pupils_own(st, pupil),
        prompt=prompt,
        revises=revises if isinstance(revises, str) else None,
        attachments=tuple(_attachments(st, locale)),
        feedback=tuple(feedback),
    )


def _is_pupils_own(st: Mapping[str, Any], pupil: Pupil) -> bool:
    actor = st.get("actor")
    if not isinstance(actor, Mapping):
        return False
    key = agent_key(actor)
    return key is not None and index_key(key) in pupil.agent_keys


def _attachments(st: Mapping[str, Any], locale: str) -> list[AttachmentLink]:
    found = []
    for att in st.get("attachments") or []:
        if not isinstance(att, Mapping) or att.get("usageType") != v.ARTIFACT_USAGE:
            continue
        name = pick_language(att.get("display"), locale) or str(att.get("sha2", ""))[:12]
        found.append(AttachmentLink(str(att["sha2"]), str(att.get("contentType", "")), name))
    return found


def _feedback_for(session: Session, statement_ids: list[str]) -> dict[str, list[Feedback]]:
    """Teachers' comments and achievement marks on these statements, oldest first."""
    if not statement_ids:
        return {}
    rows = session.scalars(
        select(StoredStatement.full)
        .where(
            StoredStatement.ref_id.in_(statement_ids),
            StoredStatement.voided.is_(False),
            StoredStatement.verb_id.in_((v.VERB_COMMENTED, v.VERB_RECOGNISED)),
        )
        .order_by(StoredStatement.stored, StoredStatement.seq)
    )
    found: dict[str, list[Feedback]] = {}
    for st in rows:
        if v.FEEDBACK_CATEGORY not in categories(st):
            continue  # a comment some other tool made: not the portfolio's feedback
        result = st.get("result") if isinstance(st.get("result"), Mapping) else {}
        response = result.get("response")
        actor = st.get("actor") if isinstance(st.get("actor"), Mapping) else {}
        found.setdefault(str(st["object"]["id"]), []).append(
            Feedback(
                statement_id=str(st["id"]),
                by=str(actor.get("name") or ""),
                text=response if isinstance(response, str) and response else None,
                at=datetime.fromisoformat(str(st["stored"])),
                achievement=st["verb"]["id"] == v.VERB_RECOGNISED,
            )
        )
    return found


def _activity_names(
    session: Session, statements: Sequence[Mapping[str, Any]], locale: str
) -> dict[str, Mapping[str, Any]]:
    """Canonical names of activities that statements sent as bare ids (one query)."""
    wanted = activity_ids(statements)
    if not wanted:
        return {}
    names: dict[str, Mapping[str, Any]] = {}
    for activity_id, definition in session.execute(
        select(Activity.activity_id, Activity.definition).where(
            Activity.key.in_([index_key(a) for a in wanted])
        )
    ):
        name = definition.get("name") if isinstance(definition, Mapping) else None
        if isinstance(name, Mapping) and activity_id not in names:
            names[activity_id] = name
    return names


def _encode(after: tuple[datetime, int], horizon: datetime) -> str:
    payload = orjson.dumps([after[0].isoformat(), after[1], horizon.isoformat()])
    return base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")


def _decode(token: str) -> tuple[tuple[datetime, int], datetime]:
    try:
        stored, seq, horizon = orjson.loads(
            base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        )
        return (datetime.fromisoformat(stored), int(seq)), datetime.fromisoformat(horizon)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadRequestError("this page link is broken; go back to the first page") from None
