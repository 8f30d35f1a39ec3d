"""In a real browser: after a teacher opened a pupil's portfolio, the pupil finds it on their
'who looked at my data' page (reached from the menu). Screenshot saved for review."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect


def test_pupil_sees_who_looked(
    page: Page,
    new_page: Callable[..., Page],
    school: dict[str, Any],
    sign_in: Callable[..., None],
    shoot: Callable[[Page, str], Path],
    check_a11y: Callable[[Page], list[dict[str, Any]]],
) -> None:
    teacher = new_page()
    sign_in(teacher, "T1")
    teacher.goto(f"/portfolio/people/{school['ids']['P1']}")
    expect(teacher.locator("h1")).to_contain_text("山田 花子")

    sign_in(page, "P1")
    page.locator("nav.main a[href$='/trust/access-log']").click()
    entry = page.locator(".access-log > li").first
    expect(entry).to_contain_text("佐藤 一郎")
    expect(entry).to_contain_text("学びのページ")
    expect(entry).to_contain_text("授業や指導のため")
    shoot(page, "who-looked-at-my-data")
    check_a11y(page)
