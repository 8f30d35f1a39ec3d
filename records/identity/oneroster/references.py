"""Referential integrity: every sourcedId a row names exists, in this package or (for files that
are delta or absent) already in the database; the org tree has no cycles; official codes are
not someone else's.

A reference to a row of a *bulk* file must be in that file (a bulk file lists every row of its
kind), except an org's parent, which may be an org imported before (a prefecture, say). A row
may not refer to a row this package deletes, unless it is being deleted itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from records.identity.oneroster.errors import Problems
from records.identity.oneroster.orgs import OrgRow
from records.identity.oneroster.roster import Roster
from records.identity.oneroster.world import World
from records.organisations import parent_problem

_MAX_DEPTH: Final = 64


class Target:
    """The rows of one kind a reference may point to."""

    def __init__(
        self,
        name: str,
        rows: Sequence[Any],
        bulk: bool,
        in_db: Callable[[str], bool],
        unreadable: bool = False,
    ) -> None:
        self.name, self.bulk, self.in_db, self.unreadable = name, bulk, in_db, unreadable
        self.active: dict[str, Any] = {}
        self.deleted: dict[str, int] = {}
        for row in rows:
            if row.deleted:
                self.deleted.setdefault(row.sourced_id, row.line)
            else:
                self.active.setdefault(row.sourced_id, row)

    def problem(self, sourced_id: str, *, allow_db: bool = False) -> str | None:
        """Why `sourced_id` cannot be referred to, or None when it can (or cannot be told)."""
        if sourced_id in self.active or self.unreadable:
            return None
        if sourced_id in self.deleted:
            return (
                f"{sourced_id!r} is deleted by {self.name}.csv line {self.deleted[sourced_id]} "
                "(status tobedeleted)"
            )
        if self.bulk and not allow_db:
            return f"no row of {self.name}.csv (a bulk file) has sourcedId {sourced_id!r}"
        if self.in_db(sourced_id):
            return None
        return f"{sourced_id!r} is not in {self.name}.csv nor imported before"


class References:
    def __init__(
        self, roster: Roster, world: World, user_in_db: Callable[[str], bool], problems: Problems
    ) -> None:
        self.roster, self.world, self.problems = roster, world, problems

        def target(name: str, rows: Sequence[Any], in_db: Callable[[str], bool]) -> Target:
            return Target(name, rows, roster.bulk(name), in_db, name in roster.unreadable)

        self.orgs = target("orgs", roster.orgs, world.org_by_sid.__contains__)
        self.sessions = target("academicSessions", roster.sessions, world.sessions.__contains__)
        self.courses = target("courses", roster.courses, world.courses.__contains__)
        self.classes = target("classes", roster.classes, world.classes.__contains__)
        self.users = target("users", roster.users, user_in_db)

    def need(
        self,
        target: Target,
        file: str,
        row: Any,
        column: str,
        sourced_id: str,
        *,
        allow_db: bool = False,
    ) -> bool:
        if not sourced_id:
            return False
        why = target.problem(sourced_id, allow_db=allow_db)
        if why is not None:
            self.problems.add(file, row.line, column, why)
            return False
        return True

    def check_all(self) -> None:
        r = self.roster
        for org in r.orgs:
            if (
                org.parent
                and not org.deleted
                and self.need(
                    self.orgs, "orgs.csv", org, "parentSourcedId", org.parent, allow_db=True
                )
            ):
                self._parent_kind(org)
        self._org_cycles()
        self._org_codes()
        for s in r.sessions:
            if not s.deleted:
                self.need(self.sessions, "academicSessions.csv", s, "parentSourcedId", s.parent)
        for c in (c for c in r.courses if not c.deleted):
            self.need(self.orgs, "courses.csv", c, "orgSourcedId", c.org)
            self.need(self.sessions, "courses.csv", c, "schoolYearSourcedId", c.school_year)
        for k in (k for k in r.classes if not k.deleted):
            self.need(self.courses, "classes.csv", k, "courseSourcedId", k.course)
            self.need(self.orgs, "classes.csv", k, "schoolSourcedId", k.school)
            for term in k.terms:
                self.need(self.sessions, "classes.csv", k, "termSourcedIds", term)
        for u in (u for u in r.users if not u.deleted):
            self.need(self.orgs, "users.csv", u, "primaryOrgSourcedId", u.primary_org)
            for org_id in u.orgs:
                self.need(self.orgs, "users.csv", u, "orgSourcedIds", org_id)
            self.need(self.classes, "users.csv", u, "metadata.jp.homeClass", u.home_class)
        for e in (e for e in r.enrollments if not e.deleted):
            self.need(self.users, "enrollments.csv", e, "userSourcedId", e.user)
            if self.need(self.orgs, "enrollments.csv", e, "schoolSourcedId", e.school) and (
                self.need(self.classes, "enrollments.csv", e, "classSourcedId", e.class_ref)
            ):
                self._same_school(e)
        for o in (o for o in r.roles if not o.deleted):
            self.need(self.users, "roles.csv", o, "userSourcedId", o.user)
            self.need(self.orgs, "roles.csv", o, "orgSourcedId", o.org)

    def _parent_kind(self, org: OrgRow) -> None:
        row = self.orgs.active.get(org.parent)
        stored = self.world.org_by_sid.get(org.parent)
        if row is not None:
            kind, code = row.kind, row.code
        elif stored is not None:
            kind, code = stored.kind, stored.code
        else:
            return
        why = parent_problem(org.kind, org.code, kind, code)
        if why is not None:
            self.problems.add("orgs.csv", org.line, "parentSourcedId", why)

    def _same_school(self, e: Any) -> None:
        in_file = self.classes.active.get(e.class_ref)
        if in_file is not None:
            if in_file.school and in_file.school != e.school:
                self.problems.add(
                    "enrollments.csv",
                    e.line,
                    "schoolSourcedId",
                    f"class {e.class_ref!r} belongs to school {in_file.school!r} (classes.csv "
                    f"line {in_file.line}), not {e.school!r}",
                )
            return
        schools = [self.world.org_sid(k.org_id) for k in self.world.classes.get(e.class_ref, [])]
        if schools and e.school not in schools:
            self.problems.add(
                "enrollments.csv",
                e.line,
                "schoolSourcedId",
                f"class {e.class_ref!r} belongs to school {schools[0]!r}, not {e.school!r}",
            )

    def parent_of(self, sourced_id: str) -> str:
        """The parent org's sourcedId, as the roster (else the database) says."""
        row = self.orgs.active.get(sourced_id)
        if row is not None and row.parent:
            return str(row.parent)
        org = self.world.org_by_sid.get(sourced_id)
        if org is None or org.parent_id is None:
            return ""
        return self.world.org_sid(org.parent_id)

    def _org_cycles(self) -> None:
        """Each org that is its own ancestor is reported (its descendants are not)."""
        for org in self.orgs.active.values():
            seen = [org.sourced_id]
            parent = org.parent
            while parent and parent not in seen and len(seen) <= _MAX_DEPTH:
                seen.append(parent)
                parent = self.parent_of(parent)
            if parent == org.sourced_id:
                loop = " -> ".join([*seen, parent])
                self.problems.add(
                    "orgs.csv", org.line, "parentSourcedId", f"the org tree loops: {loop}"
                )

    def _org_codes(self) -> None:
        for org in self.orgs.active.values():
            if not org.code:
                continue
            owner = self.world.org_by_code.get(org.code)
            mine = self.world.org_by_sid.get(org.sourced_id)
            if owner is None or owner is mine:
                continue
            if owner.sourced_id is None and mine is None:
                continue  # an org created by hand with this code: the roster adopts it
            self.problems.add(
                "orgs.csv",
                org.line,
                "identifier",
                f"org code {org.code!r} already belongs to another organisation, {owner.name!r}"
                + (f" (sourcedId {owner.sourced_id!r})" if owner.sourced_id else ""),
            )
