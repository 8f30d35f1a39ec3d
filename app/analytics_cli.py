"""`flask analytics refresh [--full]`: bring the analytics rollups up to date now (as an rq job
on the `analytics` queue when Redis is configured, else in-process). Schedule it with
`rq cron app/cron.py` (every five minutes, and a full rebuild nightly) or any cron."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.queue import enqueue

analytics_cli = AppGroup("analytics", help="Regional analytics: rollups behind the dashboards.")


@analytics_cli.command("refresh")
@click.option("--full", is_flag=True, help="Recompute every pupil-day from all statements.")
def refresh(full: bool) -> None:
    job = enqueue("analytics", "app.jobs.refresh_rollups", full)
    click.echo(f"queued as rq job {job}" if job else "rollups are up to date")
