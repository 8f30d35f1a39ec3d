"""Sign-in and sign-out (CSRF-protected forms, throttled, logged), the start page that sends
each account to its own pages, and the language switch."""

from __future__ import annotations

from functools import cache

import plotly
from flask import (
    Blueprint,
    Response,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as browser_session
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required, login_user, logout_user
from plotly.offline import get_plotlyjs

from app.auth import SignedIn, current_account
from app.db import get_session
from app.i18n import COOKIE, LOCALES
from app.web.common import local_path, menu
from app.web.reauth import mark_authenticated
from records.errors import AuthenticationError
from records.identity import accounts

bp = Blueprint("web", __name__)


@bp.get("/")
def home() -> ResponseReturnValue:
    account = current_account()
    if account is None:
        return redirect(url_for("web.sign_in"))
    links = menu(account)
    if links:
        return redirect(url_for(links[0][0]))
    return render_template("home.html", account=account)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    next_page = local_path(request.values.get("next", "")) if request.values.get("next") else ""
    if request.method == "GET":
        return render_template("sign_in.html", error=None, email="", next_page=next_page)
    email = request.form.get("email", "")
    session = get_session()
    try:
        account = accounts.sign_in(
            session, email, request.form.get("password", ""), request.remote_addr or ""
        )
    except accounts.TooManyAttemptsError:
        session.commit()  # the throttling event is kept
        message = gettext("Too many failed tries. Wait 15 minutes or ask your school admin.")
        return render_template("sign_in.html", error=message, email=email, next_page=next_page), 429
    except AuthenticationError:
        session.commit()  # the failed attempt is kept: it counts towards throttling
        message = gettext("The e-mail address or the password is not right.")
        return render_template("sign_in.html", error=message, email=email, next_page=next_page), 401
    session.commit()
    login_user(SignedIn(account))
    browser_session.permanent = True  # ends after PERMANENT_SESSION_LIFETIME (zero trust)
    mark_authenticated()
    return redirect(next_page or url_for("web.home"))


@bp.post("/sign-out")
@login_required
def sign_out() -> ResponseReturnValue:
    account = current_account()
    if account is not None:
        accounts.record_event(
            get_session(), "sign_out", account.id, account.email, request.remote_addr or ""
        )
        get_session().commit()
    logout_user()
    return redirect(url_for("web.sign_in"))


@bp.post("/language")
def language() -> ResponseReturnValue:
    """Switch the page language: saved on the account when signed in, in a cookie before."""
    chosen = request.form.get("lang", "")
    if chosen not in LOCALES:
        chosen = "ja"
    account = current_account()
    if account is not None:
        accounts.set_locale(get_session(), account.id, chosen)
        get_session().commit()
    response = make_response(redirect(local_path(request.form.get("next", ""))))
    response.set_cookie(
        COOKIE, chosen, max_age=365 * 24 * 3600, secure=True, httponly=True, samesite="Lax"
    )
    return response


@bp.get("/assets/plotly.min.js")
def plotly_js() -> ResponseReturnValue:
    """plotly.js from the plotly package itself: served by us, never from a CDN."""
    response = Response(_plotly_source(), mimetype="text/javascript")
    response.set_etag(f"plotly-{plotly.__version__}")
    response.cache_control.public = True
    response.cache_control.max_age = 7 * 24 * 3600
    return response.make_conditional(request)


@cache
def _plotly_source() -> str:
    source: str = get_plotlyjs()
    return source
