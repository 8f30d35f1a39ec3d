"""Done means (issue 5): each broken package is refused with its reason, and nothing of it is
written."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.portability.helpers import (
    export_from,
    import_into,
    rebag_and_resign,
    rewrite,
    row_counts,
    trust,
)
from tests.portability.world import SCHOOL_A

pytestmark = pytest.mark.db


@pytest.fixture
def package(db_app: Flask, client: FlaskClient, sender: dict[str, Any]) -> bytes:
    return export_from(client, sender["pupil"], sender["admin"])


@pytest.fixture
def refused(
    db_app: Flask, db_app_b: Flask, client_b: FlaskClient, receiver: dict[str, Any]
) -> Callable[[bytes], str]:
    """refused(package) -> the reason B gave; asserts B wrote nothing."""

    def attempt(data: bytes, *, trusting: bool = True) -> str:
        if trusting:
            trust(db_app_b, db_app, SCHOOL_A)
        before = row_counts(db_app_b)
        answer = import_into(client_b, receiver["admin"], data)
        assert answer["status"] == "failed", answer
        assert answer["receipt"] == {}
        assert row_counts(db_app_b) == before
        return str(answer["error"])

    return attempt


def _flip(content: bytes, at: int) -> bytes:
    return content[:at] + bytes([content[at] ^ 0x01]) + content[at + 1 :]


@pytest.mark.parametrize(
    "target",
    [
        "data/statements/000001.ndjson",
        "data/attachments/",
        "data/person.json",
        "data/portfolio.json",
        "data/credentials/clr.json",
        "data/export.json",
        "data/roster/users.json",
        "bag-info.txt",
        "manifest-sha256.txt",
        "tagmanifest-sha256.txt",
    ],
)
def test_one_changed_byte_anywhere(
    package: bytes, refused: Callable[..., str], target: str
) -> None:
    changed: list[str] = []

    def edit(name: str, content: bytes) -> bytes:
        if not changed and name.split("/", 1)[1].startswith(target) and content:
            changed.append(name)
            return _flip(content, len(content) // 2)
        return content

    reason = refused(rewrite(package, edit))
    assert changed
    assert "not valid" in reason or "does not verify" in reason, reason


def test_changed_signature(package: bytes, refused: Callable[..., str]) -> None:
    def edit(name: str, content: bytes) -> bytes:
        if not name.endswith("signature.jws"):
            return content
        # A byte of the signature itself (a byte of the protected header could hit its kid,
        # which is refused as an unknown signer instead).
        return _flip(content, content.rindex(b".") + 5)

    reason = refused(rewrite(package, edit))
    assert "signature" in reason or "JWS" in reason, reason


@pytest.mark.parametrize("target", ["data/attachments/", "data/person.json", "signature.jws"])
def test_removed_file(package: bytes, refused: Callable[..., str], target: str) -> None:
    removed: list[str] = []

    def edit(name: str, content: bytes) -> bytes | None:
        if not removed and name.split("/", 1)[1].startswith(target):
            removed.append(name)
            return None
        return content

    reason = refused(rewrite(package, edit))
    assert removed
    assert "no " in reason or "not valid" in reason or "missing" in reason, reason


def test_unknown_signer(package: bytes, refused: Callable[..., str]) -> None:
    reason = refused(package, trusting=False)
    assert "not on this instance's trust list" in reason


def test_revoked_signer(
    db_app: Flask, db_app_b: Flask, package: bytes, refused: Callable[..., str]
) -> None:
    trust(db_app_b, db_app, SCHOOL_A)
    runner = db_app_b.test_cli_runner()
    listed = json.loads(runner.invoke(args=["transfer", "trust", "list", "--json"]).output)
    removed = runner.invoke(args=["transfer", "trust", "remove", "--kid", listed[0]["kid"]])
    assert removed.exit_code == 0, removed.output
    assert "revoked" in refused(package, trusting=False)


def test_own_revoked_key(
    db_app: Flask, client: FlaskClient, sender: dict[str, Any], package: bytes
) -> None:
    """An instance trusts its own schools' keys, until one is revoked (a leaked key): then
    nothing it signed is accepted, even at home; a new key signs from then on."""
    runner = db_app.test_cli_runner()
    keys = json.loads(runner.invoke(args=["transfer", "keys", "list", "--json"]).output)
    assert [k["status"] for k in keys] == ["active"]
    assert "private" not in json.dumps(keys).lower()
    assert (
        runner.invoke(args=["transfer", "keys", "revoke", "--kid", keys[0]["kid"]]).exit_code == 0
    )
    before = row_counts(db_app)
    answer = import_into(client, sender["admin"], package)
    assert answer["status"] == "failed"
    assert "revoked" in answer["error"]
    assert row_counts(db_app) == before
    rotated = runner.invoke(args=["transfer", "keys", "create", "--org", SCHOOL_A, "--json"])
    assert rotated.exit_code == 0, rotated.output
    fresh = export_from(client, sender["pupil"], sender["admin"])
    home = import_into(client, sender["admin"], fresh)
    assert home["status"] == "finished", home
    assert home["receipt"]["statements"]["imported"] == 0


def test_bad_clr_proof(
    db_app: Flask, sender: dict[str, Any], package: bytes, refused: Callable[..., str]
) -> None:
    def edit(root: Path) -> None:
        path = root / "data" / "credentials" / "clr.json"
        clr = json.loads(path.read_text("utf-8"))
        clr["credentialSubject"]["achievement"][0]["name"] = "書きかえた成果"
        path.write_text(json.dumps(clr, ensure_ascii=False), "utf-8")

    reason = refused(rebag_and_resign(package, db_app, sender["org_id"], edit))
    assert "clr.json" in reason, reason
    assert "does not verify" in reason


def test_statement_invalid_under_our_validator(
    db_app: Flask, sender: dict[str, Any], package: bytes, refused: Callable[..., str]
) -> None:
    def edit(root: Path) -> None:
        path = root / "data" / "statements" / "000001.ndjson"
        lines = path.read_bytes().splitlines()
        broken = json.loads(lines[2])
        broken["verb"]["id"] = "not an IRI"
        lines[2] = json.dumps(broken, ensure_ascii=False).encode()
        path.write_bytes(b"\n".join(lines) + b"\n")

    reason = refused(rebag_and_resign(package, db_app, sender["org_id"], edit))
    assert "000001.ndjson:3" in reason, reason
    assert "invalid statement" in reason


def test_attachment_not_matching_its_hash(
    db_app: Flask, sender: dict[str, Any], package: bytes, refused: Callable[..., str]
) -> None:
    def edit(root: Path) -> None:
        first = next((root / "data" / "attachments").iterdir())
        first.write_bytes(first.read_bytes() + b"!")

    reason = refused(rebag_and_resign(package, db_app, sender["org_id"], edit))
    assert "does not hash" in reason, reason


def _zip_with(package: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr(zipfile.ZipInfo(name), content)
    return out.getvalue()


@pytest.mark.parametrize(
    "name",
    ["../evil.txt", "bag/../../evil.txt", "/etc/evil.txt", "C:/evil.txt", "bag\\..\\evil.txt"],
)
def test_zip_slip(package: bytes, refused: Callable[..., str], name: str, tmp_path: Path) -> None:
    reason = refused(_zip_with(package, name, b"owned"))
    assert "unsafe path" in reason, reason
    assert not (tmp_path.parent / "evil.txt").exists()


def test_zip_bomb(package: bytes, refused: Callable[..., str]) -> None:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info, source.read(info))
        root = source.infolist()[0].filename.split("/")[0]
        target.writestr(f"{root}/data/attachments/zeros", b"\0" * (64 * 1024 * 1024))
    bomb = out.getvalue()
    assert len(bomb) < 1024 * 1024
    assert "zip bomb" in refused(bomb)


def test_not_a_zip(refused: Callable[..., str]) -> None:
    assert "not a zip" in refused(b"PK\x03\x04 this is not really a zip", trusting=False)
