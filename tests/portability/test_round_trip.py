"""Done means (issue 5): a pupil with records of every kind goes from instance A to instance B
and back; every statement arrives byte for byte, and the way back changes nothing."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete

from app.db import new_session
from records.identity.models import ActorLink
from records.store import Writer, save_statements
from records.xapi import parse_statement
from tests.portability.helpers import (
    access_rows,
    export_from,
    import_into,
    index_rows,
    row_counts,
    statement_texts,
    trust,
)
from tests.portability.world import SCHOOL_A, SCHOOL_B

pytestmark = pytest.mark.db


def test_round_trip_between_two_instances(
    db_app: Flask,
    db_app_b: Flask,
    client: FlaskClient,
    client_b: FlaskClient,
    sender: dict[str, Any],
    receiver: dict[str, Any],
) -> None:
    in_a = statement_texts(db_app)
    logged = access_rows(db_app, "transfer")
    package = export_from(client, sender["pupil"], sender["admin"])
    assert access_rows(db_app, "transfer") >= logged + 2  # the export and the download

    _check_contents(package, sender)

    trust(db_app_b, db_app, SCHOOL_A)
    answer = import_into(client_b, receiver["admin"], package)
    assert answer["status"] == "finished", answer
    receipt = answer["receipt"]
    assert receipt["statements"] == {
        "imported": len(in_a),
        "skipped": 0,
        "conflicts": 0,
        "conflictIds": [],
    }
    assert receipt["person"] == receiver["pupil"]
    assert receipt["attachments"]["stored"] == 3
    assert receipt["aliases"]["linked"] >= 2  # A's own account and sourcedId-free identifiers
    assert receipt["credentialsVerified"] == 1

    in_b = statement_texts(db_app_b)
    assert in_b == in_a  # the same statements (as JSON values), `stored` and voided flags
    assert index_rows(db_app_b) == index_rows(db_app)  # found by the same filters
    assert any("分数のたし算" in json.dumps(st, ensure_ascii=False) for st, _, _ in in_b.values())
    assert sum(voided for _, _, voided in in_b.values()) == 2  # the voided entry and statement

    # B finds the pupil's statements through its own person (aliases and index rows).
    mine_a = client.get(
        f"/api/v1/people/{sender['pupil']}/statements?limit=100", headers=sender["admin"]
    )
    mine_b = client_b.get(
        f"/api/v1/people/{receiver['pupil']}/statements?limit=100", headers=receiver["admin"]
    )
    assert mine_b.status_code == 200, mine_b.get_json()
    ids_a = sorted(st["id"] for st in mine_a.get_json()["statements"])
    assert sorted(st["id"] for st in mine_b.get_json()["statements"]) == ids_a
    assert len(ids_a) >= 8

    # Importing the same package again changes nothing.
    before = row_counts(db_app_b)
    again = import_into(client_b, receiver["admin"], package)
    assert again["receipt"]["statements"]["imported"] == 0
    assert again["receipt"]["statements"]["skipped"] == len(in_a)
    after = row_counts(db_app_b)
    assert {k: v for k, v in after.items() if k != "transfer_imports"} == {
        k: v for k, v in before.items() if k != "transfer_imports"
    }

    # And the way back: export from B, import into A: nothing changes in A's records.
    back = export_from(client_b, receiver["pupil"], receiver["admin"])
    trust(db_app, db_app_b, SCHOOL_B)
    counts_a = row_counts(db_app)
    home = import_into(client, sender["admin"], back)
    assert home["status"] == "finished", home
    assert home["receipt"]["statements"]["imported"] == 0
    assert home["receipt"]["statements"]["conflicts"] == 0
    assert home["receipt"]["statements"]["skipped"] == len(in_a)
    assert statement_texts(db_app) == in_a
    now_a = row_counts(db_app)
    for table in ("statements", "statement_index", "attachments"):
        assert now_a[table] == counts_a[table]


def _check_contents(package: bytes, sender: dict[str, Any]) -> None:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        names = archive.namelist()
        root = names[0].split("/")[0]

        def read(name: str) -> Any:
            return json.loads(archive.read(f"{root}/{name}"))

        assert all(n.startswith(f"{root}/") for n in names)
        assert f"{root}/signature.jws" in names
        portfolio = read("data/portfolio.json")["entries"]
        assert sorted(e["entryKind"] for e in portfolio) == ["artifact", "goal", "reflection"]
        reflection = next(e for e in portfolio if e["entryKind"] == "reflection")
        assert reflection["statementId"] == sender["entries"]["reflection"]
        assert reflection["achievement"] is True
        assert reflection["feedback"][0]["text"] == "よく説明できました"
        clr = read("data/credentials/clr.json")
        assert clr["type"] == ["VerifiableCredential", "ClrCredential"]
        badges = clr["credentialSubject"]["verifiableCredential"]
        assert [b["credentialSubject"]["achievement"]["name"] for b in badges] == ["分数のたし算"]
        assert badges[0]["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
        person = read("data/person.json")
        assert person["publicId"] == sender["pupil"]
        assert person["userMasterIdentifiers"] == ["UMI-JP-0001"]
        assert person["roster"]["enrollments"][0]["classSourcedId"] == "4-1"
        users = read("data/roster/users.json")
        assert users[0]["userMasterIdentifier"] == "UMI-JP-0001"
        assert read("data/roster/enrollments.json")[0]["role"] == "student"
        assert read("data/roster/classes.json")[0]["title"] == "4年1組"
        export = read("data/export.json")
        assert export["counts"]["achievements"] == 1
        assert export["counts"]["voided"] == 2


def test_admin_chooses_the_pupil_and_conflicts_are_reported(
    db_app: Flask,
    db_app_b: Flask,
    client: FlaskClient,
    client_b: FlaskClient,
    sender: dict[str, Any],
    receiver: dict[str, Any],
) -> None:
    """No userMasterIdentifier matches: the import asks for the pupil, then takes the admin's
    choice. A statement id B already holds with other content is reported, never overwritten."""
    package = export_from(client, sender["pupil"], sender["admin"])
    trust(db_app_b, db_app, SCHOOL_A)
    with db_app_b.app_context(), new_session() as session:
        session.execute(delete(ActorLink).where(ActorLink.source == "oneroster"))
        taken = next(iter(statement_texts(db_app)))
        save_statements(
            session,
            [
                parse_statement(
                    {
                        "id": taken,
                        "actor": {"objectType": "Agent", "mbox": "mailto:someone@b.example.jp"},
                        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                        "object": {"id": "https://b.example.jp/activities/other"},
                    }
                )
            ],
            Writer(receiver["org_id"], None, {"objectType": "Agent", "mbox": "mailto:b@b.jp"}),
        )
        session.commit()
    before = statement_texts(db_app_b)[taken]

    unmatched = import_into(client_b, receiver["admin"], package)
    assert unmatched["status"] == "failed"
    assert "choose the pupil" in unmatched["error"]

    chosen = import_into(client_b, receiver["admin"], package, person=receiver["pupil"])
    assert chosen["status"] == "finished", chosen
    statements = chosen["receipt"]["statements"]
    assert statements["conflicts"] == 1
    assert statements["conflictIds"] == [taken]
    assert statements["imported"] == len(statement_texts(db_app)) - 1
    assert statement_texts(db_app_b)[taken] == before
