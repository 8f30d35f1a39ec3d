"""Error pages for people: a title and an explanation in the reader's language."""

from __future__ import annotations

from flask import current_app, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from app.web.common import locale


def error_page(status: int, message: str) -> ResponseReturnValue:
    titles = {
        400: (
            gettext("Something in the form needs fixing"),
            gettext("Please check what you entered and try again."),
        ),
        401: (gettext("Please sign in"), gettext("Sign in first to see this page.")),
        403: (
            gettext("You cannot open this page"),
            gettext(
                "This page belongs to someone else. You can see your own records, "
                "and teachers can see the pupils they teach now."
            ),
        ),
        404: (
            gettext("Page not found"),
            gettext("There is nothing here. It may have been withdrawn or moved."),
        ),
        405: (gettext("That did not work"), gettext("This page cannot be used that way.")),
        409: (
            gettext("Someone else changed this at the same time"),
            gettext("Please go back and try again."),
        ),
        413: (
            gettext("The file is too large"),
            gettext(
                "Please choose a smaller photo or file (up to %(mb)s MB in all).",
                mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
            ),
        ),
        429: (
            gettext("Too many tries"),
            gettext("Please wait 15 minutes and try again, or ask your school admin."),
        ),
        503: (gettext("Ashiato is busy"), gettext("Please try again in a moment.")),
    }
    title, explanation = titles.get(
        status, (gettext("Something went wrong"), gettext("Please try again in a moment."))
    )
    detail = message if locale() == "en" else None  # domain messages are written in English
    return render_template(
        "error.html", title=title, explanation=explanation, detail=detail
    ), status
