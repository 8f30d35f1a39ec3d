"""This service's public base URL: the homePage of every account we issue.

It must not change once people have identities, so production requires ASHIATO_PUBLIC_URL;
the embedded default falls back to http://localhost:5000/.
"""

from __future__ import annotations

from flask import current_app

FALLBACK = "http://localhost:5000/"


def public_url() -> str:
    configured: str | None = current_app.config.get("PUBLIC_URL")
    return (configured or FALLBACK).rstrip("/") + "/"
