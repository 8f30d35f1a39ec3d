"""Configuration defaults. Order: these -> instance/config.py -> ASHIATO_* env (or test_config)."""

from __future__ import annotations


class Defaults:
    # None means "the embedded default": SQLite under instance/ (set in create_app).
    DATABASE_URL: str | None = None
    # None means background jobs run in-process.
    REDIS_URL: str | None = None
    # None means: read or create instance/secret_key (development); production must set it.
    SECRET_KEY: str | None = None
    # Key of the HMAC that protects LRS credential secrets; defaults to SECRET_KEY.
    CREDENTIAL_HASH_KEY: str | None = None
    # Key of the access log's hash chain (records.audit); defaults to one derived from SECRET_KEY.
    AUDIT_KEY: str | None = None
    # Production refuses to start without SECRET_KEY and DATABASE_URL.
    PRODUCTION = False
    # The service's public base URL (homePage of our accounts); None = the request's host URL.
    PUBLIC_URL: str | None = None
    # Largest request body accepted (413 beyond); statements with attachments count in full.
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    # Deepest JSON nesting accepted in a statement or document body.
    MAX_JSON_DEPTH = 64
    # Concurrent statement writes share one transaction (see app/group_commit.py).
    GROUP_COMMIT = True
    # Requests one LRS credential may send per minute (0: no limit); beyond it, 429.
    LRS_REQUESTS_PER_MINUTE = 60_000  # 1,000 a second: above any school, below a flood
    # Most statements returned in one page of GET /xapi/statements.
    LRS_PAGE_SIZE = 100
    # Sign-in lasts a school day at most; sensitive steps ask for the password again
    # (app/web/reauth.py). No "remember me" cookie.
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    REMEMBER_COOKIE_DURATION = 0
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    JSON_AS_ASCII = False
    # Days a built transfer package stays downloadable (issue 5).
    TRANSFER_EXPORT_DAYS = 7
    # Largest transfer package an import accepts (413 beyond); uploads are stored in pieces.
    TRANSFER_MAX_PACKAGE_BYTES = 2 * 1024**3
