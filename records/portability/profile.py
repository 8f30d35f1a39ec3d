"""The package's format: its BagIt profile, file names and versions, in one place."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

PROFILE_ID = "https://ashiato.jp/bagit/transfer-profile-v1.json"
FORMAT = "ashiato-transfer"
FORMAT_VERSION = "1.0"
SIGNATURE_FILE = "signature.jws"
TAG_MANIFEST = "tagmanifest-sha256.txt"
STATEMENTS_PER_FILE = 10_000
FORMATS = {
    "bagit": "1.0",
    "xapi": "1.0.3",
    "oneroster": "1.2 (Japan Profile)",
    "clr": "2.0",
    "openbadges": "3.0",
    "dataIntegrity": "eddsa-rdfc-2022",
}
# Payload files every package has (besides statements and attachments).
REQUIRED_FILES = (
    "data/export.json",
    "data/person.json",
    "data/portfolio.json",
    "data/credentials/clr.json",
    "data/roster/users.json",
    "data/roster/orgs.json",
    "data/roster/academicSessions.json",
    "data/roster/classes.json",
    "data/roster/enrollments.json",
)
JWS_TYPE = "ashiato-transfer+jws"


@cache
def bagit_profile() -> dict[str, Any]:
    """The BagIt profile document (served at /api/v1/transfer/profile)."""
    text = resources.files("records.portability").joinpath("bagit-profile.json").read_text()
    profile: dict[str, Any] = json.loads(text)
    return profile


def statements_file(n: int) -> str:
    return f"statements/{n:06d}.ndjson"
