"""Unpacking an untrusted zip: no entry may leave the target folder (`../`, absolute paths,
drive letters, backslashes, links), and no zip bomb may fill the disk (total size, ratio and
entry count are bounded, and bytes are counted as they are written, not taken on trust)."""

from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from records.errors import BadRequestError

COPY_CHUNK = 1024 * 1024


class PackageRefusedError(BadRequestError):
    """A transfer package failed a check; nothing was written."""


@dataclass(frozen=True, slots=True)
class ZipLimits:
    max_total_bytes: int = 8 * 1024**3
    max_entries: int = 500_000
    max_ratio: int = 200  # uncompressed / compressed, for entries above ratio_floor
    ratio_floor: int = 1024 * 1024


def extract(zip_path: Path, target: Path, limits: ZipLimits) -> Path:
    """Unpack into `target`; returns the single top-level folder (the bag)."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError):
        raise PackageRefusedError("the package is not a zip file") from None
    with archive:
        infos = archive.infolist()
        tops = _check_entries(infos, limits)
        if len(tops) != 1:
            raise PackageRefusedError(
                "the package must hold one top-level folder (the bag), found "
                f"{len(tops)}: {', '.join(sorted(tops)[:5])}"
            )
        total = 0
        for info in infos:
            dest = target.joinpath(*PurePosixPath(info.filename).parts)
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            total = _copy(archive, info, dest, total, limits)
    return target / next(iter(tops))


def _check_entries(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> set[str]:
    if len(infos) > limits.max_entries:
        raise PackageRefusedError(
            f"the package has {len(infos)} entries, more than {limits.max_entries}"
        )
    declared = 0
    seen: set[str] = set()
    tops: set[str] = set()
    for info in infos:
        name = info.filename
        _check_name(name)
        if (info.external_attr >> 16) and stat.S_ISLNK(info.external_attr >> 16):
            raise PackageRefusedError(f"zip entry {name!r} is a symbolic link")
        key = name.rstrip("/")
        if key in seen:
            raise PackageRefusedError(f"zip entry {name!r} appears twice")
        seen.add(key)
        tops.add(PurePosixPath(name).parts[0])
        declared += info.file_size
        if declared > limits.max_total_bytes:
            raise PackageRefusedError(
                f"the package unpacks to more than {limits.max_total_bytes} bytes (zip bomb?)"
            )
        if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise PackageRefusedError(
                f"zip entry {name!r} expands {info.file_size // max(info.compress_size, 1)} "
                "times, beyond what real files do (zip bomb?)"
            )
    return tops


def _check_name(name: str) -> None:
    path = PurePosixPath(name)
    if (
        not name
        or "\\" in name
        or "\0" in name
        or name.startswith("/")
        or path.is_absolute()
        or (path.parts and ":" in path.parts[0])
        or any(part in ("..", ".", "") for part in name.rstrip("/").split("/"))
    ):
        raise PackageRefusedError(
            f"zip entry {name!r} has an unsafe path (absolute, '..', or a drive); refused"
        )


def _copy(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, total: int, limits: ZipLimits
) -> int:
    written = 0
    try:
        with archive.open(info) as source, dest.open("wb") as out:
            while chunk := source.read(COPY_CHUNK):
                written += len(chunk)
                total += len(chunk)
                if written > info.file_size or total > limits.max_total_bytes:
                    raise PackageRefusedError(
                        f"zip entry {info.filename!r} unpacks to more than it declares (zip bomb?)"
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error) as exc:
        raise PackageRefusedError(f"zip entry {info.filename!r} cannot be read: {exc}") from None
    return total
