"""A pupil with records of every kind, for transfer tests: portfolio entries (reflection,
goal, artifact with a photo, an edit = void + revise), a teacher's comment and achievement mark,
and LRS statements (with an attachment, signed, a sub-statement, voided, Japanese text)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.orm import Session

from records.identity.accounts import AccountInfo, create_account, create_token
from records.identity.models import ActorLink, Enrollment, SchoolClass
from records.identity.oneroster.identifiers import (
    account_agent,
    oneroster_home_page,
    stored_key,
)
from records.identity.people import Names, create_person, own_agent
from records.organisations import create_organisation
from records.portfolio.entries import Artifact, EntryInput, edit_entry, give_feedback, write_entry
from records.store import AttachmentPart, Writer, save_statements
from records.xapi import parse_statement
from tests.factories import PASSWORD, build_school_world

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
MASTER_ID = "UMI-JP-0001"
SCHOOL_A = "B113210000015"
SCHOOL_B = "B113211000013"


def master_link(session: Session, person_id: int, org_id: int, service_url: str) -> None:
    agent = account_agent(oneroster_home_page(service_url, "userMasterIdentifier"), MASTER_ID)
    session.add(
        ActorLink(
            person_id=person_id,
            agent_key=stored_key(agent),
            agent=agent,
            source="oneroster",
            org_id=org_id,
            created_at=datetime.now(UTC),
        )
    )
    session.flush()


def token_for(session: Session, email: str, hash_key: bytes) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(session, email, 'tests', hash_key)}"}


def build_sender(session: Session, service_url: str, hash_key: bytes) -> dict[str, Any]:
    """Instance A: school A with pupil P1 and their records; returns ids and API headers."""
    world = build_school_world(session, service_url)
    p1 = world["people"]["P1"]
    school_a = world["school_a"]
    master_link(session, p1.id, school_a.id, service_url)
    pupil = create_account(session, "p1@a.example.jp", PASSWORD, "pupil", SCHOOL_A, person_id=p1.id)
    teacher = create_account(
        session,
        "t1@a.example.jp",
        PASSWORD,
        "teacher",
        SCHOOL_A,
        person_id=world["people"]["T1"].id,
    )
    create_account(session, "admin@a.example.jp", PASSWORD, "school_admin", SCHOOL_A)
    today = datetime.now(UTC).date()
    entries = portfolio_records(session, pupil, teacher, p1.public_id, service_url, today)
    lrs_records(session, school_a.id, own_agent(p1.public_id, service_url), service_url)
    session.flush()
    return {
        "pupil": p1.public_id,
        "pupil_id": p1.id,
        "org_id": school_a.id,
        "entries": entries,
        "admin": token_for(session, "admin@a.example.jp", hash_key),
        "pupil_headers": token_for(session, "p1@a.example.jp", hash_key),
        "teacher": token_for(session, "t1@a.example.jp", hash_key),
    }


def portfolio_records(
    session: Session,
    pupil: AccountInfo,
    teacher: AccountInfo,
    public_id: str,
    service_url: str,
    today: Any,
) -> dict[str, str]:
    reflection = write_entry(
        session,
        pupil,
        EntryInput(
            kind="reflection",
            title="分数のたし算",
            subject="arithmetic",
            text="通分するのがむずかしかったけど、友だちに説明できた。",
            minutes=30,
        ),
        service_url,
        today,
    )
    goal = write_entry(
        session, pupil, EntryInput(kind="goal", title="毎日10分本を読む"), service_url, today
    )
    artifact = write_entry(
        session,
        pupil,
        EntryInput(kind="artifact", title="夏休みの絵", artifacts=(Artifact(PNG, "絵.png"),)),
        service_url,
        today,
    )
    revised = edit_entry(
        session,
        pupil,
        goal,
        EntryInput(kind="goal", title="毎日15分本を読む"),
        service_url,
        today,
    )
    give_feedback(
        session, teacher, public_id, reflection, "よく説明できました", True, service_url, today
    )
    give_feedback(
        session, teacher, public_id, artifact, "色づかいがすてき", False, service_url, today
    )
    return {"reflection": reflection, "goal": goal, "revised_goal": revised, "artifact": artifact}


def lrs_records(session: Session, org_id: int, actor: dict[str, Any], service_url: str) -> None:
    writer = Writer(
        org_id=org_id,
        credential_id=None,
        authority={"objectType": "Agent", "account": {"homePage": service_url, "name": "dev-1"}},
    )
    verb = {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"ja": "完了した"}}
    lesson = {
        "objectType": "Activity",
        "id": "https://contents.example.jp/math/p4/fractions/unit-1",
        "definition": {"name": {"ja": "分数 第1単元"}},
    }
    plain = {"id": str(uuid.uuid4()), "actor": actor, "verb": verb, "object": lesson}
    save_statements(session, [parse_statement(plain)], writer)
    # with an attachment
    note = "観察メモ: 朝顔のつるが伸びた".encode()
    sha = hashlib.sha256(note).hexdigest()
    with_file = {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": verb,
        "object": lesson,
        "attachments": [
            {
                "usageType": "http://id.tincanapi.com/attachment/supporting_media",
                "display": {"ja": "メモ"},
                "contentType": "text/plain; charset=utf-8",
                "length": len(note),
                "sha2": sha,
            }
        ],
    }
    save_statements(
        session,
        [parse_statement(with_file)],
        writer,
        parts=[AttachmentPart(sha, "text/plain; charset=utf-8", note)],
    )
    # signed
    body = {"id": str(uuid.uuid4()), "actor": actor, "verb": verb, "object": lesson}
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.api_jws.encode(json.dumps(body, ensure_ascii=False).encode(), key, "RS256")
    signature = token.encode("ascii")
    signed = {
        **body,
        "attachments": [
            {
                "usageType": SIGNATURE,
                "display": {"en": "signature"},
                "contentType": "application/octet-stream",
                "length": len(signature),
                "sha2": hashlib.sha256(signature).hexdigest(),
            }
        ],
    }
    save_statements(
        session,
        [parse_statement(signed)],
        writer,
        parts=[
            AttachmentPart(
                hashlib.sha256(signature).hexdigest(), "application/octet-stream", signature
            )
        ],
    )
    # a sub-statement
    sub = {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/planned", "display": {"ja": "計画した"}},
        "object": {
            "objectType": "SubStatement",
            "actor": actor,
            "verb": verb,
            "object": lesson,
            "timestamp": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        },
    }
    save_statements(session, [parse_statement(sub)], writer)
    # voided, and its voiding statement
    wrong = {"id": str(uuid.uuid4()), "actor": actor, "verb": verb, "object": lesson}
    save_statements(session, [parse_statement(wrong)], writer)
    voiding = {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en": "voided"}},
        "object": {"objectType": "StatementRef", "id": wrong["id"]},
    }
    save_statements(session, [parse_statement(voiding)], writer)


def build_receiver(session: Session, service_url: str, hash_key: bytes) -> dict[str, Any]:
    """Instance B: the pupil's next school, with the pupil (same userMasterIdentifier) enrolled
    through its own roster, and its admin."""
    school = create_organisation(session, SCHOOL_B, "千代田区立第二小学校")
    person = create_person(session, "student", Names(family="山田", given="花子"), service_url)
    master_link(session, person.id, school.id, service_url)
    klass = SchoolClass(org_id=school.id, sourced_id="5-1", title="5年1組", class_code="5-1")
    session.add(klass)
    session.flush()
    session.add(
        Enrollment(
            org_id=school.id,
            sourced_id="e-b-1",
            person_id=person.id,
            class_id=klass.id,
            role="student",
            begin_date=datetime.now(UTC).date() - timedelta(days=1),
            end_date=None,
            active=True,
        )
    )
    create_account(session, "admin@b.example.jp", PASSWORD, "school_admin", SCHOOL_B)
    session.flush()
    return {
        "pupil": person.public_id,
        "pupil_id": person.id,
        "org_id": school.id,
        "admin": token_for(session, "admin@b.example.jp", hash_key),
    }
