"""Persistence of identity: people and their names, academic sessions, classes, enrollments,
actor links, sign-in accounts with role grants and API tokens, merges and security events.

Organisations live in records.models (the LRS needs them first); `OrgTree` columns added there.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from records.db import Base, JSONDocument

TZDateTime = DateTime(timezone=True)


class Person(Base):
    """A pupil, teacher or staff member: one row however many identifiers they have."""

    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    # The pseudonymous id we issue: the `name` of the person's xAPI account. Never a name,
    # number or e-mail.
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # student | teacher | staff | guardian
    family_name: Mapped[str] = mapped_column(String(255), default="")
    given_name: Mapped[str] = mapped_column(String(255), default="")
    middle_name: Mapped[str] = mapped_column(String(255), default="")
    kana_family_name: Mapped[str] = mapped_column(String(255), default="")
    kana_given_name: Mapped[str] = mapped_column(String(255), default="")
    kana_middle_name: Mapped[str] = mapped_column(String(255), default="")
    grade: Mapped[str | None] = mapped_column(String(3))
    # OneRoster Japan Profile details kept as sent (homeClass, ShussekiNo, PublicFlg, ...).
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime)


class ActorLink(Base):
    """One identifier of a person, as an xAPI agent key (records.xapi.agent_key).

    Every identifier devices and tools really send is a row here: the person's own account, the
    school mbox, IdP user ids, usernames, userMasterIdentifier, LMS `sub` values. Statements are
    never rewritten; "whose is this statement" is answered through these rows at read time.
    """

    __tablename__ = "actor_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    agent_key: Mapped[str] = mapped_column(String(300), unique=True)
    agent: Mapped[dict[str, Any]] = mapped_column(JSONDocument)  # the identifying Agent JSON
    source: Mapped[str] = mapped_column(String(64))  # own | oneroster | lti | merge | manual
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime)


class AcademicSession(Base):
    """A school year (年度), term or semester of an organisation."""

    __tablename__ = "academic_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    sourced_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255))
    session_type: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    school_year: Mapped[int]
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("academic_sessions.id"))

    __table_args__ = (UniqueConstraint("org_id", "sourced_id"),)


class Course(Base):
    __tablename__ = "courses"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    sourced_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255))
    course_code: Mapped[str] = mapped_column(String(255), default="")
    subjects: Mapped[str] = mapped_column(String(255), default="")

    __table_args__ = (UniqueConstraint("org_id", "sourced_id"),)


class SchoolClass(Base):
    """A class (学級 homeroom or a scheduled class) of a school."""

    __tablename__ = "classes"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    sourced_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255))
    class_code: Mapped[str] = mapped_column(String(255), default="")
    class_type: Mapped[str] = mapped_column(String(32), default="homeroom")
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    grades: Mapped[str] = mapped_column(String(64), default="")
    subjects: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (UniqueConstraint("org_id", "sourced_id"),)


class ClassTerm(Base):
    """Which academic sessions a class runs in."""

    __tablename__ = "class_terms"
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("academic_sessions.id"), primary_key=True)


class Enrollment(Base):
    """A person in a class in a role, between two dates. A transfer ends one and begins another."""

    __tablename__ = "enrollments"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    sourced_id: Mapped[str] = mapped_column(String(255))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id"))
    role: Mapped[str] = mapped_column(String(32))  # student | teacher | administrator | aide ...
    primary: Mapped[bool] = mapped_column(Boolean, default=False)
    begin_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        UniqueConstraint("org_id", "sourced_id"),
        Index("ix_enrollments_person", "person_id", "role"),
        Index("ix_enrollments_class", "class_id", "role"),
    )


class OrgMembership(Base):
    """A person's place in an organisation (OneRoster orgSourcedIds / roles.csv)."""

    __tablename__ = "org_memberships"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    begin_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("person_id", "org_id", "role"),)


class Account(Base):
    """A sign-in account. E-mail is the login name only, never an identifier of the person."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    locale: Mapped[str] = mapped_column(String(8), default="ja")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class RoleGrant(Base):
    """What an account may do, and where: pupil, teacher, school_admin, board_analyst,
    system_admin, each in one organisation (a board analyst's region is their org subtree)."""

    __tablename__ = "role_grants"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))

    __table_args__ = (UniqueConstraint("account_id", "role", "org_id"),)


class ApiToken(Base):
    """A personal API token (Authorization: Bearer), stored as a keyed hash like LRS secrets."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class PersonMerge(Base):
    """An admin merged a duplicate person into another; undoing it moves the links back."""

    __tablename__ = "person_merges"
    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    merged_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    moved: Mapped[dict[str, Any]] = mapped_column(JSONDocument)  # ids of moved rows by table
    by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime] = mapped_column(TZDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    undone_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class SecurityEvent(Base):
    """Sign-in, sign-out, failed sign-in, token use: who, what, when, from where."""

    __tablename__ = "security_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(TZDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    login_name: Mapped[str] = mapped_column(String(255), default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class AccessLogEntry(Base):
    """One read, export or change of a person's data: who, whose, what, why, when, from where.

    Written in the same transaction as the read it records (records.audit.record_access).
    """

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(TZDateTime)
    subject_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_credential_id: Mapped[int | None] = mapped_column(ForeignKey("credentials.id"))
    actor_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    resource: Mapped[str] = mapped_column(String(255))
    count: Mapped[int] = mapped_column(default=1)
    purpose: Mapped[str] = mapped_column(String(32))
    # Tamper evidence (records.audit): rows of one person form a chain, numbered from 1; each
    # row's HMAC covers its fields and the previous row's, so an edited, inserted or deleted
    # row breaks the chain (AccessLogHead holds the end, so a cut-off tail shows too).
    position: Mapped[int] = mapped_column(default=0)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")

    __table_args__ = (
        Index("ix_access_log_subject", "subject_person_id", "at"),
        UniqueConstraint("subject_person_id", "position"),
    )


class AccessLogHead(Base):
    """The end of one person's access-log chain: its length and last hash."""

    __tablename__ = "access_log_heads"
    subject_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    length: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class Guardianship(Base):
    """A guardian (保護者) of a pupil: sees the pupil's access log and consents on their behalf."""

    __tablename__ = "guardianships"
    id: Mapped[int] = mapped_column(primary_key=True)
    guardian_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    pupil_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    begin_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("guardian_person_id", "pupil_person_id"),)
