"""Writing the portfolio: pupils' own entries and teachers' class logs, feedback and
achievement marks, each as xAPI statements through the LRS writer (records.store), so one
store holds everything (DESIGN "Portfolio"). Authority is the portfolio app; the actor is
the signed-in person (or, for a class log, each pupil, with the teacher as instructor).

Statements are immutable: an edit voids the entry and writes its replacement (which names the
entry it revises), a withdrawal voids it. The history stays honest.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from records.errors import BadRequestError, ForbiddenError, NotFoundError
from records.identity.access import can_read_person, readable_classes
from records.identity.accounts import AccountInfo
from records.identity.models import Enrollment, OrgMembership, Person, SchoolClass
from records.identity.people import find_person, own_agent, person_agent_keys
from records.keys import index_key
from records.models import Attachment, StoredStatement
from records.portfolio import vocabulary as v
from records.portfolio.access import record_seen, record_seen_many
from records.portfolio.labels import categories
from records.store import AttachmentPart, Writer, save_statements
from records.xapi import agent_key, parse_statement

JST = timezone(timedelta(hours=9))
MAX_TITLE = 200
MAX_TEXT = 4000
MAX_MINUTES = 24 * 60
MAX_ARTIFACT_BYTES = 10 * 1024 * 1024
MAX_ARTIFACTS = 5
# What a pupil may upload, recognised by the bytes themselves, not by what the browser says.
_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


@dataclass(frozen=True, slots=True)
class Artifact:
    content: bytes
    filename: str


@dataclass(frozen=True, slots=True)
class EntryInput:
    kind: str  # a key of vocabulary.ENTRY_KINDS
    title: str
    subject: str | None = None
    minutes: int | None = None
    text: str | None = None
    prompt: str | None = None  # a key of vocabulary.REFLECTION_PROMPTS
    happened_on: date | None = None
    artifacts: tuple[Artifact, ...] = field(default=())
    language: str = "ja"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with an entry: a code the web app words in the pupil's language, the
    values it needs, and the English wording the API uses."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return PROBLEM_MESSAGES[self.code].format(**self.params)


PROBLEM_MESSAGES = {
    "kind": "unknown kind of entry",
    "title_empty": "write what it was about (the title is empty)",
    "title_long": "the title is longer than {max} characters",
    "text_long": "the text is longer than {max} characters",
    "text_empty": "write your reflection (the text is empty)",
    "subject": "unknown subject",
    "prompt": "unknown reflection prompt",
    "minutes": "time spent must be between 1 and {max} minutes",
    "date": "write the date as YYYY-MM-DD",
    "future": "the date is in the future",
    "no_pupils": "choose at least one pupil",
    "no_file": "add a photo, drawing or PDF",
    "too_many_files": "at most {max} files per entry",
    "file_large": "{name} is larger than 10 MB",
    "file_type": "{name} is not a photo (JPEG, PNG, GIF, WebP) or a PDF",
}


def check_entry(entry: EntryInput, today: date) -> list[Problem]:
    """Every problem with an entry (empty when fine)."""
    problems = []
    if entry.kind not in v.ENTRY_KINDS:
        problems.append(Problem("kind"))
    if not entry.title.strip():
        problems.append(Problem("title_empty"))
    elif len(entry.title) > MAX_TITLE:
        problems.append(Problem("title_long", {"max": MAX_TITLE}))
    if entry.text is not None and len(entry.text) > MAX_TEXT:
        problems.append(Problem("text_long", {"max": MAX_TEXT}))
    if entry.kind == "reflection" and not (entry.text or "").strip():
        problems.append(Problem("text_empty"))
    if entry.subject is not None and entry.subject not in v.SUBJECTS:
        problems.append(Problem("subject"))
    if entry.prompt is not None and entry.prompt not in v.REFLECTION_PROMPTS:
        problems.append(Problem("prompt"))
    if entry.minutes is not None and not 0 < entry.minutes <= MAX_MINUTES:
        problems.append(Problem("minutes", {"max": MAX_MINUTES}))
    if entry.happened_on is not None and entry.happened_on > today:
        problems.append(Problem("future"))
    if entry.kind == "artifact" and not entry.artifacts:
        problems.append(Problem("no_file"))
    if len(entry.artifacts) > MAX_ARTIFACTS:
        problems.append(Problem("too_many_files", {"max": MAX_ARTIFACTS}))
    for artifact in entry.artifacts:
        if len(artifact.content) > MAX_ARTIFACT_BYTES:
            problems.append(Problem("file_large", {"name": artifact.filename}))
        elif sniff_type(artifact.content) is None:
            problems.append(Problem("file_type", {"name": artifact.filename}))
    return problems


class EntryProblemsError(BadRequestError):
    """An entry that cannot be saved; `problems` says why, item by item. -> 400"""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)


def sniff_type(content: bytes) -> str | None:
    for magic, content_type in _MAGIC:
        if content.startswith(magic):
            return content_type
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


# --- pupils' own entries ------------------------------------------------------------------------


def write_entry(
    session: Session, viewer: AccountInfo, entry: EntryInput, service_url: str, today: date
) -> str:
    """A pupil's own entry; returns the statement id."""
    person = _own_person(session, viewer)
    return _write_own(session, person, entry, service_url, today, revises=None)


def edit_entry(
    session: Session,
    viewer: AccountInfo,
    statement_id: str,
    entry: EntryInput,
    service_url: str,
    today: date,
) -> str:
    """Replace one of the pupil's own entries: the old one is voided, the new one says which
    entry it revises. Files of the old entry stay with the new one unless new ones are given."""
    person = _own_person(session, viewer)
    old = _own_entry(session, person, statement_id)
    if not entry.artifacts and old.full.get("attachments"):
        entry = _keep_artifacts(session, old, entry)
    new_id = _write_own(session, person, entry, service_url, today, revises=statement_id)
    _void(session, old, own_agent(person.public_id, service_url), service_url)
    return new_id


def withdraw_entry(
    session: Session, viewer: AccountInfo, statement_id: str, service_url: str
) -> None:
    person = _own_person(session, viewer)
    old = _own_entry(session, person, statement_id)
    _void(session, old, own_agent(person.public_id, service_url), service_url)


def own_entry_input(session: Session, viewer: AccountInfo, statement_id: str) -> EntryInput:
    """The entry as the pupil wrote it, to fill the edit form."""
    person = _own_person(session, viewer)
    st = _own_entry(session, person, statement_id).full
    ctx = st.get("context") or {}
    ext = ctx.get("extensions") or {}
    result = st.get("result") or {}
    names = st["object"].get("definition", {}).get("name", {})
    subjects = [c.rsplit("/", 1)[-1] for c in categories(st) if c.startswith(v.SUBJECT_PREFIX)]
    minutes = None
    duration = result.get("duration")
    if isinstance(duration, str) and duration.startswith("PT") and duration.endswith("M"):
        minutes = int(duration[2:-1]) if duration[2:-1].isdigit() else None
    stamp = datetime.fromisoformat(st["timestamp"]).astimezone(JST).date()
    return EntryInput(
        kind=str(ext.get(v.ENTRY_KIND_EXT)),
        title=next(iter(names.values()), ""),
        subject=subjects[0] if subjects else None,
        minutes=minutes,
        text=result.get("response"),
        prompt=ext.get(v.PROMPT_EXT),
        happened_on=stamp,
        language=next(iter(names), "ja"),
    )


# --- teachers -----------------------------------------------------------------------------------


def log_for_class(
    session: Session,
    viewer: AccountInfo,
    class_id: int,
    pupil_ids: Sequence[str] | None,
    entry: EntryInput,
    service_url: str,
    today: date,
) -> int:
    """One statement per pupil of the class (or of the chosen group): the pupil attended the
    activity, with the teacher as instructor. Returns how many pupils it was logged for."""
    teacher = _teacher(session, viewer)
    problems = check_entry(entry, today)
    if entry.kind != "activity":
        problems.append(Problem("kind"))
    if problems:
        raise EntryProblemsError(problems)
    if class_id not in set(session.scalars(readable_classes(viewer, today))):
        raise ForbiddenError("you may log activities only for classes you teach now")
    enrolled = current_pupils(session, class_id, today)
    if pupil_ids is None:
        chosen = list(enrolled.values())
    else:
        unknown = [p for p in pupil_ids if p not in enrolled]
        if unknown:
            raise BadRequestError(f"not pupils of this class now: {', '.join(unknown)}")
        chosen = [enrolled[p] for p in pupil_ids]
    if not chosen:
        raise BadRequestError("choose at least one pupil")
    org_id = _class_org(session, class_id)
    registration = str(uuid.uuid4())
    activity_id = f"{service_url}portfolio/class-activities/{uuid.uuid4()}"
    statements = []
    for pupil in chosen:
        data = _statement(
            actor=own_agent(pupil.public_id, service_url),
            verb=v.ADL + "attended",
            entry=entry,
            activity_id=activity_id,
            activity_type="http://adlnet.gov/expapi/activities/meeting",
            category=None,
            extensions={},
        )
        data["context"]["instructor"] = _named_agent(teacher, service_url)
        data["context"]["registration"] = registration
        statements.append(parse_statement(data))
    save_statements(session, statements, _writer(org_id, service_url))
    record_seen_many(session, viewer, [pupil.id for pupil in chosen], "class.log")
    return len(statements)


def give_feedback(
    session: Session,
    viewer: AccountInfo,
    pupil_public_id: str,
    statement_id: str,
    text: str | None,
    achievement: bool,
    service_url: str,
    today: date,
) -> str:
    """A teacher's comment on a pupil's entry, or the mark that it is an achievement."""
    teacher = _teacher(session, viewer)
    pupil = find_person(session, pupil_public_id)
    if pupil.id == teacher.id or not can_read_person(session, viewer, pupil.id, today):
        raise ForbiddenError("you may give feedback only to pupils you teach now")
    text = (text or "").strip() or None
    if text is None and not achievement:
        raise BadRequestError("write a comment (it is empty)")
    if text is not None and len(text) > MAX_TEXT:
        raise BadRequestError(f"the comment is longer than {MAX_TEXT} characters")
    target = statement_about(session, pupil, statement_id)
    data: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": _named_agent(teacher, service_url),
        "verb": {
            "id": v.VERB_RECOGNISED if achievement else v.VERB_COMMENTED,
            "display": {"ja": "成果にえらんだ", "en": "recognised as an achievement"}
            if achievement
            else {"ja": "コメントした", "en": "commented"},
        },
        "object": {"objectType": "StatementRef", "id": statement_id},
        # (no context.platform: xAPI allows it only when the object is an Activity)
        "context": {"contextActivities": {"category": [{"id": v.FEEDBACK_CATEGORY}]}},
        "timestamp": _now(),
    }
    if text is not None:
        data["result"] = {"response": text}
    statement = parse_statement(data)
    save_statements(session, [statement], _writer(target.org_id, service_url))
    record_seen(session, viewer, pupil.id, "portfolio.feedback")
    return str(data["id"])


# --- shared -------------------------------------------------------------------------------------


def _write_own(
    session: Session,
    person: Person,
    entry: EntryInput,
    service_url: str,
    today: date,
    revises: str | None,
) -> str:
    problems = check_entry(entry, today)
    if problems:
        raise EntryProblemsError(problems)
    extensions: dict[str, Any] = {v.ENTRY_KIND_EXT: entry.kind}
    if entry.prompt:
        extensions[v.PROMPT_EXT] = entry.prompt
    if revises:
        extensions[v.REVISES_EXT] = revises
    verb = {
        "activity": v.VERB_DID,
        "reflection": v.VERB_REFLECTED,
        "goal": v.VERB_SET_GOAL,
        "artifact": v.VERB_CREATED,
    }[entry.kind]
    data = _statement(
        actor=own_agent(person.public_id, service_url),
        verb=verb,
        entry=entry,
        activity_id=f"{service_url}portfolio/entries/{uuid.uuid4()}",
        activity_type=v.ACTIVITY_TYPE[entry.kind],
        category=v.ENTRY_CATEGORY,
        extensions=extensions,
    )
    parts: list[AttachmentPart] = []
    for artifact in entry.artifacts:
        content_type = sniff_type(artifact.content) or "application/octet-stream"
        sha2 = hashlib.sha256(artifact.content).hexdigest()
        data.setdefault("attachments", []).append(
            {
                "usageType": v.ARTIFACT_USAGE,
                "display": {entry.language: artifact.filename[:200] or "file"},
                "contentType": content_type,
                "length": len(artifact.content),
                "sha2": sha2,
            }
        )
        if sha2 not in {p.sha2 for p in parts}:
            parts.append(AttachmentPart(sha2, content_type, artifact.content))
    statement = parse_statement(data)
    org_id = home_org(session, person.id, today)
    save_statements(session, [statement], _writer(org_id, service_url), parts)
    return str(data["id"])


def _statement(
    *,
    actor: dict[str, Any],
    verb: str,
    entry: EntryInput,
    activity_id: str,
    activity_type: str,
    category: str | None,
    extensions: Mapping[str, Any],
) -> dict[str, Any]:
    phrase = v.VERB_PHRASES[verb]
    result: dict[str, Any] = {}
    if entry.text and entry.text.strip():
        result["response"] = entry.text.strip()
    if entry.minutes:
        result["duration"] = f"PT{entry.minutes}M"
    cats = [{"id": category}] if category else []
    if entry.subject:
        cats.append({"id": v.subject_iri(entry.subject)})
    context: dict[str, Any] = {"platform": "Ashiato", "language": entry.language}
    if cats:
        context["contextActivities"] = {"category": cats}
    if extensions:
        context["extensions"] = dict(extensions)
    data: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": {
            "id": verb,
            "display": {
                "ja": phrase.ja.replace("「{o}」", "").strip("をにでがは："),
                "en": phrase.en.replace("“{o}”", "").strip(" :"),
            },
        },
        "object": {
            "objectType": "Activity",
            "id": activity_id,
            "definition": {
                "type": activity_type,
                "name": {entry.language: entry.title.strip()},
            },
        },
        "context": context,
        "timestamp": _when(entry.happened_on),
    }
    if result:
        data["result"] = result
    return data


def _when(day: date | None) -> str:
    now = datetime.now(JST)
    if day is None or day == now.date():
        return _now()
    return datetime.combine(day, time(12, 0), JST).isoformat()


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _void(session: Session, old: StoredStatement, actor: dict[str, Any], service_url: str) -> None:
    voiding = parse_statement(
        {
            "id": str(uuid.uuid4()),
            "actor": actor,
            "verb": {"id": v.VERB_VOIDED, "display": {"en": "voided", "ja": "とりけした"}},
            "object": {"objectType": "StatementRef", "id": old.statement_id},
            "timestamp": _now(),
        }
    )
    save_statements(session, [voiding], _writer(old.org_id, service_url))


def _keep_artifacts(session: Session, old: StoredStatement, entry: EntryInput) -> EntryInput:
    kept = []
    for att in old.full.get("attachments", []):
        row = session.scalar(
            select(Attachment).where(
                Attachment.org_id == old.org_id, Attachment.sha2 == att["sha2"]
            )
        )
        if row is not None and att.get("usageType") == v.ARTIFACT_USAGE:
            name = next(iter((att.get("display") or {}).values()), "file")
            kept.append(Artifact(row.content, str(name)))
    return replace(entry, artifacts=tuple(kept))


def _writer(org_id: int, service_url: str) -> Writer:
    authority = {
        "objectType": "Agent",
        "name": "Ashiato portfolio",
        "account": {"homePage": service_url, "name": "portfolio"},
    }
    return Writer(org_id=org_id, credential_id=None, authority=authority, may_define=True)


def _named_agent(person: Person, service_url: str) -> dict[str, Any]:
    agent = own_agent(person.public_id, service_url)
    name = " ".join(p for p in (person.family_name, person.given_name) if p)
    if name:
        agent["name"] = name
    return agent


def _own_person(session: Session, viewer: AccountInfo) -> Person:
    if viewer.person_id is None or not viewer.has_role("pupil"):
        raise ForbiddenError("only pupils write entries in their own portfolio")
    person = session.get(Person, viewer.person_id)
    if person is None:
        raise ForbiddenError("this account has no portfolio of its own")
    return person


def _teacher(session: Session, viewer: AccountInfo) -> Person:
    if viewer.person_id is None or not viewer.has_role("teacher"):
        raise ForbiddenError("only teachers may do this")
    person = session.get(Person, viewer.person_id)
    if person is None:
        raise ForbiddenError("this account is not linked to a teacher")
    return person


def _own_entry(session: Session, person: Person, statement_id: str) -> StoredStatement:
    """One of the pupil's own portfolio entries, still current (not voided)."""
    row = statement_about(session, person, statement_id)
    st = row.full
    actor_key = agent_key(st.get("actor") or {})
    keys = set(person_agent_keys(session, person.id))
    ext = (st.get("context") or {}).get("extensions") or {}
    if (
        actor_key is None
        or index_key(actor_key) not in keys
        or v.ENTRY_CATEGORY not in categories(st)
        or ext.get(v.ENTRY_KIND_EXT) not in v.ENTRY_KINDS
    ):
        raise ForbiddenError("you may change only entries you wrote in your portfolio")
    return row


def statement_about(session: Session, person: Person, statement_id: str) -> StoredStatement:
    """A current statement whose actor is this person (any of their identifiers)."""
    keys = set(person_agent_keys(session, person.id))
    rows = session.scalars(
        select(StoredStatement).where(
            StoredStatement.statement_id == statement_id, StoredStatement.voided.is_(False)
        )
    )
    for row in rows:
        key = agent_key(row.full.get("actor") or {})
        if key is not None and index_key(key) in keys:
            return row
    raise NotFoundError("no such entry (it may have been withdrawn)")


def home_org(session: Session, person_id: int, today: date) -> int:
    """The school a person belongs to today: their primary current enrollment's, else any
    current enrollment's, else a current membership's."""
    current = and_(
        Enrollment.active.is_(True),
        or_(Enrollment.begin_date.is_(None), Enrollment.begin_date <= today),
        or_(Enrollment.end_date.is_(None), Enrollment.end_date >= today),
    )
    org_id = session.scalar(
        select(Enrollment.org_id)
        .where(Enrollment.person_id == person_id, current)
        .order_by(Enrollment.primary.desc(), Enrollment.id)
        .limit(1)
    )
    if org_id is None:
        org_id = session.scalar(
            select(OrgMembership.org_id)
            .where(
                OrgMembership.person_id == person_id,
                or_(OrgMembership.begin_date.is_(None), OrgMembership.begin_date <= today),
                or_(OrgMembership.end_date.is_(None), OrgMembership.end_date >= today),
            )
            .order_by(OrgMembership.id)
            .limit(1)
        )
    if org_id is None:
        raise BadRequestError("you are not enrolled in a school now; ask your school admin")
    return org_id


def current_pupils(session: Session, class_id: int, today: date) -> dict[str, Person]:
    rows = session.scalars(
        select(Person)
        .join(Enrollment, Enrollment.person_id == Person.id)
        .where(
            Enrollment.class_id == class_id,
            Enrollment.role == "student",
            Enrollment.active.is_(True),
            or_(Enrollment.begin_date.is_(None), Enrollment.begin_date <= today),
            or_(Enrollment.end_date.is_(None), Enrollment.end_date >= today),
        )
    )
    return {p.public_id: p for p in rows}


def _class_org(session: Session, class_id: int) -> int:
    klass = session.get(SchoolClass, class_id)
    if klass is None:
        raise NotFoundError(f"no class {class_id}")
    return klass.org_id
