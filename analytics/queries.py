"""Database -> DataFrame for reports: the organisation tree and school-week sums. Reports never
read statements or pupil-days; the sums are aggregated in the database where possible."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, case, func, literal, select
from sqlalchemy.orm import Session, aliased

from analytics.indicators import SUMS
from records.analytics_models import SchoolWeek
from records.models import Organisation

_MAX_IDS = 20_000  # beyond this many schools the filter is cheaper in pandas than in SQL


def organisations(session: Session, root_id: int | None = None) -> pd.DataFrame:
    """Organisations (all, or the subtree under `root_id`) with their prefecture and
    municipality ancestors within what was read (ids, or NA)."""
    columns = (
        Organisation.id,
        Organisation.code,
        Organisation.name,
        Organisation.kind,
        Organisation.parent_id,
    )
    query = select(*columns)
    if root_id is not None:
        tree = select(Organisation.id).where(Organisation.id == root_id).cte("tree", recursive=True)
        child = aliased(Organisation)
        tree = tree.union_all(select(child.id).join(tree, child.parent_id == tree.c.id))
        query = query.join(tree, tree.c.id == Organisation.id)
    rows = session.execute(query).all()
    orgs = pd.DataFrame(rows, columns=["id", "code", "name", "kind", "parent_id"])
    return with_ancestors(orgs)


def with_ancestors(orgs: pd.DataFrame) -> pd.DataFrame:
    """Add prefecture_id and municipality_id (the org itself when it is one) by walking up."""
    orgs = orgs.reset_index(drop=True).copy()
    ids = orgs["id"].to_numpy(dtype=np.int64)
    position = pd.Series(np.arange(len(ids)), index=ids)
    parents = orgs["parent_id"].astype("Int64")
    parent_pos = (
        parents.map(position).fillna(-1).to_numpy(dtype=np.int64)
        if len(ids)
        else np.array([], dtype=np.int64)
    )
    kinds = orgs["kind"].to_numpy(dtype=object)
    found = {kind: np.full(len(ids), -1, dtype=np.int64) for kind in ("prefecture", "municipality")}
    current = np.arange(len(ids))
    for _ in range(6):
        alive = current >= 0
        for kind, hit in found.items():
            mask = alive & (hit < 0)
            mask[mask] = kinds[current[mask]] == kind
            hit[mask] = ids[current[mask]]
        current = np.where(alive, parent_pos[np.maximum(current, 0)], -1)
        if not (current >= 0).any():
            break
    for kind, hit in found.items():
        orgs[f"{kind}_id"] = pd.array(np.where(hit >= 0, hit, 0), dtype="Int64")
        orgs.loc[hit < 0, f"{kind}_id"] = pd.NA
    orgs["parent_id"] = parents
    return orgs


def _filtered(
    query: Select[tuple[object, ...]], school_ids: Collection[int] | None
) -> Select[tuple[object, ...]]:
    if school_ids is not None and len(school_ids) <= _MAX_IDS:
        return query.where(SchoolWeek.school_id.in_(list(school_ids)))
    return query


def school_totals(
    session: Session,
    first_week: date,
    last_week: date,
    school_ids: Collection[int] | None,
    wanted: Collection[str] = SUMS,
) -> pd.DataFrame:
    """Per school: the `wanted` sums over the period's weeks (others 0), and the weeks."""
    columns = [func.sum(getattr(SchoolWeek, name)).label(name) for name in wanted]
    query = (
        select(SchoolWeek.school_id, *columns, func.count(SchoolWeek.week).label("weeks"))
        .where(SchoolWeek.week >= first_week, SchoolWeek.week <= last_week)
        .group_by(SchoolWeek.school_id)
    )
    rows = session.execute(_filtered(query, school_ids)).all()
    frame = pd.DataFrame(rows, columns=["school_id", *wanted, "weeks"])
    if school_ids is not None and len(school_ids) > _MAX_IDS:
        frame = frame[frame["school_id"].isin(list(school_ids))]
    return _complete(frame, ["weeks"])


def _complete(frame: pd.DataFrame, extra: list[str]) -> pd.DataFrame:
    """Absent sums as 0, every sum as float."""
    for name in SUMS:
        if name not in frame:
            frame[name] = 0.0
    return frame.astype(dict.fromkeys([*SUMS, *extra], "float64"))


def weekly_by_group(
    session: Session,
    first_week: date,
    last_week: date,
    school_ids: Collection[int] | None,
    group_kind: str | None,
    wanted: Collection[str] = SUMS,
) -> pd.DataFrame:
    """Per week and group (the schools' prefecture or municipality; one group when None): the
    `wanted` sums, for trends. Grouped in the database, so a national year is ~2,500 rows."""
    school = aliased(Organisation)
    parent = aliased(Organisation)
    group: Any
    if group_kind == "municipality":
        group = parent.id
    elif group_kind == "prefecture":
        group = case((parent.kind == "prefecture", parent.id), else_=parent.parent_id)
    else:
        group = literal(0)
    columns = [func.sum(getattr(SchoolWeek, name)).label(name) for name in wanted]
    query = (
        select(SchoolWeek.week, group.label("grp"), *columns)
        .join(school, school.id == SchoolWeek.school_id)
        .outerjoin(parent, parent.id == school.parent_id)
        .where(SchoolWeek.week >= first_week, SchoolWeek.week <= last_week)
        .group_by(SchoolWeek.week, group)
    )
    if school_ids is not None and len(school_ids) > _MAX_IDS:
        school_ids = None  # the whole nation: every school is in the region
    rows = session.execute(_filtered(query, school_ids)).all()
    frame = pd.DataFrame(rows, columns=["week", "group", *wanted])
    frame["group"] = frame["group"].astype("Int64")
    return _complete(frame, [])
