"""Browser forms to domain inputs, and the domain's entry problems in the pupil's language."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import date

from flask_babel import gettext
from werkzeug.datastructures import FileStorage, ImmutableMultiDict, MultiDict

from records.portfolio.entries import Artifact, EntryInput, Problem


def entry_from_form(
    form: MultiDict[str, str] | ImmutableMultiDict[str, str],
    files: MultiDict[str, FileStorage] | ImmutableMultiDict[str, FileStorage],
    language: str,
) -> tuple[EntryInput, list[Problem]]:
    """The entry the form describes, and problems the form itself has (numbers, dates)."""
    problems: list[Problem] = []
    minutes: int | None = None
    raw_minutes = form.get("minutes", "").strip()
    if raw_minutes:
        try:
            minutes = int(raw_minutes)
        except ValueError:
            problems.append(Problem("minutes", {"max": 24 * 60}))
    happened_on: date | None = None
    raw_day = form.get("happened_on", "").strip()
    if raw_day:
        try:
            happened_on = date.fromisoformat(raw_day)
        except ValueError:
            problems.append(Problem("date"))
    artifacts = tuple(
        Artifact(upload.read(), upload.filename or "file")
        for name in ("artifact", "photo")
        for upload in files.getlist(name)
        if upload and upload.filename
    )
    drawing = form.get("drawing", "")
    if drawing.startswith("data:image/png;base64,"):
        try:
            artifacts += (Artifact(base64.b64decode(drawing.split(",", 1)[1]), "drawing.png"),)
        except (binascii.Error, ValueError):
            problems.append(Problem("file_type", {"name": "drawing.png"}))
    entry = EntryInput(
        kind=form.get("kind", ""),
        title=form.get("title", ""),
        subject=form.get("subject") or None,
        minutes=minutes,
        text=form.get("text") or None,
        prompt=form.get("prompt") or None,
        happened_on=happened_on,
        artifacts=artifacts,
        language=language,
    )
    return entry, problems


def problem_text(problem: Problem) -> str:
    params = dict(problem.params)
    texts: dict[str, Callable[[], str]] = {
        "kind": lambda: gettext("Choose what kind of entry this is."),
        "title_empty": lambda: gettext("Write what it was about."),
        "title_long": lambda: gettext(
            "The title is too long (at most %(max)s characters).", **params
        ),
        "text_long": lambda: gettext(
            "The text is too long (at most %(max)s characters).", **params
        ),
        "text_empty": lambda: gettext("Write your reflection."),
        "subject": lambda: gettext("Choose a subject from the list."),
        "prompt": lambda: gettext("Choose a question from the list."),
        "minutes": lambda: gettext(
            "Time spent must be a number of minutes from 1 to %(max)s.", **params
        ),
        "date": lambda: gettext("Write the date like 2026-11-27."),
        "future": lambda: gettext("The date cannot be in the future."),
        "no_pupils": lambda: gettext("Choose at least one pupil."),
        "no_file": lambda: gettext("Add a photo, a drawing or a PDF."),
        "too_many_files": lambda: gettext("You can add at most %(max)s files.", **params),
        "file_large": lambda: gettext("%(name)s is too large (at most 10 MB).", **params),
        "file_type": lambda: gettext(
            "%(name)s is not a photo (JPEG, PNG, GIF, WebP) or a PDF.", **params
        ),
    }
    wording = texts.get(problem.code)
    return str(wording()) if wording else problem.message
