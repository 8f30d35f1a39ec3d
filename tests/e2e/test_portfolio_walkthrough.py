"""The issue's walkthrough in a real browser: a pupil signs in, logs an activity with a photo,
writes a reflection, sees both on the timeline and in a chart; their teacher sees it in the
class view and leaves feedback, which the pupil then sees; a teacher of another class cannot
open the portfolio. Screenshots of every main page at tablet size (and the home page on a
phone) are saved under screenshots/ for review; axe-core checks each page."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import image_width, png

Shoot = Callable[[Page, str], Path]
CheckA11y = Callable[[Page], list[dict[str, Any]]]


def test_pupil_teacher_and_outsider_walkthrough(
    page: Page,
    new_page: Callable[..., Page],
    school: dict[str, Any],
    sign_in: Callable[..., None],
    shoot: Shoot,
    check_a11y: CheckA11y,
) -> None:
    pupil_id = school["ids"]["P1"]

    # --- the pupil logs an activity with a photo -------------------------------------------
    sign_in(page, "P1")
    expect(page).to_have_url(re.compile(r"/portfolio$"))
    page.goto("/portfolio/new?kind=activity")
    shoot(page, "entry-form")
    check_a11y(page)
    form = page.locator("#entry-form")
    form.locator("#title").fill("リコーダーのれんしゅう")
    form.locator("#subject").select_option("music")
    form.locator("#minutes").fill("25")
    form.locator("#text").fill("「きらきら星」がさいごまでふけた")
    form.locator("#photo").set_input_files(png())
    form.locator("[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/portfolio$"))
    expect(page.get_by_role("status")).to_be_visible()  # "saved" message
    entry = page.locator(".timeline > li", has_text="リコーダーのれんしゅう")
    expect(entry).to_contain_text("25分")
    expect(entry).to_contain_text("音楽")
    assert image_width(entry.locator("img")) == 320  # the photo really comes back

    # --- and writes a reflection -------------------------------------------------------------
    page.goto("/portfolio/new?kind=reflection")
    form = page.locator("#entry-form")
    form.locator("#prompt").select_option("learned")
    form.locator("#title").fill("分数のたし算")
    form.locator("#subject").select_option("arithmetic")
    form.locator("#text").fill("分母をそろえてから たす")
    form.locator("[type=submit]").click()
    reflection = page.locator(".timeline > li", has_text="分数のたし算")
    expect(reflection).to_contain_text("分母をそろえてから たす")
    expect(reflection).to_contain_text("ふりかえった")

    # --- both show in the charts ---------------------------------------------------------------
    subjects_chart = page.locator("#chart-subjects")
    expect(subjects_chart.locator(".main-svg").first).to_be_visible()
    expect(subjects_chart).to_contain_text("音楽")  # the bar of the logged 25 minutes
    expect(page.locator("#chart-calendar .main-svg").first).to_be_visible()
    page.get_by_text("表で見る").nth(1).click()  # the subject chart's numbers as a table
    expect(page.locator("table", has_text="音楽")).to_contain_text("25")
    shoot(page, "pupil-home")
    check_a11y(page)
    page.goto(f"/portfolio/people/{pupil_id}/history?kind=mine")
    expect(page.locator(".timeline > li")).to_have_count(2)
    shoot(page, "pupil-history")
    check_a11y(page)

    phone = new_page("phone")
    sign_in(phone, "P1")
    expect(phone.locator(".timeline > li").first).to_be_visible()
    overflow = phone.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False  # no sideways scrolling on a phone
    shoot(phone, "pupil-home")

    # --- the teacher sees it in the class view and leaves feedback -------------------------
    teacher = new_page()
    sign_in(teacher, "T1")
    expect(teacher).to_have_url(re.compile(r"/classes$"))
    teacher.get_by_role("link", name="4年1組").click()
    pupil_card = teacher.locator(".pupils li", has_text="山田 花子")
    expect(pupil_card).to_contain_text("今週")
    expect(teacher.locator(".timeline")).to_contain_text("分母をそろえてから たす")
    shoot(teacher, "class-view")
    check_a11y(teacher)
    pupil_card.get_by_role("link").click()
    expect(teacher.locator("h1")).to_contain_text("山田 花子")
    item = teacher.locator(".timeline > li", has_text="リコーダーのれんしゅう")
    item.locator("summary").click()
    item.locator("textarea").fill("さいごまでふけたね。すばらしい！")
    item.locator("button[type=submit]").first.click()
    expect(teacher.get_by_role("status")).to_be_visible()
    shoot(teacher, "teacher-pupil-portfolio")
    check_a11y(teacher)

    page.goto("/portfolio")
    feedback = page.locator(".timeline > li", has_text="リコーダーのれんしゅう").locator(
        ".feedback"
    )
    expect(feedback).to_contain_text("さいごまでふけたね。すばらしい！")
    expect(feedback).to_contain_text("佐藤 一郎")

    # --- a teacher of another class cannot open it -------------------------------------------
    outsider = new_page()
    sign_in(outsider, "T2")
    answer = outsider.goto(f"/portfolio/people/{pupil_id}")
    assert answer is not None
    assert answer.status == 403
    expect(outsider.get_by_role("alert")).to_be_visible()
    expect(outsider.locator("body")).not_to_contain_text("リコーダー")
    shoot(outsider, "forbidden")
    check_a11y(outsider)


def test_english_pages_for_a_pupil_who_chooses_english(
    page: Page, school: dict[str, Any], sign_in: Callable[..., None], shoot: Shoot
) -> None:
    sign_in(page, "P1")
    page.locator("form.lang-switch button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("My learning")
    page.goto("/portfolio/new?kind=goal")
    expect(page.locator("label[for=title]")).to_have_text("Your goal")
    shoot(page, "entry-form-english")
