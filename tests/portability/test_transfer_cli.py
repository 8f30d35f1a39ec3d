"""flask transfer: import a package from a file; keys and trust list from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.portability.helpers import export_from, row_counts, trust
from tests.portability.world import SCHOOL_A, SCHOOL_B

pytestmark = pytest.mark.db


def test_import_from_a_file(
    db_app: Flask,
    db_app_b: Flask,
    client: FlaskClient,
    sender: dict[str, Any],
    receiver: dict[str, Any],
    tmp_path: Path,
) -> None:
    path = tmp_path / "package.zip"
    path.write_bytes(export_from(client, sender["pupil"], sender["admin"]))
    runner = db_app_b.test_cli_runner()
    args = ["transfer", "import", str(path), "--school", SCHOOL_B, "--json"]

    before = row_counts(db_app_b)
    refused = runner.invoke(args=args)
    assert refused.exit_code != 0
    assert "refused" in refused.output
    assert "trust list" in refused.output
    assert row_counts(db_app_b)["statements"] == before["statements"]

    trust(db_app_b, db_app, SCHOOL_A)
    listed = json.loads(runner.invoke(args=["transfer", "trust", "list", "--json"]).output)
    assert [e["org"] for e in listed] == [SCHOOL_A]
    done = runner.invoke(args=args)
    assert done.exit_code == 0, done.output
    receipt = json.loads(done.output)
    assert receipt["person"] == receiver["pupil"]
    assert receipt["statements"]["imported"] == row_counts(db_app)["statements"]
    again = json.loads(runner.invoke(args=args).output)
    assert again["statements"]["imported"] == 0
    assert again["statements"]["skipped"] == receipt["statements"]["imported"]


def test_cli_refuses_bad_input(db_app_b: Flask, receiver: dict[str, Any], tmp_path: Path) -> None:
    runner = db_app_b.test_cli_runner()
    bad_key = runner.invoke(args=["transfer", "trust", "add", "--org", "X", "--key", "nonsense"])
    assert bad_key.exit_code != 0
    assert "Multikey" in bad_key.output
    unknown = runner.invoke(args=["transfer", "trust", "remove", "--kid", "nope"])
    assert unknown.exit_code != 0
    assert "not on the trust list" in unknown.output
    no_school = runner.invoke(args=["transfer", "keys", "create", "--org", "nowhere"])
    assert no_school.exit_code != 0
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    refused = runner.invoke(args=["transfer", "import", str(junk), "--school", SCHOOL_B])
    assert refused.exit_code != 0
    assert "not a zip" in refused.output
