"""The in-memory record of recently authenticated credentials (records.credentials)."""

from __future__ import annotations

from datetime import timedelta

from records.credentials import CredentialInfo, RecentCredentials, hash_secret

HASH_KEY = b"server-side key"
INFO = CredentialInfo(7, "k" * 32, 1, "school", "device", frozenset({"all"}), touched=True)


def test_a_remembered_credential_is_found_with_the_right_secret_only() -> None:
    recent = RecentCredentials()
    recent.remember(INFO, hash_secret("right", HASH_KEY))

    found = recent.get(INFO.key, hash_secret("right", HASH_KEY))

    assert found is not None
    assert found.id == INFO.id
    assert not found.touched  # its use was committed when it was authenticated
    assert recent.get(INFO.key, hash_secret("wrong", HASH_KEY)) is None
    assert recent.get("other-key", hash_secret("right", HASH_KEY)) is None


def test_entries_expire() -> None:
    recent = RecentCredentials(ttl=timedelta(0))
    recent.remember(INFO, hash_secret("right", HASH_KEY))

    assert recent.get(INFO.key, hash_secret("right", HASH_KEY)) is None


def test_a_full_table_starts_afresh() -> None:
    recent = RecentCredentials(max_entries=1)
    other = CredentialInfo(8, "o" * 32, 1, "school", "device", frozenset({"all"}))
    recent.remember(INFO, "h1")
    recent.remember(other, "h2")

    assert recent.get(INFO.key, "h1") is None
    assert recent.get(other.key, "h2") is not None
