"""Reading a OneRoster 1.2 CSV package: the zip, manifest.csv and the roster tables.

Tables keep every row's spreadsheet row number (header = 1). Column names are matched without
regard to case (Japan Profile exporters write both `metadata.jp.ShussekiNo` and
`metadata.jp.shussekiNo`) and stored under the spelling of the binding.
"""

from __future__ import annotations

import csv
import io
import posixpath
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from records.identity.oneroster.errors import Problems

MANIFEST: Final = "manifest.csv"
# Largest uncompressed package accepted (a prefecture's roster is far smaller).
MAX_UNCOMPRESSED: Final = 1024 * 1024 * 1024

_BASE: Final = ("sourcedId", "status", "dateLastModified")
KNOWN_COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "orgs": (*_BASE, "name", "type", "identifier", "parentSourcedId"),
    "academicSessions": (
        *_BASE,
        "title",
        "type",
        "startDate",
        "endDate",
        "parentSourcedId",
        "schoolYear",
    ),
    "courses": (
        *_BASE,
        "schoolYearSourcedId",
        "title",
        "courseCode",
        "grades",
        "orgSourcedId",
        "subjects",
        "subjectCodes",
    ),
    "classes": (
        *_BASE,
        "title",
        "grades",
        "courseSourcedId",
        "classCode",
        "classType",
        "location",
        "schoolSourcedId",
        "termSourcedIds",
        "subjects",
        "subjectCodes",
        "periods",
        "metadata.jp.specialNeeds",
    ),
    "users": (
        *_BASE,
        "enabledUser",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
        "password",
        "userMasterIdentifier",
        "resourceSourcedIds",
        "preferredGivenName",
        "preferredMiddleName",
        "preferredFamilyName",
        "primaryOrgSourcedId",
        "pronouns",
        # OneRoster 1.1 layout, still sent by some exporters: roles.csv did not exist.
        "orgSourcedIds",
        "role",
        "metadata.jp.kanaGivenName",
        "metadata.jp.kanaFamilyName",
        "metadata.jp.kanaMiddleName",
        "metadata.jp.kanaPreferredGivenName",
        "metadata.jp.kanaPreferredFamilyName",
        "metadata.jp.kanaPreferredMiddleName",
        "metadata.jp.homeClass",
        "metadata.jp.ShussekiNo",
        "metadata.jp.PublicFlg",
    ),
    "enrollments": (
        *_BASE,
        "classSourcedId",
        "schoolSourcedId",
        "userSourcedId",
        "role",
        "primary",
        "beginDate",
        "endDate",
        "metadata.jp.ShussekiNo",
        "metadata.jp.PublicFlg",
    ),
    "roles": (
        *_BASE,
        "userSourcedId",
        "roleType",
        "role",
        "beginDate",
        "endDate",
        "orgSourcedId",
        "userProfileSourcedId",
    ),
    "demographics": (*_BASE,),
}
# Columns whose absence makes a file unreadable (their values are required in every row).
REQUIRED_COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "orgs": ("sourcedId", "name", "type"),
    "academicSessions": ("sourcedId", "title", "type", "startDate", "endDate", "schoolYear"),
    "courses": ("sourcedId", "title", "orgSourcedId"),
    "classes": (
        "sourcedId",
        "title",
        "courseSourcedId",
        "classType",
        "schoolSourcedId",
        "termSourcedIds",
    ),
    "users": ("sourcedId", "enabledUser", "username", "givenName", "familyName"),
    "enrollments": ("sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
    "roles": ("sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId"),
    "demographics": ("sourcedId",),
}
ROSTER_FILES: Final = tuple(KNOWN_COLUMNS)
MODES: Final = ("bulk", "delta", "absent")


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    cells: Mapping[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass(frozen=True, slots=True)
class Table:
    name: str  # "users"
    mode: str  # bulk | delta
    columns: frozenset[str]
    rows: tuple[Row, ...]

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    @property
    def bulk(self) -> bool:
        return self.mode == "bulk"


def read_package(data: bytes, problems: Problems, unreadable: set[str]) -> dict[str, Table]:
    """The roster tables the manifest names, by name ("users"); problems are collected, and the
    names of files that are there but could not be read are added to `unreadable` (rows that
    refer to them are not checked: that would only repeat the problem once per row)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        problems.add("", 0, "", "the upload is not a zip archive (a OneRoster CSV package is one)")
        unreadable.update(ROSTER_FILES)
        return {}
    with archive:
        entries = _entries(archive, problems)
        if entries is None:
            unreadable.update(ROSTER_FILES)
            return {}
        manifest = _read_manifest(entries, problems)
        tables: dict[str, Table] = {}
        for name in ROSTER_FILES:
            mode, line = manifest.get(f"file.{name}", ("absent", 0))
            present = f"{name}.csv" in entries
            if mode == "absent":
                if present:
                    unreadable.add(name)
                    problems.add(
                        MANIFEST,
                        line,
                        "value",
                        f"{name}.csv is in the zip but file.{name} is 'absent'; say 'bulk' or "
                        "'delta', or leave the file out",
                    )
                continue
            if not present:
                problems.add(
                    MANIFEST,
                    line,
                    "value",
                    f"file.{name} is '{mode}' but the zip has no {name}.csv",
                )
                continue
            table = _read_table(name, mode, entries[f"{name}.csv"].read(), problems)
            if table is None:
                unreadable.add(name)
            else:
                tables[name] = table
        return tables


class _Entry:
    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        self.archive, self.info = archive, info

    def read(self) -> bytes:
        return self.archive.read(self.info)


def _entries(archive: zipfile.ZipFile, problems: Problems) -> dict[str, _Entry] | None:
    infos = [
        info
        for info in archive.infolist()
        if not info.is_dir() and not info.filename.startswith("__MACOSX/")
    ]
    if sum(info.file_size for info in infos) > MAX_UNCOMPRESSED:
        problems.add("", 0, "", "the zip unpacks to more than 1 GiB; split the roster")
        return None
    manifests = [info for info in infos if posixpath.basename(info.filename) == MANIFEST]
    if len(manifests) != 1:
        problems.add(
            MANIFEST,
            0,
            "",
            "the zip has no manifest.csv" if not manifests else "the zip has several manifest.csv",
        )
        return None
    folder = posixpath.dirname(manifests[0].filename)
    return {
        posixpath.relpath(info.filename, folder or "."): _Entry(archive, info)
        for info in infos
        if posixpath.dirname(info.filename) == folder
    }


def _read_manifest(entries: Mapping[str, _Entry], problems: Problems) -> dict[str, tuple[str, int]]:
    """propertyName -> (value, line)."""
    records = _records(MANIFEST, entries[MANIFEST].read(), problems)
    if not records:
        if records is not None:
            problems.add(MANIFEST, 0, "", "manifest.csv is empty; it needs propertyName,value")
        return {}
    header = [cell.strip() for cell in records[0][1]]
    if [h.lower() for h in header[:2]] != ["propertyname", "value"]:
        problems.add(MANIFEST, 1, "", "the header must be 'propertyName,value'")
        return {}
    found: dict[str, tuple[str, int]] = {}
    for line, cells in records[1:]:
        if len(cells) < 2 or not cells[0].strip():
            problems.add(MANIFEST, line, "", "expected propertyName,value")
            continue
        prop, value = cells[0].strip(), cells[1].strip()
        if prop in found:
            problems.add(MANIFEST, line, "propertyName", f"{prop} is given twice")
        found[prop] = (value, line)
        if prop.startswith("file.") and value not in MODES:
            problems.add(
                MANIFEST, line, "value", f"{prop} is {value!r}; expected bulk, delta or absent"
            )
    _expect(found, "manifest.version", ("1.0",), problems)
    _expect(found, "oneroster.version", ("1.2",), problems, prefix=True)
    return {k: v for k, v in found.items() if not k.startswith("file.") or v[0] in MODES}


def _expect(
    found: Mapping[str, tuple[str, int]],
    prop: str,
    allowed: tuple[str, ...],
    problems: Problems,
    *,
    prefix: bool = False,
) -> None:
    if prop not in found:
        problems.add(MANIFEST, 0, "propertyName", f"{prop} is missing (expected {allowed[0]})")
        return
    value, line = found[prop]
    ok = value.startswith(allowed) if prefix else value in allowed
    if not ok:
        problems.add(
            MANIFEST, line, "value", f"{prop} is {value!r}; this importer reads {allowed[0]}"
        )


def _records(file: str, raw: bytes, problems: Problems) -> list[tuple[int, list[str]]] | None:
    """(row number, cells) of every non-blank record; None when the file cannot be read."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        problems.add(
            file,
            line,
            "",
            f"is not UTF-8 (byte {exc.start + 1}); save the file as UTF-8 (Shift_JIS is not "
            "read), then zip it again",
        )
        return None
    records: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    number = 0
    try:
        for cells in reader:
            number += 1
            if any(cell.strip() for cell in cells):
                records.append((number, cells))
    except csv.Error as exc:
        problems.add(file, number + 1, "", f"is not valid CSV here: {exc}")
        return None
    return records


def _read_table(name: str, mode: str, raw: bytes, problems: Problems) -> Table | None:
    file = f"{name}.csv"
    records = _records(file, raw, problems)
    if records is None:
        return None
    if not records or records[0][0] != 1:
        problems.add(file, 1, "", "the header row is missing (the first row names the columns)")
        return None
    canonical = {column.lower(): column for column in KNOWN_COLUMNS[name]}
    header: list[str] = []
    for raw_name in records[0][1]:
        column = canonical.get(raw_name.strip().lower(), raw_name.strip())
        if not column:
            problems.add(file, 1, "", f"column {len(header) + 1} of the header has no name")
        elif column in header:
            problems.add(file, 1, column, "this column appears twice in the header")
        header.append(column)
    for column in REQUIRED_COLUMNS[name]:
        if column not in header:
            problems.add(file, 1, column, "required column is missing from the header")
    if "sourcedId" not in header:
        return None  # rows without ids: nothing can refer to them, so they are not checked
    rows: list[Row] = []
    for line, cells in records[1:]:
        if len(cells) != len(header):
            problems.add(
                file, line, "", f"has {len(cells)} cells but the header has {len(header)} columns"
            )
            continue
        rows.append(Row(line, {c: v.strip() for c, v in zip(header, cells, strict=True) if c}))
    return Table(name, mode, frozenset(c for c in header if c), tuple(rows))
