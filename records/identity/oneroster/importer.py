"""import_roster: read, check everything, then write (all or nothing)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from records.identity.oneroster.errors import Problems
from records.identity.oneroster.plan import check_roster
from records.identity.oneroster.report import ImportReport
from records.identity.oneroster.roster import read_roster
from records.identity.oneroster.write_enrollments import (
    Listed,
    write_enrollments,
    write_memberships,
    write_removals,
)
from records.identity.oneroster.write_orgs import (
    Ids,
    write_classes,
    write_courses,
    write_orgs,
    write_sessions,
)
from records.identity.oneroster.write_people import UserOrgs, write_people

Progress = Callable[[int, int], None]


def import_roster(
    session: Session,
    data: bytes,
    *,
    service_url: str,
    today: date,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a OneRoster 1.2 CSV package (bulk or delta zip, Japan Profile columns).

    Every row is checked first, against the package and the database; any problem raises
    RosterRejectedError listing them all, and nothing is written. Then the changes are written
    and flushed; the caller commits (or rolls back). `service_url` ends with "/" and must not
    change between imports: the identifiers' homePages are built from it. `today` dates the
    ends of what the roster no longer lists. `progress(done, total)` is called now and then.
    """
    problems = Problems()
    roster = read_roster(data, problems)
    total = 2 * roster.row_count + 1
    tick = progress or (lambda done, total: None)
    tick(0, total)
    with session.no_autoflush:
        plan = check_roster(session, roster, service_url, today, problems)
    problems.raise_if_any()
    done = roster.row_count
    tick(done, total)

    report = ImportReport(modes={t.file: t.mode for t in roster.tables.values()})

    def step(name: str) -> None:
        nonlocal done
        done += len(roster.tables[name].rows) if name in roster.tables else 0
        tick(done, total)

    now = datetime.now(UTC)
    ids = Ids(plan)
    if roster.has("orgs"):
        write_orgs(session, plan, report)
    step("orgs")
    if roster.has("academicSessions"):
        write_sessions(session, plan, ids, report)
    step("academicSessions")
    if roster.has("courses"):
        write_courses(session, plan, ids, report)
    step("courses")
    if roster.has("classes"):
        write_classes(session, plan, ids, report)
    step("classes")
    orgs = UserOrgs(plan, ids)
    people = write_people(session, plan, orgs, report, now)
    step("users")
    memberships = write_memberships(session, plan, ids, people, report)
    step("roles")
    enrollments = write_enrollments(session, plan, ids, people, report)
    step("enrollments")
    write_removals(session, plan, ids, Listed(memberships, enrollments), report, now)
    if roster.has("demographics"):
        report.counts("demographics.csv").unchanged = len(roster.tables["demographics"].rows)
    step("demographics")
    session.flush()
    tick(total, total)
    return report
