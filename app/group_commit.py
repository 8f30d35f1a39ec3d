"""Group commit: statement writes from concurrent requests share one transaction.

Devices send single statements all at once when a lesson ends. Each request still waits until
its statements are committed (nothing is acknowledged before), but a writer thread per process
takes every write waiting and stores them with one
`save_statements` call per credential and one commit. If anything in a group fails, the group
is rolled back and each request is written on its own, so one client's conflict never becomes
another's error. Started lazily in each worker process (never at import time, never before a
fork). ASHIATO_GROUP_COMMIT=false writes each request in its own transaction instead.

A request announces its write before it parses the body (`expect_write`). When the writer finds
fewer writes queued than announced, it waits for the rest, up to GROUP_COMMIT_WAIT_MS: a
single-statement request costs far less to parse than to write on its own, so under load the
wait buys groups of several writes, and an idle server never waits (nothing is announced).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
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


class PendingWrite:
    """A write announced to the committer: `save` it once, or leave the block without it."""

    def __init__(self, committer: GroupCommitter | None) -> None:
        self._committer = committer
        self.open = committer is not None

    def save(
        self,
        writer: Writer,
        statements: Sequence[Statement],
        parts: Sequence[AttachmentPart] = (),
        forced_id: str | None = None,
    ) -> list[str]:
        """Store the statements (committed when this returns) and return their ids; raises
        what `save_statements` raises for this request's statements."""
        if self._committer is None:
            with new_session() as session:
                ids = save_statements(session, statements, writer, parts, forced_id)
                session.commit()
            return ids
        write = _Write(writer, statements, parts, forced_id)
        self._committer.put(write, announced=self.open)
        self.open = False
        return write.done.result()


class GroupCommitter:
    def __init__(self, app: Flask, max_statements: int = 2000, wait_ms: float = 2.0) -> None:
        self._app = app
        self._max_statements = max_statements
        self._wait = wait_ms / 1000
        self._ready = threading.Condition()
        self._queue: deque[_Write] = deque()
        self._coming = 0  # writes announced and not queued yet
        self._thread: threading.Thread | None = None

    @contextmanager
    def expect(self) -> Iterator[PendingWrite]:
        with self._ready:
            self._coming += 1
        pending = PendingWrite(self)
        try:
            yield pending
        finally:
            if pending.open:  # left without writing (a bad request): nothing more is coming
                with self._ready:
                    self._coming -= 1
                    self._ready.notify()

    def put(self, write: _Write, announced: bool) -> None:
        with self._ready:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="ashiato-group-commit", daemon=True
                )
                self._thread.start()
            if announced:
                self._coming -= 1
            self._queue.append(write)
            self._ready.notify()

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
        """The next write and every write already queued, after waiting (briefly) for writes
        announced and still being parsed."""
        with self._ready:
            while not self._queue:
                self._ready.wait()
            deadline = time.monotonic() + self._wait
            while self._coming and len(self._queue) < self._max_statements:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._ready.wait(left)
            group = [self._queue.popleft()]
            count = len(group[0].statements)
            while self._queue and count < self._max_statements:
                write = self._queue.popleft()
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
        app.extensions[_EXTENSION] = GroupCommitter(
            app, wait_ms=float(app.config.get("GROUP_COMMIT_WAIT_MS", 2.0))
        )


@contextmanager
def expect_write() -> Iterator[PendingWrite]:
    """Announce a statement write, then `save` it in the block: stored and committed, grouped
    with concurrent writes where enabled."""
    committer: GroupCommitter | None = current_app.extensions.get(_EXTENSION)
    if committer is None:
        yield PendingWrite(None)
        return
    with committer.expect() as pending:
        yield pending
