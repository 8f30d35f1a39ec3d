"""The statement query engine: single statements and filtered, paged statement lists.

Every filter is an index range over `statement_index` (see records.models.StatementIndex); the
first filter drives the query in `stored` order and the others are semi-joins. Pages end at the
consistency horizon (records.clock), so a `more` cursor never skips a statement committed late.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Text, and_, cast, exists, select, tuple_
from sqlalchemy.orm import Session, aliased

from records.clock import consistent_through
from records.errors import BadRequestError, NotFoundError
from records.keys import index_key
from records.models import Activity, Attachment, StatementIndex, StoredStatement

# The stored statement as JSON text (JSONB is rendered by PostgreSQL; SQLite stores text).
_FULL_TEXT = cast(StoredStatement.full, Text)


@dataclass(frozen=True, slots=True)
class Reader:
    """Whose statements may be read: an organisation (optionally only one credential's own),
    or None for every organisation (identity-based reads, authorised and logged by the caller)."""

    org_id: int | None
    only_credential_id: int | None = None


@dataclass(frozen=True, slots=True)
class StatementQuery:
    agent_key: str | None = None
    # "All statements of this person": index keys of every identifier linked to them.
    person_keys: tuple[str, ...] = ()
    verb_id: str | None = None
    activity_id: str | None = None
    registration: str | None = None
    related_agents: bool = False
    related_activities: bool = False
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 0
    ascending: bool = False
    # Continuation from a `more` link: the (stored, seq) of the last statement already sent,
    # and the horizon of the first page so later pages see the same set.
    after: tuple[datetime, int] | None = None
    horizon: datetime | None = None
    # Further index terms as (kind, keys): each `require` must match one of its keys, no
    # `exclude` may match. Used by the portfolio's filters; not part of the xAPI API.
    require: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class StatementPage:
    # Each statement as the JSON text the database holds: an exact-format answer is these
    # texts joined, with no parsing and re-encoding (most of a query's cost otherwise).
    texts: list[str]
    more: str | None  # opaque cursor for the next page
    consistent_through: datetime
    last_modified: datetime | None

    @property
    def statements(self) -> list[dict[str, Any]]:
        return [orjson.loads(text) for text in self.texts]


def get_statement(
    session: Session, reader: Reader, statement_id: str, *, voided: bool
) -> tuple[dict[str, Any], datetime]:
    """A statement by id; `voided=True` asks for a voided one (voidedStatementId)."""
    row = session.execute(
        select(StoredStatement.full, StoredStatement.stored, StoredStatement.voided).where(
            *_visible(reader), StoredStatement.statement_id == statement_id
        )
    ).first()
    if row is None or row.voided != voided:
        if row is not None and row.voided:
            raise NotFoundError(
                f"statement {statement_id} was voided; ask for it with voidedStatementId"
            )
        if row is not None:
            raise NotFoundError(
                f"statement {statement_id} is not voided; ask for it with statementId"
            )
        raise NotFoundError(f"no statement with id {statement_id}")
    return row.full, _aware(row.stored)


def find_statements(
    session: Session, reader: Reader, query: StatementQuery, page_size: int
) -> StatementPage:
    horizon = query.horizon or consistent_through(session)
    limit = page_size if query.limit <= 0 else min(query.limit, page_size)
    filters = _index_filters(query)
    if filters:
        driver_kind, driver_keys = filters[0]
        idx = aliased(StatementIndex)
        stored_col, seq_col = idx.stored, idx.seq
        stmt = (
            select(_FULL_TEXT, idx.stored, idx.seq)
            .select_from(idx)
            .join(StoredStatement, StoredStatement.seq == idx.seq)
            .where(*_index_match(idx, reader, driver_kind, driver_keys))
        )
        for kind, keys in filters[1:]:
            other = aliased(StatementIndex)
            stmt = stmt.where(
                exists().where(
                    other.seq == StoredStatement.seq, *_index_match(other, reader, kind, keys)
                )
            )
    else:
        stored_col, seq_col = StoredStatement.stored, StoredStatement.seq
        stmt = select(_FULL_TEXT, StoredStatement.stored, StoredStatement.seq)
    stmt = stmt.where(*_visible(reader), StoredStatement.voided.is_(False), stored_col <= horizon)
    for kind, keys in query.exclude:
        other = aliased(StatementIndex)
        stmt = stmt.where(
            ~exists().where(
                other.seq == StoredStatement.seq, *_index_match(other, reader, kind, keys)
            )
        )
    # UTC throughout: SQLite compares datetimes as text, so offsets must not differ.
    if query.since is not None:
        stmt = stmt.where(stored_col > query.since.astimezone(UTC))
    if query.until is not None:
        stmt = stmt.where(stored_col <= query.until.astimezone(UTC))
    if query.after is not None:
        cursor = tuple_(stored_col, seq_col)
        bound = tuple_(*query.after)
        stmt = stmt.where(cursor > bound if query.ascending else cursor < bound)
    if query.ascending:
        stmt = stmt.order_by(stored_col.asc(), seq_col.asc())
    else:
        stmt = stmt.order_by(stored_col.desc(), seq_col.desc())
    rows = session.execute(stmt.limit(limit + 1)).all()
    more = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        more = encode_cursor(replace(query, after=(_aware(last[1]), last[2]), horizon=horizon))
    last_modified = max((_aware(r[1]) for r in rows), default=None)
    return StatementPage([r[0] for r in rows], more, horizon, last_modified)


def _index_filters(query: StatementQuery) -> list[tuple[str, tuple[str, ...]]]:
    """(kind, keys) per filter, most selective first; a row matches any of the keys."""
    filters: list[tuple[str, tuple[str, ...]]] = []
    if query.registration:
        filters.append(("r", (query.registration,)))
    if query.agent_key:
        filters.append(("A" if query.related_agents else "a", (index_key(query.agent_key),)))
    if query.person_keys:
        filters.append(("a", query.person_keys))
    if query.activity_id:
        kind = "C" if query.related_activities else "c"
        filters.append((kind, (index_key(query.activity_id),)))
    if query.verb_id:
        filters.append(("v", (index_key(query.verb_id),)))
    filters.extend(query.require)
    return filters


def _index_match(idx: Any, reader: Reader, kind: str, keys: tuple[str, ...]) -> list[Any]:
    clauses = [idx.kind == kind, idx.key == keys[0] if len(keys) == 1 else idx.key.in_(keys)]
    if reader.org_id is not None:
        clauses.append(idx.org_id == reader.org_id)
    return clauses


def _visible(reader: Reader) -> list[Any]:
    clauses: list[Any] = []
    if reader.org_id is not None:
        clauses.append(StoredStatement.org_id == reader.org_id)
    if reader.only_credential_id is not None:
        clauses.append(StoredStatement.credential_id == reader.only_credential_id)
    return clauses


# --- the `more` cursor ------------------------------------------------------------------------

_CURSOR_FIELDS = ("agent_key", "verb_id", "activity_id", "registration")


def encode_cursor(query: StatementQuery) -> str:
    """Everything needed to continue a query, as an opaque URL-safe token."""
    if query.after is None or query.horizon is None:
        raise ValueError("a cursor needs the position and horizon of the page it continues")
    payload = {
        **{name: getattr(query, name) for name in _CURSOR_FIELDS},
        "person_keys": list(query.person_keys),
        "ra": query.related_agents,
        "rc": query.related_activities,
        "since": query.since.isoformat() if query.since else None,
        "until": query.until.isoformat() if query.until else None,
        "limit": query.limit,
        "asc": query.ascending,
        "after": [query.after[0].isoformat(), query.after[1]],
        "horizon": query.horizon.isoformat(),
    }
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode("ascii").rstrip("=")


def decode_cursor(token: str) -> StatementQuery:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = orjson.loads(raw)
        after = payload["after"]
        return StatementQuery(
            **{name: payload[name] for name in _CURSOR_FIELDS},
            person_keys=tuple(str(key) for key in payload.get("person_keys", [])),
            related_agents=bool(payload["ra"]),
            related_activities=bool(payload["rc"]),
            since=_parse_iso(payload["since"]),
            until=_parse_iso(payload["until"]),
            limit=int(payload["limit"]),
            ascending=bool(payload["asc"]),
            after=(datetime.fromisoformat(after[0]), int(after[1])),
            horizon=datetime.fromisoformat(payload["horizon"]),
        )
    except (ValueError, KeyError, TypeError, IndexError, binascii.Error, orjson.JSONDecodeError):
        raise BadRequestError(
            "the 'more' token is not one this LRS issued; start the query again"
        ) from None


def _parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- attachments, activities ------------------------------------------------------------------


def attachments_for(
    session: Session, org_id: int, statements: Sequence[dict[str, Any]]
) -> list[tuple[str, str, bytes]]:
    """(sha2, contentType, bytes) of every stored attachment the statements mention."""
    wanted: list[str] = []
    for st in statements:
        for holder in (st, st.get("object") if isinstance(st.get("object"), dict) else None):
            for att in (holder or {}).get("attachments", []) or []:
                sha2 = att.get("sha2")
                if sha2 and sha2 not in wanted:
                    wanted.append(sha2)
    if not wanted:
        return []
    rows = session.execute(
        select(Attachment.sha2, Attachment.content_type, Attachment.content).where(
            Attachment.org_id == org_id, Attachment.sha2.in_(wanted)
        )
    )
    found = {sha2: (sha2, ctype, content) for sha2, ctype, content in rows}
    return [found[s] for s in wanted if s in found]


def get_activity(session: Session, org_id: int, activity_id: str) -> dict[str, Any]:
    """The Activity object with the latest known definition (just the id if none is known)."""
    definition = session.scalar(
        select(Activity.definition).where(
            and_(Activity.org_id == org_id, Activity.key == index_key(activity_id))
        )
    )
    activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if definition:
        activity["definition"] = definition
    return activity
