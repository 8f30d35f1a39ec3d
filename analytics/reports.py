"""A disparity report: one indicator, at one level, over one period, within one region.

Units are aggregated from school weeks, disclosure control is applied level by level from the
top of the region (analytics.disclosure), and the measures of disparity are computed over the
published units only, weighted by their pupils. Units are listed by code, never ranked. The
result is plain JSON-ready data; rendering is the caller's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics import indicators, queries
from analytics.disclosure import suppress
from analytics.inequality import gini, measures, weighted_percentile
from analytics.periods import Period
from records.models import Organisation

_RANK = {"nation": 0, "prefecture": 1, "municipality": 2, "school": 3}
_ID_OF_LEVEL = {"prefecture": "prefecture_id", "municipality": "municipality_id", "school": "id"}


class ReportError(ValueError):
    """Parameters that do not make a report (unknown region, level above the region...)."""


@dataclass(frozen=True, slots=True)
class ReportRequest:
    indicator: str
    level: str
    period: Period
    region_code: str  # "JP" for the nation
    min_cell: int

    @property
    def key(self) -> str:
        return "|".join(
            [self.indicator, self.level, self.period.id, self.region_code, str(self.min_cell)]
        )


def check_request(request: ReportRequest, region_kind: str) -> None:
    """Raise ReportError for parameters that cannot make a report."""
    if request.indicator not in indicators.INDICATORS:
        raise ReportError(f"indicator must be one of {', '.join(indicators.INDICATORS)}")
    if request.level not in indicators.LEVELS:
        raise ReportError(f"level must be one of {', '.join(indicators.LEVELS)}")
    if region_kind != "nation" and _RANK[request.level] <= _RANK.get(region_kind, 3):
        raise ReportError(
            f"level {request.level!r} is not below the region {request.region_code} "
            f"({region_kind}); choose a finer level"
        )
    if request.min_cell < 1:
        raise ReportError("the minimum cell size must be at least 1")


def finer_level(region_kind: str) -> str:
    """The level a region is shown at by default: the one just below it."""
    return {"nation": "prefecture", "prefecture": "municipality"}.get(region_kind, "school")


def build_report(session: Session, request: ReportRequest) -> dict[str, Any]:
    region = _region(session, request.region_code)
    check_request(request, region["kind"])
    orgs = queries.organisations(session, region["id"])
    schools = _schools_in(orgs, region)
    totals = queries.school_totals(
        session,
        request.period.first_week,
        request.period.last_week,
        set(schools["id"]),
        indicators.needed(request.indicator),
    )
    placed = totals.merge(
        schools[["id", "municipality_id", "prefecture_id"]],
        left_on="school_id",
        right_on="id",
        how="inner",
    )
    tables = _levels(placed, request.indicator, request.min_cell, region)
    table = tables[request.level]
    names = orgs.set_index("id")
    units = _units(table, names, request.level, request.indicator)
    published = table[~table["hidden"]]
    group_level = _group_level(region["kind"], request.level)
    groups = list(published[group_level].astype(str)) if group_level is not None else None
    region_total = _region_total(placed, request.indicator, request.min_cell)
    figures = measures(published["value"].to_numpy(), published["size"].to_numpy(), groups)
    return {
        "indicator": request.indicator,
        "level": request.level,
        "period": {
            "id": request.period.id,
            "kind": request.period.kind,
            "first": request.period.first.isoformat(),
            "last": request.period.last.isoformat(),
        },
        "region": {"code": region["code"], "name": region["name"], "kind": region["kind"]},
        "min_cell": request.min_cell,
        "score_threshold": (
            indicators.SCORE_THRESHOLD if request.indicator.startswith("score_") else None
        ),
        "total": region_total,
        "units": units,
        "hidden_units": int(table["hidden"].sum()),
        "measures": figures.as_dict(),
        "decomposition_groups": group_level.removesuffix("_id") if group_level else None,
        "distribution": _distribution(published),
        "trend": _trend(session, request, schools, region),
    }


# --- steps -----------------------------------------------------------------------------------


def _region(session: Session, code: str) -> dict[str, Any]:
    if code.upper() == "JP":
        return {"id": None, "code": "JP", "name": "全国", "kind": "nation"}
    found = session.execute(
        select(Organisation.id, Organisation.name, Organisation.kind).where(
            Organisation.code == code
        )
    ).first()
    if found is None:
        raise ReportError(f"no organisation with code {code!r}")
    return {"id": int(found[0]), "code": code, "name": str(found[1]), "kind": str(found[2])}


def _schools_in(orgs: pd.DataFrame, region: dict[str, Any]) -> pd.DataFrame:
    schools = orgs[orgs["kind"] == "school"]
    column = {"prefecture": "prefecture_id", "municipality": "municipality_id"}.get(
        region["kind"], "id"
    )
    inside: pd.DataFrame = (
        schools if region["kind"] == "nation" else schools[schools[column] == region["id"]]
    )
    return inside


def _group_level(region_kind: str, level: str) -> str | None:
    """Units are grouped by the level just below the region, when that is above `level`."""
    child = {"nation": "prefecture", "prefecture": "municipality"}.get(region_kind)
    if child is None or _RANK[child] >= _RANK[level]:
        return None
    return _ID_OF_LEVEL[child]


def _levels(
    placed: pd.DataFrame, indicator: str, k: int, region: dict[str, Any]
) -> dict[str, pd.DataFrame]:
    """Every level's units with value, size and hidden, suppressed from the top down."""
    tables: dict[str, pd.DataFrame] = {}
    hidden_above: set[object] = set()
    region_size = float(indicators.cell_size(_sum_all(placed), indicator).iloc[0])
    parent_of_level = {
        "prefecture": None,
        "municipality": "prefecture_id",
        "school": "municipality_id",
    }
    for level in indicators.LEVELS:
        key = _ID_OF_LEVEL[level]
        frame = placed.copy()
        frame[key] = frame[key].astype("Int64")
        frame = frame[frame[key].notna()]
        sums = indicators.aggregate(frame.assign(week=0), [key]) if not frame.empty else None
        if sums is None:
            tables[level] = _empty()
            continue
        sums["weeks"] = frame.groupby(key)["weeks"].max()
        table = pd.DataFrame(
            {
                "value": indicators.values(sums, indicator),
                "size": indicators.cell_size(sums, indicator),
                "below": indicators.below_share(sums),
            }
        )
        parent = parent_of_level[level]
        if parent is None:
            table["parent"] = "JP"
        else:
            table["parent"] = frame.groupby(key)[parent].first().astype("Int64")
        for name in ("prefecture_id", "municipality_id"):
            table[name] = frame.groupby(key)[name].first().astype("Int64")
        table["hidden"] = suppress(table, k, hidden_parents=hidden_above)
        if region_size < k:
            table["hidden"] = True
        table.loc[table["value"].isna(), "hidden"] = True
        hidden_above = set(table.index[table["hidden"]])
        tables[level] = table
    return tables


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "value": pd.Series(dtype="float64"),
            "size": pd.Series(dtype="float64"),
            "below": pd.Series(dtype="float64"),
            "parent": pd.Series(dtype="Int64"),
            "prefecture_id": pd.Series(dtype="Int64"),
            "municipality_id": pd.Series(dtype="Int64"),
            "hidden": pd.Series(dtype="bool"),
        }
    )


def _sum_all(placed: pd.DataFrame) -> pd.DataFrame:
    sums = placed[indicators.SUMS].sum().to_frame().T
    sums["weeks"] = float(placed["weeks"].max()) if len(placed) else 0.0
    return sums


def _region_total(placed: pd.DataFrame, indicator: str, k: int) -> dict[str, Any]:
    sums = _sum_all(placed)
    value = float(indicators.values(sums, indicator).iloc[0])
    size = float(indicators.cell_size(sums, indicator).iloc[0])
    hidden = size < k or math.isnan(value)
    below = float(indicators.below_share(sums).iloc[0])
    scored = indicator.startswith("score_")
    return {
        "value": None if hidden else value,
        "pupils": None if hidden else round(size),
        "below_threshold": None if hidden or not scored or math.isnan(below) else below,
        "hidden": hidden,
    }


def _units(
    table: pd.DataFrame, names: pd.DataFrame, level: str, indicator: str
) -> list[dict[str, Any]]:
    frame = pd.DataFrame(
        {
            "code": names["code"].reindex(table.index).astype(str),
            "name": names["name"].reindex(table.index).astype(str),
            "value": table["value"].astype("float64"),
            "below": table["below"].astype("float64"),
            "pupils": table["size"].round().astype("float64"),
            "hidden": table["hidden"].astype(bool),
        }
    )
    if level == "prefecture":
        frame["parent_code"] = None
        frame["parent_name"] = None
    else:
        parents = table["parent"].astype("Int64")
        frame["parent_code"] = parents.map(names["code"]).astype(object)
        frame["parent_name"] = parents.map(names["name"]).astype(object)
    frame = frame.sort_values("code")
    scored = indicator.startswith("score_")
    rows = []
    for code, name, value, below, pupils, hidden, parent_code, parent_name in frame.itertuples(
        index=False
    ):
        rows.append(
            {
                "code": code,
                "name": name,
                "parent_code": None if pd.isna(parent_code) else str(parent_code),
                "parent_name": None if pd.isna(parent_name) else str(parent_name),
                "value": None if hidden or pd.isna(value) else float(value),
                "below_threshold": (
                    None if hidden or not scored or pd.isna(below) else float(below)
                ),
                "pupils": None if hidden else int(pupils),
                "hidden": bool(hidden),
            }
        )
    return rows


def _distribution(published: pd.DataFrame) -> dict[str, float | None]:
    if published.empty or float(published["size"].sum()) <= 0:
        return {f"p{p}": None for p in (10, 25, 50, 75, 90)}
    values = published["value"].to_numpy(dtype=np.float64)
    sizes = published["size"].to_numpy(dtype=np.float64)
    return {f"p{p}": weighted_percentile(values, p / 100, sizes) for p in (10, 25, 50, 75, 90)}


def _trend(
    session: Session, request: ReportRequest, schools: pd.DataFrame, region: dict[str, Any]
) -> list[dict[str, Any]]:
    """Week by week: the region's value and the Gini between the units just below it."""
    group_key = {"nation": "prefecture", "prefecture": "municipality"}.get(region["kind"])
    weekly = queries.weekly_by_group(
        session,
        request.period.first_week,
        request.period.last_week,
        set(schools["id"]),
        group_key,
        indicators.needed(request.indicator),
    )
    if weekly.empty:
        return []
    by_week = weekly.groupby("week", sort=True)[indicators.SUMS].sum()
    by_week["weeks"] = 1.0
    values = indicators.values(by_week, request.indicator)
    sizes = indicators.cell_size(by_week, request.indicator)
    ginis: dict[Any, float | None] = {}
    if group_key is not None:
        groups = weekly.groupby(["week", "group"], sort=True)[indicators.SUMS].sum()
        groups["weeks"] = 1.0
        frame = pd.DataFrame(
            {
                "value": indicators.values(groups, request.indicator),
                "size": indicators.cell_size(groups, request.indicator),
            }
        )
        frame = frame[frame["size"] >= request.min_cell]
        for week, rows in frame.groupby(level="week", sort=False):
            ginis[week] = gini(rows["value"].to_numpy(), rows["size"].to_numpy())
    points = []
    for week in by_week.index:
        value = float(values.loc[week])
        shown = float(sizes.loc[week]) >= request.min_cell and not math.isnan(value)
        points.append(
            {
                "week": pd.Timestamp(week).date().isoformat(),
                "value": value if shown else None,
                "gini": ginis.get(week) if shown else None,
            }
        )
    return points
