"""End-to-end fixtures: the real app on a real HTTP server, driven by Debian's headless Chromium.

    live_server      the app (tests/conftest.py's `app`, same database) served on 127.0.0.1;
                     tables are emptied after each test, like `db_app`. `live_server.session()`
                     opens a session for seeding; `live_server.url` is the base URL.
    school           build_school_world() + add_school_accounts() (tests/factories.py): P1, P2
                     (pupils of 4年1組), P3 (4年2組), T1 and T2 (their teachers), adminA...;
                     every password is PASSWORD. {"emails", "ids", "classes"} as in tests/web.
    browser          one Chromium per test session (skipped locally without it; fails in CI).
    page             a fresh context per test: 10-inch tablet, ja-JP, Asia/Tokyo, base_url set,
                     so page.goto("/sign-in") works.
    new_page         new_page("tablet" | "phone") -> another page with its own cookies (a second
                     person at the same time, or the phone layout).
    sign_in          sign_in(page, "P1") -> signs in through the real form and waits for home.
    sign_out         sign_out(page) -> the page's sign-out button, then waits for /sign-in.
    tab_to           tab_to(page, locator) -> presses Tab until the locator has the focus.
    shoot            shoot(page, "home") -> screenshots/home-tablet.png (full page, for review).
    check_a11y       check_a11y(page) -> axe-core; fails on serious or critical violations.
    png()            a real PNG to upload: page.set_input_files("input[type=file]", png()).
    image_width(img) waits for a (lazy) <img> to load; its natural width, 0 if broken.

Every test here is marked `e2e`. A page that throws a JavaScript error, asks for anything outside
the app (a CDN, a web font) or gets a 5xx answer fails its test.
"""

from __future__ import annotations

import os
import struct
import threading
import traceback
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import argon2
import pytest
from argon2 import PasswordHasher
from axe_playwright_python.sync_playwright import Axe
from flask import Flask, got_request_exception, request_finished
from playwright.sync_api import (
    Browser,
    BrowserContext,
    FilePayload,
    Locator,
    Page,
    Playwright,
    Route,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, make_server

from app.db import new_session
from records.identity import accounts
from tests.conftest import SERVICE_URL, need_service, repo_root
from tests.factories import PASSWORD, add_school_accounts, build_school_world

E2E_DIR = Path(__file__).resolve().parent
CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = repo_root() / "screenshots"

Form = Literal["tablet", "phone"]
# A 10-inch tablet in landscape (the GIGA devices most pupils hold) and a phone (parents).
FORMS: dict[Form, dict[str, Any]] = {
    "tablet": {"viewport": {"width": 1180, "height": 820}, "has_touch": True},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}
# Fail fast: a missing element costs 5 seconds, not Playwright's default 30.
TIMEOUT_MS = 5_000
# axe-core impacts that fail a test; the others are printed.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember whether the test body failed, so its pages are photographed for the log."""
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


# --- the server -------------------------------------------------------------------------------


@dataclass
class _Serving:
    server: BaseWSGIServer
    url: str
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: Flask

    def session(self) -> AbstractContextManager[Session]:
        """A session of its own for seeding (commit it: the server reads on other connections)."""
        return _app_session(self.app)


@contextmanager
def _app_session(app: Flask) -> Iterator[Session]:
    with app.app_context(), new_session() as session:
        yield session


@pytest.fixture(scope="session")
def _serving(app: Flask) -> Iterator[_Serving]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = _Serving(server, f"http://127.0.0.1:{server.server_port}")

    def on_exception(_sender: Flask, exception: BaseException, **_: Any) -> None:
        serving.problems.append("".join(traceback.format_exception(exception)))

    def on_response(_sender: Flask, response: Any, **_: Any) -> None:
        if response.status_code >= 500:
            serving.problems.append(f"{response.status} {response.get_data(as_text=True)[:500]}")

    # Signals hold weak references: these closures live as long as this fixture's frame.
    got_request_exception.connect(on_exception, app)
    request_finished.connect(on_response, app)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield serving
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    got_request_exception.disconnect(on_exception, app)
    request_finished.disconnect(on_response, app)


@pytest.fixture
def live_server(db_app: Flask, _serving: _Serving) -> Iterator[LiveServer]:
    """The app over HTTP; tables are emptied after the test (db_app), once the browser is gone."""
    _serving.problems.clear()
    yield LiveServer(_serving.url, db_app)
    problems, _serving.problems[:] = list(_serving.problems), []
    if problems:
        pytest.fail("the server answered with an error:\n\n" + "\n\n".join(problems), pytrace=False)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2's cheapest parameters while e2e tests run: the production cost (64 MiB, ~0.1-0.5 s
    per hash) would make each seeded account and each sign-in the slowest step of a test.
    The server runs in this process, so signing in through the browser verifies cheaply too."""
    monkeypatch.setattr(
        accounts, "_HASHER", PasswordHasher.from_parameters(argon2.profiles.CHEAPEST)
    )


@pytest.fixture
def school(live_server: LiveServer) -> dict[str, Any]:
    """build_school_world() with accounts (tests/factories.py), shaped like tests/web's `school`:
    {"emails": name -> e-mail, "ids": name -> person public id, "classes": "4-1" -> class id}.
    Names: P1, P2 (4年1組), P3 (4年2組), T1 (teaches 4-1), T2 (4-2), adminA, adminB, analyst,
    root; every password is PASSWORD."""
    with live_server.session() as session:
        world = build_school_world(session, SERVICE_URL)
        emails = add_school_accounts(session, world)
        ids = {name: person.public_id for name, person in world["people"].items()}
        classes = {code: klass.id for code, klass in world["classes"].items()}
        session.commit()
    return {"emails": emails, "ids": ids, "classes": classes}


def png(
    width: int = 320, height: int = 240, rgb: tuple[int, int, int] = (70, 140, 90)
) -> FilePayload:
    """A real PNG (a colour fading to white) for upload fields: page.set_input_files(sel, png())."""
    rows = b"".join(
        b"\x00" + bytes(c + (255 - c) * y // height for c in rgb) * width for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
    return {"name": "photo.png", "mimeType": "image/png", "buffer": data + chunk(b"IEND", b"")}


def image_width(image: Locator) -> int:
    """Scrolls a (possibly lazy) <img> into view, waits until it has loaded and returns its
    natural width: 0 means the browser could not show it."""
    image.scroll_into_view_if_needed()
    handle = image.element_handle()
    image.page.wait_for_function("img => img.complete", arg=handle)
    width: int = image.evaluate("img => img.naturalWidth")
    return width


# --- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        need_service("chromium", f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    # Playwright passes --no-sandbox itself (chromium_sandbox=False), which running as root needs.
    launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    yield launched
    launched.close()


@dataclass
class _Watch:
    """What a page did that fails the test: JavaScript errors, requests leaving the app."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


@pytest.fixture
def new_page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """new_page(form="tablet") -> a page in a fresh context (its own cookies), closed after."""
    contexts: list[BrowserContext] = []
    pages: list[Page] = []
    watch = _Watch()

    def make(form: Form = "tablet") -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            locale="ja-JP",
            timezone_id="Asia/Tokyo",
            **FORMS[form],
        )
        context.set_default_timeout(TIMEOUT_MS)

        def leave_app(route: Route) -> None:
            watch.outside.append(route.request.url)
            route.abort()

        context.route(lambda url: not url.startswith(live_server.url), leave_app)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: watch.errors.append(f"{page.url}: {exc}"))
        pages.append(page)
        return page

    yield make
    if request.node.stash.get(_FAILED, False):
        for n, page in enumerate(pages):
            with suppress(PlaywrightError):  # a crashed page has nothing to show
                _screenshot(page, f"{request.node.name}-{n}", "failures")
    for context in contexts:
        context.close()
    if watch.errors:
        pytest.fail("JavaScript errors on the page:\n" + "\n".join(watch.errors), pytrace=False)
    if watch.outside:
        pytest.fail(
            "the page asked for resources outside the app (school networks filter CDNs; "
            "serve them from the app):\n" + "\n".join(sorted(set(watch.outside))),
            pytrace=False,
        )


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A 10-inch tablet page (1180x820), Japanese locale, Tokyo time; goto("/path") works."""
    return new_page("tablet")


@pytest.fixture
def phone_page(new_page: Callable[..., Page]) -> Page:
    """A phone page (390x844, mobile, touch); same base URL and locale as `page`."""
    return new_page("phone")


# Found by what they do, not by their words, so the pages can be reworded and translated.
SIGN_IN_FORM = "form[action$='/sign-in']"
SIGN_OUT_BUTTON = "form[action$='/sign-out'] [type=submit]"


def _sign_in(page: Page, who: str, password: str = PASSWORD) -> None:
    email = who if "@" in who else f"{who.lower()}@school.example.jp"
    page.goto("/sign-in")
    form = page.locator(SIGN_IN_FORM)
    form.locator("#email").fill(email)
    form.locator("#password").fill(password)
    with page.expect_response(
        lambda answer: answer.request.method == "POST" and answer.url.endswith("/sign-in")
    ) as posted:
        form.locator("[type=submit]").click()
    if posted.value.status != 302:
        page.wait_for_load_state()
        alert = page.get_by_role("alert")
        reason = alert.inner_text() if alert.count() else "(no message)"
        pytest.fail(f"could not sign in as {email}: {posted.value.status} {reason}", pytrace=False)
    page.wait_for_url(lambda url: not url.endswith("/sign-in"))


@pytest.fixture
def sign_in() -> Callable[..., None]:
    """sign_in(page, "P1") (a name from `school`) or sign_in(page, email, password): through the
    real form; returns once the browser has left the sign-in page."""
    return _sign_in


def _sign_out(page: Page) -> None:
    page.locator(SIGN_OUT_BUTTON).click()
    page.wait_for_url(lambda url: url.endswith("/sign-in"))


@pytest.fixture
def sign_out() -> Callable[[Page], None]:
    """sign_out(page): presses the page's sign-out button and waits for the sign-in page."""
    return _sign_out


def _tab_to(page: Page, target: Locator, most: int = 25) -> None:
    """Press Tab until `target` has the focus; fails listing the stops passed on the way."""
    target.wait_for(state="visible")
    passed: list[str] = []
    for _ in range(most):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
        passed.append(
            page.evaluate(
                "() => { const e = document.activeElement;"
                " return e ? e.outerHTML.slice(0, 80) : 'nothing'; }"
            )
        )
    pytest.fail(
        f"{most} presses of Tab never reached {target}; stops:\n" + "\n".join(passed),
        pytrace=False,
    )


@pytest.fixture
def tab_to() -> Callable[..., None]:
    """tab_to(page, locator): keyboard only, Tab until the locator has the focus."""
    return _tab_to


# --- screenshots and accessibility ------------------------------------------------------------


def _form_of(page: Page) -> str:
    size = page.viewport_size
    return "phone" if size is not None and size["width"] < 600 else "tablet"


def _screenshot(page: Page, name: str, folder: str = "") -> Path:
    path = SCREENSHOTS / folder / f"{name}-{_form_of(page)}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
    return path


@pytest.fixture
def shoot() -> Callable[[Page, str], Path]:
    """shoot(page, "home") -> screenshots/home-tablet.png (or -phone), full page, for review."""
    return _screenshot


_AXE = Axe()


def _describe(violation: dict[str, Any]) -> str:
    lines = [
        f"[{violation['impact']}] {violation['id']}: {violation['help']}",
        f"    {violation['helpUrl']}",
    ]
    for node in violation["nodes"]:
        target = " ".join(str(part) for part in node["target"])
        lines.append(f"    at {target}")
        lines.append(f"       {node['html'][:200]}")
        summary = node.get("failureSummary") or ""
        lines.extend(f"       {line}" for line in summary.splitlines())
    return "\n".join(lines)


def _check_a11y(page: Page) -> list[dict[str, Any]]:
    """axe-core on the page as it is now; fails on serious or critical violations, prints the
    rest. Returns every violation, for tests that want to look closer."""
    violations: list[dict[str, Any]] = _AXE.run(page).response["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    for violation in violations:
        if violation not in blocking:
            print(f"axe (not failing) on {page.url}:\n{_describe(violation)}")
    if blocking:
        report = "\n".join(_describe(v) for v in blocking)
        pytest.fail(f"accessibility violations on {page.url}:\n{report}", pytrace=False)
    return violations


@pytest.fixture
def check_a11y() -> Callable[[Page], list[dict[str, Any]]]:
    """check_a11y(page): axe-core; fails on serious/critical violations with rule, help, target."""
    return _check_a11y
