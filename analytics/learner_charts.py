"""A pupil's own charts (plotly): activity over the school year, time by subject, scores over
time, and a calendar of active days. Pure functions from rows to figures; the app renders them
with the plotly.js it serves itself (no CDN) and shows the same numbers as a table beside each
chart for screen readers.

Words on the charts come in as `labels` (already translated by the app) and subject names as
`subject_names`, so this module knows no language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any, Protocol

import pandas as pd
import plotly.graph_objects as go

PALETTE = ["#1a5fb4", "#c64600", "#26a269", "#9141ac", "#a51d2d", "#0b7285", "#865e3c"]
_FONT = {"family": 'system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif', "size": 16}


class Row(Protocol):
    @property
    def day(self) -> date: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def minutes(self) -> float | None: ...
    @property
    def score(self) -> float | None: ...


def frame(rows: Sequence[Row]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "day": [r.day for r in rows],
            "subject": [r.subject or "other" for r in rows],
            "minutes": [r.minutes for r in rows],
            "score": [r.score for r in rows],
        }
    )


def weekly_activity(data: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """Records and active days per week (weeks start on Monday) across the period."""
    start = first - timedelta(days=first.weekday())
    weeks = pd.date_range(start, last, freq="7D")
    result = pd.DataFrame({"week": weeks.date, "records": 0, "days": 0})
    if not data.empty:
        week_of = data["day"].map(lambda d: d - timedelta(days=d.weekday()))
        counts = data.groupby(week_of).agg(records=("day", "size"), days=("day", "nunique"))
        result = result.set_index("week")
        result.loc[counts.index.intersection(result.index), ["records", "days"]] = counts
        result = result.reset_index()
    return result


def minutes_by_subject(data: pd.DataFrame) -> pd.DataFrame:
    timed = data.dropna(subset=["minutes"])
    if timed.empty:
        return pd.DataFrame({"subject": [], "minutes": []})
    totals = timed.groupby("subject")["minutes"].sum().sort_values(ascending=False)
    return pd.DataFrame({"subject": totals.index, "minutes": totals.to_numpy()})


def scores(data: pd.DataFrame) -> pd.DataFrame:
    """The mean score per day and subject (a year of quizzes stays a readable line)."""
    scored = data.dropna(subset=["score"])
    if scored.empty:
        return pd.DataFrame({"day": [], "subject": [], "score": []})
    # groupby sorts by day, then subject
    return scored.groupby(["day", "subject"])["score"].mean().reset_index()


def calendar(data: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """Records per day for every day of the period (zeros included)."""
    days = pd.DataFrame({"day": pd.date_range(first, last, freq="D").date})
    counts = data.groupby("day").size().rename("records") if not data.empty else None
    if counts is None:
        days["records"] = 0
        return days
    return days.join(counts, on="day").fillna({"records": 0}).astype({"records": int})


def activity_figure(weekly: pd.DataFrame, labels: Mapping[str, str]) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            # plain lists: the numbers stay readable in the page source (no binary arrays)
            x=[str(w) for w in weekly["week"]],
            y=weekly["days"].tolist(),
            marker_color=PALETTE[0],
            hovertemplate=labels["week_hover"],
            customdata=[[r] for r in weekly["records"].tolist()],
        )
    )
    fig.update_yaxes(title=labels["days_axis"], range=[0, 7], dtick=1)
    return _styled(fig, labels["activity_title"])


def subject_figure(
    totals: pd.DataFrame, labels: Mapping[str, str], subject_names: Mapping[str, str]
) -> go.Figure:
    names = [subject_names.get(s, s) for s in totals["subject"]]
    fig = go.Figure(
        go.Bar(
            x=totals["minutes"].round(0).tolist(),
            y=names,
            orientation="h",
            marker_color=[PALETTE[i % len(PALETTE)] for i in range(len(names))],
            hovertemplate="%{y}: %{x}" + labels["minutes_unit"] + "<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title=labels["minutes_axis"])
    return _styled(fig, labels["subject_title"])


def score_figure(
    points: pd.DataFrame, labels: Mapping[str, str], subject_names: Mapping[str, str]
) -> go.Figure:
    fig = go.Figure()
    for n, (subject, group) in enumerate(points.groupby("subject", sort=True)):
        fig.add_trace(
            go.Scatter(
                x=[str(d) for d in group["day"]],
                y=(group["score"] * 100).round(0).tolist(),
                mode="markers",
                name=subject_names.get(str(subject), str(subject)),
                marker={"size": 9, "color": PALETTE[n % len(PALETTE)], "opacity": 0.8},
            )
        )
    fig.update_yaxes(title=labels["score_axis"], range=[0, 105])
    return _styled(fig, labels["score_title"], height=380)


def calendar_figure(days: pd.DataFrame, labels: Mapping[str, str]) -> go.Figure:
    """A heat map: one column per week, one row per weekday (Monday at the top)."""
    weekday_names = labels["weekdays"].split(",")
    if days.empty:
        return _styled(go.Figure(), labels["calendar_title"])
    first = days["day"].iloc[0]
    origin = first - timedelta(days=first.weekday())
    columns = ((days["day"].map(lambda d: (d - origin).days)) // 7).astype(int)
    grid: list[list[Any]] = [[None] * (int(columns.max()) + 1) for _ in range(7)]
    texts: list[list[str]] = [[""] * (int(columns.max()) + 1) for _ in range(7)]
    for day, column, records in zip(days["day"], columns, days["records"], strict=True):
        grid[day.weekday()][column] = min(int(records), 10)
        texts[day.weekday()][column] = f"{day.isoformat()}: {int(records)}"
    week_starts = [origin + timedelta(weeks=c) for c in range(len(grid[0]))]
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            x=week_starts,
            y=weekday_names,
            text=texts,
            hovertemplate="%{text}<extra></extra>",
            colorscale=[[0, "#ebe7dc"], [0.01, "#b7d3f2"], [1, "#1a5fb4"]],
            showscale=False,
            xgap=2,
            ygap=2,
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _styled(fig, labels["calendar_title"], height=260)


def _styled(fig: go.Figure, title: str, height: int = 320) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0},
        font=_FONT,
        height=height,
        margin={"l": 60, "r": 16, "t": 48, "b": 40},
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        autosize=True,
        showlegend=len(fig.data) > 1,
        legend={"orientation": "h", "y": -0.2},
    )
    return fig
