"""Re-authentication for sensitive operations (zero trust): approving an erasure, consenting
on a pupil's behalf, creating credentials, exporting. The password must have been entered in
the last few minutes; otherwise the person is asked for it again and sent back."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required

from app.db import get_session
from app.web.common import local_path, viewer
from records.errors import AuthenticationError
from records.identity import accounts

bp = Blueprint("reauth", __name__)
FRESH_SECONDS = 10 * 60
_KEY = "authenticated_at"


def mark_authenticated() -> None:
    """Called when the password was just checked (sign-in or re-authentication)."""
    session[_KEY] = int(time.time())


def recently_authenticated() -> bool:
    return int(time.time()) - int(session.get(_KEY, 0)) <= FRESH_SECONDS


def sensitive(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Guard a view: without a recent password, ask for it (GET comes back here after)."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if recently_authenticated():
            return view(*args, **kwargs)
        back = request.full_path if request.method == "GET" else (request.referrer or "/")
        return redirect(url_for("web.reauth.confirm", next=back))

    return guarded


@bp.route("", methods=["GET", "POST"])
@login_required
def confirm() -> ResponseReturnValue:
    next_page = local_path(request.values.get("next", "")) if request.values.get("next") else "/"
    if request.method == "GET":
        return render_template("reauth.html", next_page=next_page, error=None)
    db = get_session()
    try:
        accounts.sign_in(
            db, viewer().email, request.form.get("password", ""), request.remote_addr or ""
        )
    except accounts.TooManyAttemptsError:
        db.commit()
        return render_template(
            "reauth.html", next_page=next_page, error=gettext("Too many tries. Wait 15 minutes.")
        ), 429
    except AuthenticationError:
        db.commit()
        return render_template(
            "reauth.html", next_page=next_page, error=gettext("The password is not right.")
        ), 401
    db.commit()
    mark_authenticated()
    return redirect(next_page)
