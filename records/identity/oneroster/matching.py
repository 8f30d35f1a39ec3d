"""Who each user row is: the identity rules.

A user row is matched to a known person by its sourcedId link, else its userMasterIdentifier
link, else its IdP userIds links. Rows of one package that share any of these are one person
(a pupil who transfers: new school, new sourcedId, same userMasterIdentifier). Identifiers that
point to two different people are an error: merge those people first. Usernames and e-mail
addresses are linked too, but never used to match; one already linked to someone else is an
error as well, since an identifier names exactly one person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from records.identity.oneroster.errors import Problems
from records.identity.oneroster.identifiers import Identifier, user_identifiers
from records.identity.oneroster.roster import Roster
from records.identity.oneroster.rows import UserRow
from records.identity.oneroster.world import World

# OneRoster role -> Person.kind
KIND_OF_ROLE: Final[Mapping[str, str]] = {
    "student": "student",
    "teacher": "teacher",
    "guardian": "guardian",
    "parent": "guardian",
    "relative": "guardian",
}


def kind_of_role(role: str) -> str:
    return KIND_OF_ROLE.get(role, "staff")


@dataclass(slots=True)
class Group:
    """The active user rows of one person, in file order, and what is known of them."""

    rows: list[UserRow]
    person_id: int | None = None
    identifiers: list[tuple[Identifier, UserRow]] = field(default_factory=list)
    kind: str = ""

    @property
    def last(self) -> UserRow:
        """The row whose names, grade and kind the person takes (the last one in the file)."""
        return self.rows[-1]


@dataclass(slots=True)
class People:
    groups: list[Group] = field(default_factory=list)
    by_sourced_id: dict[str, Group] = field(default_factory=dict)


Identified = Mapping[int, tuple[list[Identifier], list[tuple[str, str]]]]


def identify_rows(roster: Roster, service_url: str) -> Identified:
    """Every user row's identifiers, and its unusable ones, by line."""
    return {row.line: user_identifiers(row, service_url) for row in roster.users}


def match_people(
    roster: Roster, world: World, identified: Identified, problems: Problems
) -> People:
    rows = [row for row in roster.users if not row.deleted]
    for row in rows:
        for column, message in identified[row.line][1]:
            problems.add("users.csv", row.line, column, message)
    identifiers = {line: found for line, (found, _) in identified.items()}
    leader = list(range(len(rows)))

    def find(i: int) -> int:
        while leader[i] != i:
            leader[i] = leader[leader[i]]
            i = leader[i]
        return i

    first_with_key: dict[str, int] = {}
    for i, row in enumerate(rows):
        for ident in identifiers[row.line]:
            if ident.matches:
                j = first_with_key.setdefault(ident.key, i)
                leader[find(i)] = find(j)
    members: dict[int, list[int]] = {}
    for i in range(len(rows)):
        members.setdefault(find(i), []).append(i)
    people = People()
    for indexes in members.values():
        group = Group([rows[i] for i in indexes])
        group.identifiers = [(ident, row) for row in group.rows for ident in identifiers[row.line]]
        group.person_id = _matched_person(group, world, problems)
        people.groups.append(group)
        for row in group.rows:
            people.by_sourced_id[row.sourced_id] = group
    _check_aliases(people, world, problems)
    return people


def _public(world: World, person_id: int) -> str:
    person = world.persons.get(person_id)
    return person.public_id if person is not None else f"#{person_id}"


def _matched_person(group: Group, world: World, problems: Problems) -> int | None:
    found: dict[int, tuple[Identifier, UserRow]] = {}
    for ident, row in group.identifiers:
        person_id = world.link_person.get(ident.key) if ident.matches else None
        if person_id is not None:
            found.setdefault(person_id, (ident, row))
    if len(found) <= 1:
        return next(iter(found), None)
    (first_id, (first, first_row)), *others = found.items()
    for other_id, (other, row) in others:
        where = "" if row is first_row else f" (line {first_row.line})"
        problems.add(
            "users.csv",
            row.line,
            other.column,
            f"{other.shown} belongs to person {_public(world, other_id)} but {first.shown}{where}"
            f" to person {_public(world, first_id)}: merge these people first",
        )
    return first_id


def _check_aliases(people: People, world: World, problems: Problems) -> None:
    """Usernames and e-mail addresses: linked to the matched person, nobody else."""
    used: dict[str, tuple[Group, UserRow]] = {}
    for group in people.groups:
        for ident, row in group.identifiers:
            if ident.matches:
                continue
            owner = world.link_person.get(ident.key)
            if owner is not None and owner != group.person_id:
                problems.add(
                    "users.csv",
                    row.line,
                    ident.column,
                    f"{ident.shown} already identifies another person, "
                    f"{_public(world, owner)}; an identifier names one person (correct it, or "
                    "merge the two people first)",
                )
            other = used.setdefault(ident.key, (group, row))
            if other[0] is not group:
                problems.add(
                    "users.csv",
                    row.line,
                    ident.column,
                    f"{ident.shown} is also given on line {other[1].line}, for another person",
                )


def _secondary(role: tuple[bool, str]) -> bool:
    return role[0]


def assign_kinds(people: People, roster: Roster, world: World, problems: Problems) -> None:
    """Person.kind from the user's roles: roles.csv (primary first), the OneRoster 1.1 `role`
    column, the person as known, then enrollments; the person's last row first. A new person
    with none of these is an error."""
    roles: dict[str, list[tuple[bool, str]]] = {}
    for role in roster.roles:
        if not role.deleted and role.role:
            roles.setdefault(role.user, []).append((role.role_type != "primary", role.role))
    enrolled: dict[str, str] = {}
    for enrollment in roster.enrollments:
        if not enrollment.deleted and enrollment.role:
            enrolled.setdefault(enrollment.user, enrollment.role)
    for group in people.groups:
        newest_first = list(reversed(group.rows))
        found = [
            *(
                min(roles[r.sourced_id], key=_secondary)[1]
                for r in newest_first
                if r.sourced_id in roles
            ),
            *(r.role for r in newest_first if r.role),
        ]
        known = world.persons.get(group.person_id) if group.person_id is not None else None
        if found:
            group.kind = kind_of_role(found[0])
        elif known is not None:
            group.kind = known.kind
        elif any(r.sourced_id in enrolled for r in newest_first):
            group.kind = kind_of_role(
                next(enrolled[r.sourced_id] for r in newest_first if r.sourced_id in enrolled)
            )
        else:
            row = group.last
            problems.add(
                "users.csv",
                row.line,
                "sourcedId",
                f"user {row.sourced_id!r} has no role: give them a row in roles.csv",
            )
