"""The board dashboard: where regions fall behind, as bands and distributions, never a ranking
and never a pupil. Board analysts see their own region (drilling down within it); system admins
the nation. Every chart's numbers download as CSV and JSON. Reports come from the same cached
jobs as GET /api/v1/analytics/disparity."""

from __future__ import annotations

import csv
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required
from markupsafe import Markup

from analytics import charts
from analytics.indicators import INDICATORS, LEVELS
from app.api.analytics import Pending, obtain_report, report_request
from app.db import get_session
from app.web.common import viewer
from records.analytics_access import NATION, check_region
from records.errors import RecordsError

bp = Blueprint("boards", __name__)
GEOJSON = Path(__file__).resolve().parent.parent / "static" / "geo" / "prefectures.geojson"
MAP_CREDIT = "出典：国土数値情報（行政区域データ）（国土交通省）"
PARTS = ("units", "measures", "trend", "distribution")
_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": False}


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every dashboard page needs a signed-in account (the region rule is checked per report)."""


def indicator_names() -> dict[str, str]:
    return {
        "active_day_rate": gettext("Device active-day rate"),
        "active_3days_share": gettext("Share of pupils active on 3+ days a week"),
        "minutes_per_pupil_week": gettext("Learning minutes per pupil per week"),
        "completion_rate": gettext("Completion rate"),
        "score_p10": gettext("Score, 10th percentile"),
        "score_p50": gettext("Score, median"),
        "score_p90": gettext("Score, 90th percentile"),
    }


def level_names() -> dict[str, str]:
    return {
        "prefecture": gettext("Prefectures"),
        "municipality": gettext("Municipalities"),
        "school": gettext("Schools"),
    }


def measure_names() -> dict[str, str]:
    return {
        "gini": gettext("Gini coefficient"),
        "theil": gettext("Theil index (T)"),
        "theil_between": gettext("Theil: between groups"),
        "theil_within": gettext("Theil: within groups"),
        "cv": gettext("Coefficient of variation"),
        "atkinson_05": gettext("Atkinson (ε = 0.5)"),
        "atkinson_1": gettext("Atkinson (ε = 1)"),
        "atkinson_2": gettext("Atkinson (ε = 2)"),
        "p90_p10": gettext("P90 / P10"),
        "max_min": gettext("Highest / lowest"),
    }


def _report() -> tuple[dict[str, Any], dict[str, Any] | Pending]:
    args = {
        "indicator": request.args.get("indicator") or "active_day_rate",
        "level": request.args.get("level") or None,
        "period": request.args.get("period") or None,
        "region": request.args.get("region") or None,
    }
    if args["indicator"] not in INDICATORS:
        abort(400, gettext("Choose one of the listed indicators."))
    if args["level"] is not None and args["level"] not in LEVELS:
        abort(400, gettext("Choose one of the listed levels."))
    session = get_session()
    wanted = report_request(session, viewer(), args)
    report = obtain_report(session, viewer(), wanted)
    params = {
        "indicator": wanted.indicator,
        "level": wanted.level,
        "period": wanted.period.id,
        "region": wanted.region_code,
    }
    return params, report


@bp.get("")
def index() -> ResponseReturnValue:
    params, report = _report()
    if isinstance(report, Pending):
        return render_template("boards/pending.html", params=params), 202
    labels = _labels(report)
    figures = _figures(report, labels)
    return render_template(
        "boards/index.html",
        report=report,
        params=params,
        figures=figures,
        indicators=indicator_names(),
        levels=level_names(),
        measures=measure_names(),
        parts=PARTS,
        up=_up_link(report, params),
        drill=_drill_level(report),
        credit=MAP_CREDIT,
    )


@bp.get("/data/<part>.<fmt>")
def data(part: str, fmt: str) -> ResponseReturnValue:
    if part not in PARTS or fmt not in ("csv", "json"):
        abort(404)
    params, report = _report()
    if isinstance(report, Pending):
        return render_template("boards/pending.html", params=params), 202
    rows = _rows(report, part)
    name = f"{part}-{params['indicator']}-{params['region']}-{params['period']}"
    if fmt == "json":
        answer = jsonify({"parameters": params, "min_cell": report["min_cell"], part: rows})
    else:
        answer = Response(_csv(rows), mimetype="text/csv")
        answer.headers["Content-Type"] = "text/csv; charset=utf-8"
    answer.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return answer


# --- helpers ---------------------------------------------------------------------------------


def _rows(report: dict[str, Any], part: str) -> list[dict[str, Any]]:
    if part == "units":
        return [
            {
                k: u.get(k)
                for k in ("code", "name", "parent_code", "value", "below_threshold", "pupils")
            }
            | {"hidden": u["hidden"]}
            for u in report["units"]
        ]
    if part == "measures":
        return [{"measure": k, "value": v} for k, v in report["measures"].items()]
    if part == "trend":
        return list(report["trend"])
    return [{"percentile": k, "value": v} for k, v in report["distribution"].items()]


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return out.getvalue()


def _labels(report: dict[str, Any]) -> dict[str, str]:
    indicator = indicator_names()[report["indicator"]]
    return {
        "value": indicator,
        "no_data": gettext("no figure (fewer than %(k)s pupils or no data)", k=report["min_cell"]),
        "map_title": gettext("%(indicator)s by prefecture", indicator=indicator),
        "distribution_title": gettext(
            "Distribution of %(level)s", level=level_names()[report["level"]]
        ),
        "all_units": level_names()[report["level"]],
        "decomposition_title": gettext("Theil index: between and within groups"),
        "between": gettext("between groups"),
        "within": gettext("within groups"),
        "total": gettext("total"),
        "theil": gettext("Theil T"),
        "gini": gettext("Gini coefficient"),
        "trend_title": gettext("Week by week"),
    }


def _figures(report: dict[str, Any], labels: dict[str, str]) -> dict[str, Markup]:
    figures: dict[str, Any] = {}
    map_values = _map_values(report)
    if map_values is not None:
        names = {
            str(f["properties"]["pref_code"]): str(f["properties"]["name"])
            for f in _geojson()["features"]
        }
        focus = (
            frozenset({report["region"]["code"]})
            if report["region"]["kind"] == "prefecture"
            else frozenset()
        )
        figures["map"] = charts.prefecture_map(_geojson(), map_values, labels, names, focus)
    figures["distribution"] = charts.distribution(
        report["units"], labels, by_parent=report["level"] != "prefecture"
    )
    figures["decomposition"] = charts.decomposition(report["measures"], labels)
    figures["trend"] = charts.trend(report["trend"], labels)
    return {key: _html(key, figure) for key, figure in figures.items()}


def _map_values(report: dict[str, Any]) -> dict[str, float | None] | None:
    if report["level"] == "prefecture":
        return {u["code"]: u["value"] for u in report["units"]}
    if report["region"]["kind"] == "prefecture":
        return {report["region"]["code"]: report["total"]["value"]}
    return None


def _html(key: str, figure: Any) -> Markup:
    """The figure as JSON data for static/charts.js (the Content-Security-Policy allows no
    inline scripts); "</" is escaped so nothing in it can close its element."""
    spec = json.loads(figure.to_json())
    spec["config"] = _CONFIG
    text = json.dumps(spec, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    # Our own figure: every string in it is ours, an organisation's name or a number.
    return Markup(text)  # noqa: S704


@cache
def _geojson() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(GEOJSON.read_text(encoding="utf-8"))
    return loaded


def _drill_level(report: dict[str, Any]) -> bool:
    """Units of these levels can be opened as regions of their own."""
    return report["level"] in ("prefecture", "municipality")


def _up_link(report: dict[str, Any], params: dict[str, str]) -> str | None:
    """The region above, when the viewer may see it."""
    region = report["region"]
    candidates = []
    if region["kind"] == "municipality":
        candidates.append(region["code"][:2])
    if region["kind"] in ("prefecture", "municipality"):
        candidates.append(NATION)
    for code in candidates:
        try:
            check_region(get_session(), viewer(), code)
        except RecordsError:
            continue
        return url_for(
            "web.boards.index", indicator=params["indicator"], period=params["period"], region=code
        )
    return None
