"""CSRF protection for every form (flask-wtf). The LRS (Basic auth) and token-authenticated API
calls are exempt: no browser sends those credentials on its own."""

from __future__ import annotations

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
