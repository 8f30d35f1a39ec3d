"""Plotly figures of a disparity report (the board dashboard). Pure: report data and labels in,
figures out; the web layer renders them and serves plotly.js itself.

The map draws the prefecture boundaries as filled shapes on plain axes, so plotly.js needs no
base map from the internet (a geo subplot would fetch one); shapes are coloured by value bands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.colors import sample_colorscale

SCALE = "Viridis"
_MISSING = "#d9d9d9"
_LAYOUT: dict[str, Any] = {
    "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
    "font": {"family": "Noto Sans CJK JP, Hiragino Sans, Meiryo, sans-serif", "size": 13},
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
}


def prefecture_map(
    geojson: Mapping[str, Any],
    values: Mapping[str, float | None],
    labels: Mapping[str, str],
    names: Mapping[str, str],
    focus: frozenset[str] = frozenset(),
) -> go.Figure:
    """Prefectures coloured by value (pref code -> value; None or absent: grey, no data),
    framed on the `focus` prefectures when given, else on all of Japan."""
    shown = [v for v in values.values() if v is not None]
    low, high = (min(shown), max(shown)) if shown else (0.0, 1.0)
    if high - low < 1e-9:
        low, high = min(0.0, low), max(high * 1.25, low + 1e-6)
    span = high - low
    frame_x: list[float] = []
    frame_y: list[float] = []
    figure = go.Figure()
    for feature in geojson.get("features", []):
        code = str(feature["properties"]["pref_code"])
        value = values.get(code)
        colour = _MISSING if value is None else sample_colorscale(SCALE, [(value - low) / span])[0]
        name = names.get(code, str(feature["properties"].get("name", code)))
        text = f"{name}: {labels['no_data'] if value is None else _fmt(value)}"
        xs: list[float | None] = []
        ys: list[float | None] = []
        for polygon in _polygons(feature["geometry"]):
            ring = polygon[0]
            xs.extend(round(float(p[0]), 3) for p in ring)
            ys.extend(round(float(p[1]), 3) for p in ring)
            xs.append(None)
            ys.append(None)
            if code in focus and len(ring) > 20:  # the main islands, not every islet
                frame_x.extend(float(p[0]) for p in ring)
                frame_y.extend(float(p[1]) for p in ring)
        figure.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                fill="toself",
                fillcolor=colour,
                mode="lines",
                line={"color": "white", "width": 0.6},
                name=name,
                text=text,
                hoverinfo="text",
                hoveron="fills",
                showlegend=False,
            )
        )
    figure.add_trace(
        go.Scatter(  # the colour bar
            x=[None],
            y=[None],
            mode="markers",
            marker={
                "colorscale": SCALE,
                "cmin": low,
                "cmax": high,
                "color": [low],
                "showscale": bool(shown),
                "colorbar": {"title": {"text": labels["value"]}, "thickness": 12},
            },
            hoverinfo="skip",
            showlegend=False,
        )
    )
    x_range, y_range = [128.0, 146.5], [30.0, 45.8]
    if frame_x:
        pad = 0.3
        x_range = [min(frame_x) - pad, max(frame_x) + pad]
        y_range = [min(frame_y) - pad, max(frame_y) + pad]
    figure.update_layout(
        **_LAYOUT,
        title={"text": labels["map_title"]},
        height=600,
        xaxis={"visible": False, "range": x_range},
        yaxis={"visible": False, "range": y_range, "scaleanchor": "x", "scaleratio": 1.2},
    )
    return figure


def distribution(
    units: Sequence[Mapping[str, Any]], labels: Mapping[str, str], by_parent: bool
) -> go.Figure:
    """Box plots (with every published unit as a point) of the units' values, one box per
    parent when `by_parent`; no unit is ranked or named on the axis."""
    figure = go.Figure()
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for unit in units:
        if unit["value"] is None:
            continue
        key = str(unit.get("parent_name") or unit.get("parent_code") or "") if by_parent else ""
        groups.setdefault(key, []).append(unit)
    for key, members in sorted(groups.items()):
        figure.add_trace(
            go.Box(
                y=[u["value"] for u in members],
                name=key or labels["all_units"],
                text=[u["name"] for u in members],
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker={"size": 5, "opacity": 0.6},
                hovertemplate="%{text}: %{y:.3g}<extra></extra>",
                showlegend=False,
            )
        )
    figure.update_layout(
        **_LAYOUT,
        title={"text": labels["distribution_title"]},
        height=380,
        yaxis={"title": {"text": labels["value"]}, "rangemode": "tozero"},
    )
    return figure


def decomposition(measures: Mapping[str, Any], labels: Mapping[str, str]) -> go.Figure:
    between = measures.get("theil_between")
    within = measures.get("theil_within")
    total = measures.get("theil")
    parts = (
        [(labels["between"], between), (labels["within"], within)]
        if between is not None and within is not None
        else [(labels["total"], total)]
    )
    figure = go.Figure()
    for name, value in parts:
        figure.add_trace(
            go.Bar(
                x=[value or 0.0],
                y=[labels["theil"]],
                name=name,
                orientation="h",
                text=[_fmt(value) if value is not None else labels["no_data"]],
                textposition="inside",
                hovertemplate=f"{name}: %{{x:.4f}}<extra></extra>",
            )
        )
    figure.update_layout(
        **_LAYOUT,
        title={"text": labels["decomposition_title"]},
        barmode="stack",
        height=220,
        legend={"orientation": "h", "y": -0.3},
    )
    return figure


def trend(points: Sequence[Mapping[str, Any]], labels: Mapping[str, str]) -> go.Figure:
    weeks = [p["week"] for p in points]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=weeks,
            y=[p["value"] for p in points],
            name=labels["value"],
            mode="lines+markers",
            hovertemplate="%{x}: %{y:.3g}<extra></extra>",
        )
    )
    if any(p.get("gini") is not None for p in points):
        figure.add_trace(
            go.Scatter(
                x=weeks,
                y=[p.get("gini") for p in points],
                name=labels["gini"],
                mode="lines",
                line={"dash": "dot"},
                yaxis="y2",
                hovertemplate="%{x}: %{y:.3f}<extra></extra>",
            )
        )
    figure.update_layout(
        **_LAYOUT,
        title={"text": labels["trend_title"]},
        height=340,
        yaxis={"title": {"text": labels["value"]}, "rangemode": "tozero"},
        yaxis2={
            "title": {"text": labels["gini"]},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
        },
        legend={"orientation": "h", "y": -0.25},
    )
    return figure


def _polygons(geometry: Mapping[str, Any]) -> list[Any]:
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"]]
    return list(geometry.get("coordinates", []))


def _fmt(value: float) -> str:
    return f"{value:.3g}"
