"""Security headers on every answer (zero trust: the browser is told exactly what may run).

No inline scripts anywhere (scripts are static files of ours; chart data travels as JSON in
`<script type="application/json">`, which browsers never execute). Styles may be inline:
plotly sets them on its own elements. A view that needs another policy (an LTI form posted to
a platform, a frame inside an LMS) sets its own header first and this leaves it alone.
"""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "geolocation=(), microphone=(), payment=()")
        if request.is_secure or app.config["PRODUCTION"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
