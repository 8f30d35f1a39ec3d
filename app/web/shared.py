"""What a share link shows to its recipient (who need not be of the pupil's school): the
entries the pupil chose, after sign-in or the one-time code, while the link and the pupil's
consent last. Every view is in the pupil's access log."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.auth import current_account
from app.db import get_session
from app.web.common import locale
from records.errors import ForbiddenError
from records.trust.sharing import open_share, requirement_of

bp = Blueprint("shared", __name__)


@bp.route("/<token>", methods=["GET", "POST"])
def view(token: str) -> ResponseReturnValue:
    session = get_session()
    requires = requirement_of(session, token)
    if requires == "sign_in" and current_account() is None:
        return redirect(url_for("web.sign_in", next=request.path))
    if requires == "code" and request.method == "GET":
        return render_template("trust/share_code.html", token=token, wrong=False)
    try:
        shown = open_share(session, token, current_account(), request.form.get("code"), locale())
    except ForbiddenError:
        session.commit()  # a wrong code counts towards locking the link
        if requires == "code":
            return render_template("trust/share_code.html", token=token, wrong=True), 403
        raise
    session.commit()
    response = render_template("trust/shared.html", shown=shown)
    return response, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
