"""Signing in and out in a real browser: the real form (with its CSRF token), keyboard only,
a wrong password, Japanese pages, and their accessibility at tablet and phone size."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import SIGN_IN_FORM, SIGN_OUT_BUTTON, LiveServer
from tests.factories import PASSWORD

Shoot = Callable[[Page, str], Path]
CheckA11y = Callable[[Page], list[dict[str, Any]]]
# Hiragana, katakana or kanji: the text is Japanese, whatever its wording.
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def test_pupil_signs_in_through_the_form(
    page: Page,
    live_server: LiveServer,
    school: dict[str, Any],
    shoot: Shoot,
    check_a11y: CheckA11y,
) -> None:
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/sign-in")  # signed out: sent to sign in
    form = page.locator(SIGN_IN_FORM)
    expect(form.locator("input[name=csrf_token]")).to_have_value(re.compile(".{20,}"))
    shoot(page, "sign-in")
    check_a11y(page)

    form.get_by_role("textbox", name=re.compile("メール|mail", re.IGNORECASE)).fill(
        school["emails"]["P1"]
    )
    form.locator("#password").fill(PASSWORD)
    form.locator("[type=submit]").click()

    expect(page).not_to_have_url(re.compile(r"/sign-in$"))
    expect(page.locator(SIGN_OUT_BUTTON)).to_be_visible()
    shoot(page, "home")
    check_a11y(page)


def test_pages_are_in_japanese(
    page: Page, school: dict[str, Any], sign_in: Callable[..., None]
) -> None:
    page.goto("/sign-in")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page).to_have_title(JAPANESE)
    expect(page.locator("h1")).to_have_text(JAPANESE)
    for label in page.locator("label").all():
        expect(label).to_have_text(JAPANESE)
    expect(page.locator(f"{SIGN_IN_FORM} [type=submit]")).to_have_text(JAPANESE)

    sign_in(page, "P1")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("h1")).to_have_text(JAPANESE)
    expect(page.locator(SIGN_OUT_BUTTON)).to_have_text(JAPANESE)


def test_sign_in_and_out_with_the_keyboard_only(
    page: Page,
    live_server: LiveServer,
    school: dict[str, Any],
    tab_to: Callable[..., None],
) -> None:
    page.goto("/sign-in")
    # The first stop skips the header; following it puts the next Tab in the main content.
    page.keyboard.press("Tab")
    skip = page.locator("a[href='#main']")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # shown when focused, so sighted keyboard users see it
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator("#email")).to_be_focused()
    page.keyboard.type(school["emails"]["P1"])
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).not_to_have_url(re.compile(r"/sign-in$"))

    tab_to(page, page.locator(SIGN_OUT_BUTTON))
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/sign-in")


def test_a_wrong_password_shows_the_error_and_keeps_the_address(
    page: Page,
    live_server: LiveServer,
    school: dict[str, Any],
    shoot: Shoot,
    check_a11y: CheckA11y,
) -> None:
    page.goto("/sign-in")
    page.locator("#email").fill(school["emails"]["P1"])
    page.locator("#password").fill("not the password")
    with page.expect_response(lambda answer: answer.request.method == "POST") as posted:
        page.locator(f"{SIGN_IN_FORM} [type=submit]").click()
    assert posted.value.status == 401

    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).not_to_be_empty()
    expect(page).to_have_url(f"{live_server.url}/sign-in")
    expect(page.locator("#email")).to_have_value(school["emails"]["P1"])
    expect(page.locator("#password")).to_have_value("")
    shoot(page, "sign-in-error")
    check_a11y(page)

    page.goto("/")  # still signed out
    expect(page).to_have_url(f"{live_server.url}/sign-in")


def test_sign_out_ends_the_session(
    page: Page,
    live_server: LiveServer,
    school: dict[str, Any],
    sign_in: Callable[..., None],
    sign_out: Callable[[Page], None],
) -> None:
    sign_in(page, "T1")
    sign_out(page)
    expect(page).to_have_url(f"{live_server.url}/sign-in")
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/sign-in")


def test_sign_in_fits_a_phone(
    phone_page: Page,
    school: dict[str, Any],
    sign_in: Callable[..., None],
    shoot: Shoot,
    check_a11y: CheckA11y,
) -> None:
    phone_page.goto("/sign-in")
    overflow = phone_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the sign-in page scrolls sideways on a phone by {overflow}px"
    shoot(phone_page, "sign-in")
    check_a11y(phone_page)
    sign_in(phone_page, "P1")
    shoot(phone_page, "home")
