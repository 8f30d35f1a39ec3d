"""Zero trust in the browser: every answer carries the security headers, and no template has
an inline script (the Content-Security-Policy would refuse it)."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from tests.conftest import repo_root
from tests.web.conftest import BASE

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)


def test_pages_and_apis_carry_the_security_headers(client: FlaskClient) -> None:
    for path in ("/sign-in", "/api/v1/openapi.json", "/xapi/about", "/no-such-page"):
        headers = client.get(f"{BASE}{path}").headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
        assert "frame-ancestors 'none'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Strict-Transport-Security"].startswith("max-age=")  # HTTPS request


def test_no_template_has_an_inline_script_or_event_handler() -> None:
    templates = Path(repo_root(), "app", "templates")
    offenders = []
    for template in sorted(templates.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER):
            for found in pattern.finditer(text):
                offenders.append(f"{template.relative_to(templates)}: {found.group(0)}")
    assert offenders == [], "move these into app/static/*.js:\n" + "\n".join(offenders)
