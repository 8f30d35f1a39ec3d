"""How a write's rows reach the database: statement rows, their index rows, and what the writer
must know back (the rows' seq, stored statements that point at the new ones, the activity
definitions on record).

PostgreSQL gets all of it in one statement; SQLite (the embedded default, one writer at a time)
in several. On a single-statement write, round trips are most of the writer's time (each costs
about 0.2 ms of client and server CPU), and one writer thread per process serialises them, so
fewer of them is more statements a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from records.credentials import check_active, refuse_inactive
from records.jsontext import dump_json
from records.models import Activity, StatementIndex, StoredStatement

_STATEMENTS = cast(Table, StoredStatement.__table__)
_INDEX = cast(Table, StatementIndex.__table__)
_ACTIVITIES = cast(Table, Activity.__table__)

# An index row: the statement id it belongs to, the kind and the key (see StatementIndex).
Term = tuple[str, str, str]


@dataclass
class RowsWritten:
    """What the database said back to a write."""

    inserted: dict[str, int]  # statement id -> seq, of the rows this write inserted
    # (seq, ref_id, is_voiding) of statements stored before this write that point at its ids
    referrers: list[tuple[int, str, bool]] = field(default_factory=list)
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> definition


def write_rows(
    session: Session,
    rows: Sequence[dict[str, Any]],
    terms: Sequence[Term],
    activity_keys: Sequence[str],
) -> RowsWritten:
    """Insert statement rows (skipping ids stored meanwhile) with their index rows, checking
    the writing credential is still active (AuthenticationError otherwise) in the same
    transaction. Every row has the same org, credential and stored time."""
    if session.get_bind().dialect.name == "postgresql":
        return _write_postgresql(session.connection(), rows, terms, activity_keys)
    if rows[0]["credential_id"] is not None:
        check_active(session, rows[0]["credential_id"])
    return _write_sqlite(session.connection(), rows, terms, activity_keys)


# --- PostgreSQL: one statement ---------------------------------------------------------------

# The rows go as arrays, one per column: one short statement whatever the number of rows, so
# psycopg converts its text once and the server plans it once (a multi-row VALUES list is a new,
# long text for every write). The index rows join the rows actually inserted, so an id stored
# meanwhile by another writer gets none. The referrer and activity lookups read the snapshot
# from before the insert: a statement of this write pointing at another of this write is the
# caller's to link, not found here a second time.
_WRITE = text(
    "WITH cred AS (SELECT revoked_at FROM credentials WHERE id = CAST(:credential_id AS BIGINT)), "
    "ins AS ("
    'INSERT INTO statements (org_id, statement_id, credential_id, stored, "timestamp", verb_id, '
    'ref_id, voided, is_voiding, "full") '
    "SELECT :org_id, s.statement_id, CAST(:credential_id AS BIGINT), :stored, s.moment, "
    "s.verb_id, s.ref_id, false, s.is_voiding, d.document "
    "FROM unnest(CAST(:statement_ids AS VARCHAR[]), CAST(:timestamps AS TIMESTAMPTZ[]), "
    "CAST(:verb_ids AS VARCHAR[]), CAST(:ref_ids AS VARCHAR[]), CAST(:is_voiding AS BOOLEAN[])) "
    "WITH ORDINALITY AS s(statement_id, moment, verb_id, ref_id, is_voiding, n) "
    # The documents as one JSON array: one text to send, nothing to escape.
    "JOIN jsonb_array_elements(CAST(:documents AS JSONB)) WITH ORDINALITY AS d(document, n) "
    "USING (n) "
    "ON CONFLICT (org_id, statement_id) DO NOTHING RETURNING statement_id, seq), "
    "idx AS ("
    "INSERT INTO statement_index (org_id, seq, kind, key, stored) "
    "SELECT :org_id, ins.seq, term.kind, term.key, :stored "
    "FROM unnest(CAST(:term_ids AS VARCHAR[]), CAST(:kinds AS VARCHAR[]), "
    "CAST(:keys AS VARCHAR[])) AS term(statement_id, kind, key) "
    "JOIN ins USING (statement_id)) "
    "SELECT "
    "(SELECT json_agg(json_build_array(statement_id, seq)) FROM ins) AS inserted, "
    "(SELECT json_agg(json_build_array(r.seq, r.ref_id, r.is_voiding)) FROM statements r "
    " WHERE r.org_id = :org_id AND r.ref_id = ANY(CAST(:statement_ids AS VARCHAR[]))) "
    " AS referrers, "
    "(SELECT json_object_agg(a.key, a.definition) FROM activities a "
    " WHERE a.org_id = :org_id AND a.key = ANY(CAST(:activity_keys AS VARCHAR[]))) "
    " AS definitions, "
    "(SELECT count(*) FROM cred) AS found, "
    "(SELECT count(*) FROM cred WHERE revoked_at IS NOT NULL) AS revoked"
)


def _write_postgresql(
    conn: Connection,
    rows: Sequence[dict[str, Any]],
    terms: Sequence[Term],
    activity_keys: Sequence[str],
) -> RowsWritten:
    first = rows[0]
    credential_id = first["credential_id"]
    result = conn.execute(
        _WRITE,
        {
            "org_id": first["org_id"],
            "credential_id": credential_id,
            "stored": first["stored"],
            # lists: psycopg sends them as arrays
            "statement_ids": [row["statement_id"] for row in rows],
            "timestamps": [row["timestamp"] for row in rows],
            "verb_ids": [row["verb_id"] for row in rows],
            "ref_ids": [row["ref_id"] for row in rows],
            "is_voiding": [row["is_voiding"] for row in rows],
            "documents": (b"[" + b",".join(dump_json(row["full"]) for row in rows) + b"]").decode(),
            "term_ids": [sid for sid, _, _ in terms],
            "kinds": [kind for _, kind, _ in terms],
            "keys": [key for _, _, key in terms],
            "activity_keys": list(activity_keys),
        },
    ).one()
    if credential_id is not None:
        refuse_inactive(found=bool(result.found), revoked=bool(result.revoked))
    inserted = {sid: int(seq) for sid, seq in result.inserted or ()}
    return RowsWritten(
        inserted,
        [(int(seq), ref, bool(voiding)) for seq, ref, voiding in result.referrers or ()],
        dict(result.definitions or {}),
    )


# --- SQLite: one step at a time --------------------------------------------------------------

# An INSERT that skips ids stored meanwhile (the unique key decides, without an error).
_INSERT_NEW = (
    sqlite_insert(_STATEMENTS)
    .on_conflict_do_nothing(index_elements=["org_id", "statement_id"])
    .returning(_STATEMENTS.c.statement_id, _STATEMENTS.c.seq)
)
_INSERT_INDEX = insert(_INDEX)
_REFERRERS = select(_STATEMENTS.c.seq, _STATEMENTS.c.ref_id, _STATEMENTS.c.is_voiding).where(
    _STATEMENTS.c.org_id == bindparam("org_id"),
    _STATEMENTS.c.ref_id.in_(bindparam("ids", expanding=True)),
)
_KNOWN_ACTIVITIES = select(_ACTIVITIES.c.key, _ACTIVITIES.c.definition).where(
    _ACTIVITIES.c.org_id == bindparam("org_id"),
    _ACTIVITIES.c.key.in_(bindparam("keys", expanding=True)),
)
_CHUNK = 500  # ids per IN list: well under SQLite's limit on bound parameters


def _write_sqlite(
    conn: Connection,
    rows: Sequence[dict[str, Any]],
    terms: Sequence[Term],
    activity_keys: Sequence[str],
) -> RowsWritten:
    first = rows[0]
    org_id: int = first["org_id"]
    stored: datetime = first["stored"]
    ids = [row["statement_id"] for row in rows]
    # Referrers first: they must be the ones stored before this write (as on PostgreSQL).
    referrers = stored_referrers(conn, org_id, ids)
    inserted: dict[str, int] = dict(conn.execute(_INSERT_NEW, list(rows)).all())
    index_rows = [
        {"org_id": org_id, "seq": inserted[sid], "kind": kind, "key": key, "stored": stored}
        for sid, kind, key in terms
        if sid in inserted
    ]
    if index_rows:
        conn.execute(_INSERT_INDEX, index_rows)
    return RowsWritten(inserted, referrers, known_definitions(conn, org_id, activity_keys))


def stored_referrers(
    conn: Connection, org_id: int, ids: Sequence[str]
) -> list[tuple[int, str, bool]]:
    """(seq, ref_id, is_voiding) of the stored statements that point at any of `ids`."""
    return [
        (int(seq), str(ref), bool(voiding))
        for chunk in _chunks(ids)
        for seq, ref, voiding in conn.execute(_REFERRERS, {"org_id": org_id, "ids": chunk})
    ]


def known_definitions(
    conn: Connection, org_id: int, keys: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """key -> definition on record, of the activities among `keys`."""
    definitions: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(list(keys)):
        definitions.update(conn.execute(_KNOWN_ACTIVITIES, {"org_id": org_id, "keys": chunk}).all())
    return definitions


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[start : start + _CHUNK] for start in range(0, len(items), _CHUNK)]
