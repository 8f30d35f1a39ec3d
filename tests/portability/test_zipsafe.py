"""Unpacking untrusted zips (no database): links, duplicates, counts, ratios, sizes."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from records.errors import BadRequestError
from records.portability.multibase import b58decode, b58encode, ed25519_from_multikey
from records.portability.zipsafe import PackageRefusedError, ZipLimits, extract


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]], tmp_path: Path) -> Path:
    path = tmp_path / "in.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, content in entries:
            archive.writestr(info, content)
    return path


def test_a_good_bag_unpacks_under_its_folder(tmp_path: Path) -> None:
    path = _zip([("bag/bagit.txt", b"BagIt-Version: 1.0\n"), ("bag/data/a", b"x")], tmp_path)
    root = extract(path, tmp_path / "out", ZipLimits())
    assert root == tmp_path / "out" / "bag"
    assert (root / "data" / "a").read_bytes() == b"x"


def test_symbolic_links_are_refused(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("bag/data/link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    path = _zip([("bag/bagit.txt", b""), (link, b"/etc/passwd")], tmp_path)
    with pytest.raises(PackageRefusedError, match="symbolic link"):
        extract(path, tmp_path / "out", ZipLimits())


def test_duplicates_two_roots_and_too_many_entries(tmp_path: Path) -> None:
    twice = tmp_path / "twice"
    twice.mkdir()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bag/a", b"1")
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("bag/a", b"2")
    (twice / "in.zip").write_bytes(buffer.getvalue())
    with pytest.raises(PackageRefusedError, match="appears twice"):
        extract(twice / "in.zip", tmp_path / "o1", ZipLimits())
    two = _zip([("a/x", b""), ("b/y", b"")], tmp_path)
    with pytest.raises(PackageRefusedError, match="one top-level folder"):
        extract(two, tmp_path / "o2", ZipLimits())
    many = _zip([(f"bag/{n}", b"") for n in range(20)], tmp_path)
    with pytest.raises(PackageRefusedError, match="entries"):
        extract(many, tmp_path / "o3", ZipLimits(max_entries=10))


def test_total_size_is_bounded(tmp_path: Path) -> None:
    path = _zip([("bag/a", b"x" * 5000), ("bag/b", b"y" * 5000)], tmp_path)
    with pytest.raises(PackageRefusedError, match="more than 8000 bytes"):
        extract(path, tmp_path / "out", ZipLimits(max_total_bytes=8000))
    assert not (tmp_path / "out" / "bag" / "b").exists()


def test_multibase_round_trip() -> None:
    for data in (b"", b"\0\0abc", bytes(range(256))):
        assert b58decode(b58encode(data)) == data
    with pytest.raises(BadRequestError, match="base58btc"):
        b58decode("0OIl")
    with pytest.raises(BadRequestError, match="Ed25519 Multikey"):
        ed25519_from_multikey("z" + b58encode(b"\x12\x00" + bytes(32)))
