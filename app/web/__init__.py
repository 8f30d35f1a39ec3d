"""Browser pages: sign-in, the pupil's portfolio, teachers' classes, school admin screens.

Every page is under the `web` blueprint, so errors on them render as pages (app/errors.py)
and every template gets the menu for the signed-in account's roles.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from flask_babel import format_datetime

from app.auth import current_account
from app.web.admin import bp as admin_bp
from app.web.boards import bp as boards_bp
from app.web.classes import bp as classes_bp
from app.web.common import locale, menu
from app.web.errors import error_page
from app.web.portfolio import bp as portfolio_bp
from app.web.reauth import bp as reauth_bp
from app.web.shared import bp as shared_bp
from app.web.transfers import bp as transfers_bp
from app.web.trust import bp as trust_bp
from app.web.views import bp

bp.register_blueprint(portfolio_bp, url_prefix="/portfolio")
bp.register_blueprint(classes_bp, url_prefix="/classes")
bp.register_blueprint(trust_bp, url_prefix="/trust")
bp.register_blueprint(shared_bp, url_prefix="/share")
bp.register_blueprint(reauth_bp, url_prefix="/confirm-password")
bp.register_blueprint(admin_bp, url_prefix="/admin")
bp.register_blueprint(boards_bp, url_prefix="/boards")
bp.register_blueprint(transfers_bp, url_prefix="/transfers")


def init_app(app: Flask) -> None:
    app.extensions["error_page"] = error_page

    @app.template_filter("jst")
    def _jst(moment: datetime) -> str:
        """A moment as people in Japan read it, in the page's language."""
        pattern = "y年M月d日(E) H:mm" if locale() == "ja" else "EEE d MMM y, H:mm"
        return str(format_datetime(moment, pattern))

    @app.context_processor
    def _page_context() -> dict[str, Any]:
        account = current_account()
        return {
            "current_account": account,
            "current_locale": locale(),
            "nav_links": menu(account),
        }


__all__ = ["bp", "init_app"]
