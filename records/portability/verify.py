"""The verifier: every check a package must pass before anything of it is written.

In order: safe unpacking (zipsafe), the BagIt profile, the bag's checksums (bagit), the
detached signature and its signer on the trust list, export.json, the CLR credential's proofs,
every statement under our xAPI validator (one file and line named in a refusal), and every
attachment's bytes against the hash its statement names. Any failure raises
PackageRefusedError with the reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bagit  # type: ignore[import-untyped]  # bagit ships no type information
import jwt
import orjson
from sqlalchemy.orm import Session

from records.errors import RecordsError
from records.portability import profile
from records.portability.clr import verify_clr
from records.portability.export import attachment_metas
from records.portability.multibase import ed25519_multikey
from records.portability.trust import Signer, trusted_signer
from records.portability.zipsafe import PackageRefusedError, ZipLimits, extract
from records.xapi import Statement, parse_agent, parse_statement, verify_signature

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
_HASHES = {64: "sha256", 96: "sha384", 128: "sha512"}


@dataclass(slots=True)
class VerifiedPackage:
    root: Path  # the unpacked bag
    export: dict[str, Any]
    person: dict[str, Any]
    signer: Signer
    statement_files: list[Path]
    statements: int = 0
    credentials: int = 0
    # sha2 -> content type, for every attachment file of the package
    attachments: dict[str, str] = field(default_factory=dict)

    def attachment_path(self, sha2: str) -> Path:
        return self.root / "data" / "attachments" / sha2


def verify_package(
    session: Session, zip_path: Path, workdir: Path, limits: ZipLimits | None = None
) -> VerifiedPackage:
    root = extract(zip_path, workdir, limits or ZipLimits())
    _check_profile(root)
    _check_bag(root)
    signer = _check_signature(session, root)
    export = _read_json(root, "data/export.json")
    _check_export(export, signer)
    try:
        credentials = verify_clr(_read_json(root, "data/credentials/clr.json"), _multikey(export))
    except RecordsError as exc:
        raise PackageRefusedError(f"data/credentials/clr.json: {exc.message}") from None
    person = _read_json(root, "data/person.json")
    _check_person(person)
    package = VerifiedPackage(
        root=root,
        export=export,
        person=person,
        signer=signer,
        statement_files=_statement_files(root, export),
        credentials=credentials,
    )
    _check_statements(package)
    return package


def read_statements(package: VerifiedPackage) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, statement) for every line, in the package's (stored) order."""
    for path in package.statement_files:
        with path.open("rb") as lines:
            for n, line in enumerate(lines, start=1):
                where = f"data/statements/{path.name}:{n}"
                if not line.strip():
                    continue
                yield where, _loads(line, where)


# --- the checks -----------------------------------------------------------------------------


def _check_profile(root: Path) -> None:
    for name in ("bagit.txt", "bag-info.txt", profile.TAG_MANIFEST, profile.SIGNATURE_FILE):
        if not (root / name).is_file():
            raise PackageRefusedError(f"the bag has no {name}")
    if (root / "fetch.txt").exists():
        raise PackageRefusedError("fetch.txt is not allowed by the transfer profile")
    for name in profile.REQUIRED_FILES:
        if not (root / name).is_file():
            raise PackageRefusedError(f"the package has no {name} (removed?)")
    tags = (root / profile.TAG_MANIFEST).read_text("utf-8", errors="replace")
    for name in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt"):
        if not any(line.rstrip().endswith(f" {name}") for line in tags.splitlines()):
            raise PackageRefusedError(f"{profile.TAG_MANIFEST} does not cover {name}")


def _check_bag(root: Path) -> None:
    try:
        bag = bagit.Bag(str(root))
        if bag.info.get("BagIt-Profile-Identifier") != profile.PROFILE_ID:
            raise PackageRefusedError(
                f"bag-info.txt does not name the transfer profile {profile.PROFILE_ID}"
            )
        if list(bag.algorithms) != ["sha256"]:
            raise PackageRefusedError("the transfer profile allows sha256 manifests only")
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        details = "; ".join(str(d) for d in (exc.details or [])[:5])
        raise PackageRefusedError(
            f"the bag is not valid: {exc.message} {details}".strip()
        ) from None
    except bagit.BagError as exc:
        raise PackageRefusedError(f"the bag cannot be read: {exc}") from None


def _check_signature(session: Session, root: Path) -> Signer:
    token = (root / profile.SIGNATURE_FILE).read_text("ascii", errors="replace").strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise PackageRefusedError(f"{profile.SIGNATURE_FILE} is not a JWS: {exc}") from None
    kid = header.get("kid")
    if header.get("alg") != "EdDSA" or not isinstance(kid, str):
        raise PackageRefusedError("the signature must be an EdDSA JWS naming its key (kid)")
    try:
        signer = trusted_signer(session, kid)
    except RecordsError as exc:
        raise PackageRefusedError(exc.message) from None
    try:
        jwt.api_jws.decode_complete(
            token,
            key=signer.public_key,
            algorithms=["EdDSA"],
            detached_payload=(root / profile.TAG_MANIFEST).read_bytes(),
        )
    except jwt.PyJWTError:
        raise PackageRefusedError(
            f"the signature over {profile.TAG_MANIFEST} does not verify with key {kid}: the "
            "package was changed after it was signed"
        ) from None
    return signer


def _check_export(export: Any, signer: Signer) -> None:
    if not isinstance(export, dict) or export.get("format") != profile.FORMAT:
        raise PackageRefusedError("data/export.json is not an Ashiato transfer description")
    if str(export.get("formatVersion", "")).split(".")[0] != profile.FORMAT_VERSION.split(".")[0]:
        raise PackageRefusedError(
            f"format version {export.get('formatVersion')} is not supported "
            f"(this instance reads {profile.FORMAT_VERSION})"
        )
    school = export.get("exportingSchool")
    if not isinstance(school, dict) or school.get("kid") != signer.kid:
        raise PackageRefusedError("data/export.json names another key than the signature's")
    if not isinstance(school.get("publicKey"), str) or not isinstance(school.get("code"), str):
        raise PackageRefusedError("data/export.json names no exporting school and public key")
    if school["publicKey"] != ed25519_multikey(signer.public_key.public_bytes_raw()):
        raise PackageRefusedError("data/export.json names another public key than the signer's")
    if not isinstance(export.get("exportId"), str) or not isinstance(export.get("counts"), dict):
        raise PackageRefusedError("data/export.json has no exportId or counts")


def _multikey(export: dict[str, Any]) -> str:
    return str(export["exportingSchool"].get("publicKey", ""))


def _check_person(person: Any) -> None:
    if not isinstance(person, dict) or not isinstance(person.get("identifiers"), list):
        raise PackageRefusedError("data/person.json has no identifiers")
    for n, entry in enumerate(person["identifiers"]):
        try:
            parse_agent(entry.get("agent") if isinstance(entry, dict) else None)
        except RecordsError as exc:
            raise PackageRefusedError(f"data/person.json identifiers[{n}]: {exc.message}") from None


def _statement_files(root: Path, export: dict[str, Any]) -> list[Path]:
    listed = export.get("statementFiles")
    if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
        raise PackageRefusedError("data/export.json has no statementFiles list")
    present = {f"data/statements/{p.name}" for p in (root / "data" / "statements").glob("*")}
    if set(listed) != present:
        raise PackageRefusedError(
            "the statement files differ from those data/export.json lists "
            f"(missing: {sorted(set(listed) - present)}, extra: {sorted(present - set(listed))})"
        )
    return [root / name for name in listed]


def _check_statements(package: VerifiedPackage) -> None:
    ids: set[str] = set()
    hashed: set[str] = set()
    for where, raw in read_statements(package):
        statement = _valid(raw, where)
        sid = statement.id
        if sid is None or "stored" not in raw or "authority" not in raw:
            raise PackageRefusedError(f"{where}: a stored statement needs id, stored, authority")
        if sid in ids:
            raise PackageRefusedError(f"{where}: statement id {sid} appears twice")
        ids.add(sid)
        for meta in attachment_metas(raw):
            _check_attachment(package, meta, raw, where, hashed)
        package.statements += 1
    expected = (package.export.get("counts") or {}).get("statements")
    if expected != package.statements:
        raise PackageRefusedError(
            f"data/export.json counts {expected} statements, the files hold {package.statements}"
        )
    files = {p.name for p in (package.root / "data" / "attachments").glob("*")}
    extra = files - set(package.attachments)
    if extra:
        raise PackageRefusedError(
            f"attachment file(s) {', '.join(sorted(extra)[:5])} belong to no statement"
        )


def _valid(raw: dict[str, Any], where: str) -> Statement:
    try:
        return parse_statement(raw)
    except RecordsError as exc:
        raise PackageRefusedError(f"{where}: invalid statement: {exc.message}") from None


def _check_attachment(
    package: VerifiedPackage,
    meta: dict[str, Any],
    statement: dict[str, Any],
    where: str,
    hashed: set[str],
) -> None:
    sha2 = str(meta.get("sha2", ""))
    path = package.attachment_path(sha2)
    if "/" in sha2 or not path.is_file():
        if meta.get("fileUrl") and meta.get("usageType") != SIGNATURE_USAGE:
            return  # never held by the LRS: referenced by URL only
        raise PackageRefusedError(f"{where}: attachment {sha2} is missing from the package")
    if sha2 not in hashed:
        algorithm = _HASHES.get(len(sha2))
        if algorithm is None:
            raise PackageRefusedError(f"{where}: attachment hash {sha2} is not a SHA-2 digest")
        digest = hashlib.new(algorithm)
        with path.open("rb") as data:
            while chunk := data.read(1024 * 1024):
                digest.update(chunk)
        if digest.hexdigest() != sha2.lower():
            raise PackageRefusedError(
                f"{where}: data/attachments/{sha2} does not hash to the value its statement names"
            )
        hashed.add(sha2)
        package.attachments[sha2] = str(meta.get("contentType") or "application/octet-stream")
    if meta.get("usageType") == SIGNATURE_USAGE:
        try:
            verify_signature(statement, path.read_bytes())
        except RecordsError as exc:
            raise PackageRefusedError(f"{where}: {exc.message}") from None


def _read_json(root: Path, name: str) -> Any:
    try:
        return json.loads((root / name).read_text("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PackageRefusedError(f"{name} is not valid JSON: {exc}") from None


def _loads(line: bytes, where: str) -> dict[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        try:  # integers beyond 64 bits (records/jsontext.py writes them this way too)
            value = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise PackageRefusedError(f"{where}: not a JSON statement ({exc})") from None
    if not isinstance(value, dict):
        raise PackageRefusedError(f"{where}: not a JSON object")
    return value
