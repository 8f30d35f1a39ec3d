"""Sign-in and sign-out (CSRF-protected forms, throttled, logged) and the signed-in home page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required, login_user, logout_user

from app.auth import SignedIn, current_account
from app.db import get_session
from records.errors import AuthenticationError
from records.identity import accounts

bp = Blueprint("web", __name__)


@bp.get("/")
def home() -> ResponseReturnValue:
    account = current_account()
    if account is None:
        return redirect(url_for("web.sign_in"))
    return render_template("home.html", account=account)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("sign_in.html", error=None, email="")
    email = request.form.get("email", "")
    session = get_session()
    try:
        account = accounts.sign_in(
            session, email, request.form.get("password", ""), request.remote_addr or ""
        )
    except accounts.TooManyAttemptsError as exc:
        session.commit()  # the throttling event is kept
        return render_template("sign_in.html", error=exc.message, email=email), 429
    except AuthenticationError as exc:
        session.commit()  # the failed attempt is kept: it counts towards throttling
        return render_template("sign_in.html", error=exc.message, email=email), 401
    session.commit()
    login_user(SignedIn(account))
    return redirect(url_for("web.home"))


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
