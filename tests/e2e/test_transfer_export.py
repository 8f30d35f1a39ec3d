"""In a real browser (issue 5): a pupil takes their portfolio with them. From the menu they
start an export, give their password again (a sensitive step), watch the progress on the
package's page (static/transfer.js polling the JSON API) until it is ready, and download the
zip. Screenshot saved for review."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.jobs import run_transfer_export
from app.web import reauth, transfers
from records.identity.accounts import load_account
from records.identity.models import Account
from records.portfolio.entries import EntryInput, write_entry
from tests.conftest import SERVICE_URL
from tests.factories import PASSWORD

REAUTH_AFTER_S = 3600


def test_pupil_exports_their_portfolio(
    page: Page,
    live_server: Any,
    school: dict[str, Any],
    sign_in: Callable[..., None],
    shoot: Callable[[Page, str], Path],
    check_a11y: Callable[[Page], list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    with live_server.session() as session:  # two entries to take along
        email = school["emails"]["P1"]
        pupil = load_account(
            session, session.scalars(select(Account.id).where(Account.email == email)).one()
        )
        for title, text in (("分数のたし算", "友だちに説明できた"), ("朝顔の観察", "つるが伸びた")):
            entry = EntryInput(kind="reflection", title=title, text=text, subject="science")
            write_entry(session, pupil, entry, SERVICE_URL, datetime.now(UTC).date())
        session.commit()
    sign_in(page, "P1")
    # An hour later (the server runs in this process): the password is no longer fresh.
    monkeypatch.setattr(reauth, "time", SimpleNamespace(time=lambda: time.time() + REAUTH_AFTER_S))
    # The job is held back (as if a worker were busy) so that the page has progress to follow.
    held: list[str] = []
    monkeypatch.setattr(transfers, "enqueue", lambda _queue, _path, *args: held.append(args[0]))

    page.locator("nav.main a[href$='/transfers']").click()
    page.locator("main a[href$='/transfers/exports/new']").click()
    page.wait_for_url("**/confirm-password**")
    page.locator("#password").fill(PASSWORD)
    page.locator("main form [type=submit]").click()
    expect(page.locator("main form [type=submit]")).to_be_visible()
    assert "/transfers/exports/new" in page.url
    page.locator("main form [type=submit]").click()

    progress = page.locator("[data-transfer-status]")
    expect(progress).to_be_visible()
    expect(progress.locator("[data-status-text]")).to_contain_text("開始待ち")
    assert held, "the export was not queued"
    shoot(page, "transfer-export-progress")
    check_a11y(page)
    with live_server.app.app_context():
        run_transfer_export(held[0])  # the worker gets to it; the page notices by itself

    download_link = page.locator("#download")
    expect(download_link).to_be_visible(timeout=15_000)
    expect(page.locator("h1")).to_contain_text("ダウンロードできます")
    expect(page.locator("#expires")).to_be_visible()
    expect(page.locator("#package-ready")).to_contain_text("記録 2 件")
    shoot(page, "transfer-export-ready")
    check_a11y(page)
    with page.expect_download() as downloading:
        download_link.click()
    saved = tmp_path / "package.zip"
    downloading.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        names = archive.namelist()
    assert any(name.endswith("/signature.jws") for name in names)
    assert any(name.endswith("/data/person.json") for name in names)
