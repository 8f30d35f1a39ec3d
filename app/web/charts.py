"""The pupil's charts as HTML fragments in the reader's language, each with its numbers as a
table for screen readers (analytics.learner_charts draws; this module words and renders)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext
from markupsafe import Markup

from analytics import learner_charts as lc
from app.web.common import locale
from records.portfolio import vocabulary
from records.portfolio.summary import LearningRow

# No tool bar: its buttons would be keyboard stops inside a picture whose numbers are in the
# table beside it; pupils read the chart by looking and hovering.
_CONFIG = {"displayModeBar": False, "responsive": True}


@dataclass(frozen=True, slots=True)
class ChartBlock:
    key: str
    title: str
    spec: Markup  # the plotly figure as JSON (data, layout, config)
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    empty: bool


def learner_charts(rows: Sequence[LearningRow], first: date, last: date) -> list[ChartBlock]:
    lang = locale()
    labels = {
        "activity_title": gettext("Days with learning, week by week"),
        "days_axis": gettext("days"),
        "week_hover": gettext("Week of %{x}: %{y} days, %{customdata[0]} records")
        + "<extra></extra>",
        "subject_title": gettext("Time by subject"),
        "minutes_axis": gettext("minutes"),
        "minutes_unit": gettext(" min"),
        "score_title": gettext("Scores over time (average of each day)"),
        "score_axis": gettext("score (%)"),
        "calendar_title": gettext("My learning calendar"),
        "weekdays": gettext("Mon,Tue,Wed,Thu,Fri,Sat,Sun"),
    }
    names = {code: words.get(lang) for code, words in vocabulary.SUBJECTS.items()}
    data = lc.frame(rows)
    weekly = lc.weekly_activity(data, first, last)
    totals = lc.minutes_by_subject(data)
    points = lc.scores(data)
    days = lc.calendar(data, first, last)
    return [
        _block(
            "activity",
            lc.activity_figure(weekly, labels),
            labels["activity_title"],
            (gettext("Week of"), gettext("Days with learning"), gettext("Records")),
            [
                (str(w), str(d), str(r))
                for w, d, r in weekly[["week", "days", "records"]].itertuples(index=False)
            ],
            empty=int(weekly["records"].sum()) == 0,
        ),
        _block(
            "subjects",
            lc.subject_figure(totals, labels, names),
            labels["subject_title"],
            (gettext("Subject"), gettext("Minutes")),
            [(names.get(str(s), str(s)), str(round(m))) for s, m in totals.itertuples(index=False)],
            empty=totals.empty,
        ),
        _block(
            "scores",
            lc.score_figure(points, labels, names),
            labels["score_title"],
            (gettext("Date"), gettext("Subject"), gettext("Score (%)")),
            [
                (str(d), names.get(str(s), str(s)), str(round(sc * 100)))
                for d, s, sc in points.itertuples(index=False)
            ],
            empty=points.empty,
        ),
        _block(
            "calendar",
            lc.calendar_figure(days, labels),
            labels["calendar_title"],
            (gettext("Date"), gettext("Records")),
            [(str(d), str(r)) for d, r in days.itertuples(index=False) if r],
            empty=int(days["records"].sum()) == 0,
        ),
    ]


def _block(
    key: str,
    figure: object,
    title: str,
    headers: tuple[str, ...],
    rows: list[tuple[str, ...]],
    empty: bool,
) -> ChartBlock:
    spec = json.loads(figure.to_json())  # type: ignore[attr-defined]  # plotly is untyped
    spec["config"] = _CONFIG
    # Data, not script: the page's Content-Security-Policy allows no inline scripts, and
    # static/charts.js draws it. "</" is escaped so nothing in it can close the element.
    text = json.dumps(spec, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return ChartBlock(key, title, Markup(text), headers, rows, empty)  # noqa: S704
