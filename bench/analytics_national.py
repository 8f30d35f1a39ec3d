"""How long a disparity report takes at the national design point (issue #6).

Generates rollups (school weeks, not statements) for the whole nation: 47 prefectures, the
1,741 real municipalities, ~30,000 schools and ~9.5 million pupils over a school year of 52
weeks, with built-in regional differences; then times reports through the same code path as
the report job (analytics.reports.build_report: SQL aggregation, disclosure control, measures,
trend) and prints the median and spread of repeated runs.

    python -m bench.analytics_national [--database-url postgresql+psycopg://...] [--repeat 5]

Targets: a national report under 10 s, one prefecture's under 1 s. The database is emptied
and refilled (use a database of its own; default: postgresql+psycopg://postgres@127.0.0.1/
analytics_bench, created when missing).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import Any

import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from analytics.periods import parse_period
from analytics.reports import ReportRequest, build_report
from app import create_app
from app.cli import upgrade_database
from app.db import get_engine, new_session
from records.codes import prefecture_name, school_code_check_digit

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/analytics_bench"
YEAR = 2026


def ensure_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
        )
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def municipalities() -> list[tuple[str, str]]:
    rows = json.loads(
        resources.files("records.data").joinpath("municipalities.json").read_text("utf-8")
    )
    return [(str(r["lgcode"]).zfill(6), str(r["city"])) for r in rows if " " not in r["city"]]


def generate(schools: int, pupils: int, weeks: int, seed: int) -> tuple[str, str, int]:
    """COPY text for organisations and school_weeks; returns (orgs, weeks, pupil total)."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC).isoformat()
    orgs = io.StringIO()
    next_id = 1
    pref_ids: dict[str, int] = {}
    for n in range(1, 48):
        code = f"{n:02d}"
        pref_ids[code] = next_id
        orgs.write(f"{next_id}\t{code}\t{prefecture_name(code)}\t{now}\tprefecture\t\\N\n")
        next_id += 1
    munis = municipalities()
    muni_ids = []
    for code, name in munis:
        orgs.write(f"{next_id}\t{code}\t{name}\t{now}\tmunicipality\t{pref_ids[code[:2]]}\n")
        muni_ids.append((next_id, code[:2]))
        next_id += 1
    # Schools per municipality: a long-tailed split (big cities have hundreds, villages one).
    weights = rng.lognormal(0, 1.2, len(muni_ids))
    per_muni = np.maximum(1, np.round(weights / weights.sum() * schools)).astype(int)
    size = rng.lognormal(0, 0.8, int(per_muni.sum()))
    enrolled = np.maximum(3, np.round(size / size.sum() * pupils)).astype(int)
    pref_effect = {code: rng.normal(0, 0.08) for code in pref_ids}
    muni_effect = rng.normal(0, 0.06, len(muni_ids))
    rows = io.StringIO()
    mondays = [date(YEAR, 4, 6) + timedelta(days=7 * w) for w in range(weeks)]
    school_no = 0
    for m, (muni_id, pref) in enumerate(muni_ids):
        for _ in range(per_muni[m]):
            first12 = f"B1{pref}2{school_no:07d}"
            code = first12 + school_code_check_digit(first12)
            school_id = next_id
            next_id += 1
            orgs.write(f"{school_id}\t{code}\t第{school_no}小学校\t{now}\tschool\t{muni_id}\n")
            base = float(np.clip(0.55 + pref_effect[pref] + muni_effect[m], 0.05, 0.95))
            n_pupils = int(enrolled[school_no])
            share = np.clip(base + rng.normal(0, 0.05, weeks), 0.0, 1.0)
            for w, monday in enumerate(mondays):
                school_days = 3 if w in (3, 16, 17, 38) else 5
                enrolled_days = n_pupils * school_days
                active_days = int(enrolled_days * share[w])
                active3 = int(n_pupils * share[w] * 0.8)
                scored = int(n_pupils * 0.6)
                hist = np.bincount(
                    np.clip(rng.normal(base * 10, 2, min(scored, 50)), 0, 9).astype(int),
                    minlength=10,
                )
                hist = np.round(hist / max(hist.sum(), 1) * scored).astype(int)
                rows.write(
                    f"{school_id}\t{monday}\t{school_days}\t{n_pupils}\t{enrolled_days}\t"
                    f"{active_days}\t{active3}\t{active_days * 24.5:.1f}\t{active_days * 2}\t"
                    f"{int(active_days * 1.6 * share[w])}\t{int(hist.sum())}\t"
                    + "\t".join(str(int(h)) for h in hist)
                    + "\n"
                )
            school_no += 1
    return orgs.getvalue(), rows.getvalue(), int(enrolled.sum())


def load(orgs: str, weeks: str) -> None:
    raw = get_engine().raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("TRUNCATE school_weeks, disparity_reports")
        cursor.execute("DELETE FROM organisations WHERE kind IN ('school', 'municipality')")
        cursor.execute("DELETE FROM organisations WHERE kind = 'prefecture'")
        columns = "id, code, name, created_at, kind, parent_id"
        with cursor.copy(f"COPY organisations ({columns}) FROM STDIN") as copy:
            copy.write(orgs)
        sums = ", ".join(
            [
                "school_id, week, school_days, pupils, enrolled_days, active_days, active3",
                "minutes, attempted, completed, scored",
                *[f"h{n}" for n in range(10)],
            ]
        )
        with cursor.copy(f"COPY school_weeks ({sums}) FROM STDIN") as copy:
            copy.write(weeks)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('organisations', 'id'), "
            "(SELECT max(id) FROM organisations))"
        )
        raw.commit()
        cursor.execute("ANALYZE organisations")
        cursor.execute("ANALYZE school_weeks")
        raw.commit()
    finally:
        raw.close()


def timed(request: ReportRequest, repeat: int) -> tuple[list[float], dict[str, Any]]:
    times = []
    report: dict[str, Any] = {}
    for _ in range(repeat):
        with new_session() as session:
            start = time.perf_counter()
            report = build_report(session, request)
            times.append(time.perf_counter() - start)
    return times, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--schools", type=int, default=30_000)
    parser.add_argument("--pupils", type=int, default=9_500_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--keep", action="store_true", help="reuse rollups already loaded")
    args = parser.parse_args()
    ensure_database(args.database_url)
    app = create_app(
        {"DATABASE_URL": args.database_url, "SECRET_KEY": "bench", "PUBLIC_URL": "https://b/"}
    )
    with app.app_context():
        upgrade_database()
        if not args.keep:
            start = time.perf_counter()
            orgs, weeks, total = generate(args.schools, args.pupils, args.weeks, args.seed)
            generated = time.perf_counter() - start
            load(orgs, weeks)
            print(
                f"generated {weeks.count(chr(10)):,} school weeks, {orgs.count(chr(10)):,} "
                f"organisations, {total:,} pupils in {generated:.1f} s; loaded in "
                f"{time.perf_counter() - start - generated:.1f} s"
            )
        year = parse_period(str(YEAR))
        cases = [
            ("nation, prefectures", "JP", "prefecture", "active_day_rate"),
            ("nation, schools", "JP", "school", "active_day_rate"),
            ("nation, schools, score P50", "JP", "school", "score_p50"),
            ("prefecture 13, municipalities", "13", "municipality", "active_day_rate"),
            ("prefecture 13, schools", "13", "school", "active_day_rate"),
            ("prefecture 13, schools, score P50", "13", "school", "score_p50"),
        ]
        print(f"school year {year.id}, {args.repeat} runs each")
        print(f"{'report':45} {'median s':>9} {'min s':>7} {'max s':>7}  units  gini")
        for label, region, level, indicator in cases:
            request = ReportRequest(indicator, level, year, region, 10)
            times, report = timed(request, args.repeat)
            gini = report["measures"]["gini"]
            print(
                f"{label:45} {statistics.median(times):9.3f} {min(times):7.3f} "
                f"{max(times):7.3f} {len(report['units']):6d}  "
                f"{gini if gini is None else round(gini, 4)}"
            )
        get_engine().dispose()


if __name__ == "__main__":
    main()
