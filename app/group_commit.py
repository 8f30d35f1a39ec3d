"""Group commit: statement writes from concurrent requests share one transaction.

Devices send single statements all at once when a lesson ends. Each request still waits until
its statements are committed (nothing is acknowledged before), but a writer thread per process
takes every write waiting and stores them with one
`save_statements` call per credential and one commit. If anything in a group fails, the group
is rolled back and each request is written on its own, so one client's conflict never becomes
another's error. Started lazily in each worker process (never at import time, never before a
fork). ASHIATO_GROUP_COMMIT=false writes each request in its own transaction instead.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

from flask import Flask, current_app

from app.db import new_session
from records.store import AttachmentPart, Writer, save_statements
from records.xapi import Statement

log = logging.getLogger(__name__)
_EXTENSION = "ashiato.group_commit"


@dataclass
class _Write:
    writer: Writer
    statements: Sequence[Statement]
    parts: Sequence[AttachmentPart]
    forced_id: str | None
    done: Future[list[str]] = field(default_factory=Future)


class GroupCommitter:
    def __init__(self, app: Flask, max_statements: int = 2000) -> None:
        self._app = app
        self._max_statements = max_statements
        self._queue: queue.Queue[_Write] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def save(
        self,
        writer: Writer,
        statements: Sequence[Statement],
        parts: Sequence[AttachmentPart] = (),
        forced_id: str | None = None,
    ) -> list[str]:
        """Store the statements (committed when this returns) and return their ids; raises
        what `save_statements` raises for this request's statements."""
        write = _Write(writer, statements, parts, forced_id)
        self._start()
        self._queue.put(write)
        return write.done.result()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="ashiato-group-commit", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        with self._app.app_context():
            while True:
                group = self._collect()
                try:
                    self._write_group(group)
                except BaseException as exc:  # never let the writer die; tell the waiters
                    log.exception("group commit failed")
                    for write in group:
                        if not write.done.done():
                            write.done.set_exception(exc)

    def _collect(self) -> list[_Write]:
        """The next write and every write already waiting: no added delay when idle; under
        load, what arrives while one group is written forms the next group."""
        group = [self._queue.get()]
        count = len(group[0].statements)
        while count < self._max_statements:
            try:
                write = self._queue.get_nowait()
            except queue.Empty:
                break
            group.append(write)
            count += len(write.statements)
        return group

    def _write_group(self, group: list[_Write]) -> None:
        if len(group) > 1:
            try:
                results = self._together(group)
            except Exception:
                results = None
            if results is not None:
                for write, ids in zip(group, results, strict=True):
                    write.done.set_result(ids)
                return
        for write in group:
            self._alone(write)

    def _together(self, group: list[_Write]) -> list[list[str]]:
        by_writer: dict[tuple[int, int | None], list[int]] = defaultdict(list)
        for n, write in enumerate(group):
            by_writer[(write.writer.org_id, write.writer.credential_id)].append(n)
        results: list[list[str]] = [[] for _ in group]
        with new_session() as session:
            for members in by_writer.values():
                statements: list[Statement] = []
                parts: list[AttachmentPart] = []
                for n in members:
                    write = group[n]
                    if write.forced_id is not None:
                        if write.statements[0].id not in (None, write.forced_id):
                            raise ValueError("statementId mismatch: write it alone")
                        statements.append(replace(write.statements[0], id=write.forced_id))
                    else:
                        statements.extend(write.statements)
                    parts.extend(write.parts)
                ids = save_statements(session, statements, group[members[0]].writer, parts)
                start = 0
                for n in members:
                    size = len(group[n].statements)
                    results[n] = ids[start : start + size]
                    start += size
            session.commit()
        return results

    def _alone(self, write: _Write) -> None:
        try:
            with new_session() as session:
                ids = save_statements(
                    session, write.statements, write.writer, write.parts, write.forced_id
                )
                session.commit()
        except BaseException as exc:  # handed to the request thread, which raises it
            write.done.set_exception(exc)
            return
        write.done.set_result(ids)


def init_app(app: Flask) -> None:
    if app.config.get("GROUP_COMMIT", True):
        app.extensions[_EXTENSION] = GroupCommitter(app)


def save(
    writer: Writer,
    statements: Sequence[Statement],
    parts: Sequence[AttachmentPart] = (),
    forced_id: str | None = None,
) -> list[str]:
    """Store statements and commit: grouped with concurrent writes where enabled."""
    committer: GroupCommitter | None = current_app.extensions.get(_EXTENSION)
    if committer is not None:
        return committer.save(writer, statements, parts, forced_id)
    with new_session() as session:
        ids = save_statements(session, statements, writer, parts, forced_id)
        session.commit()
    return ids
