"""Periodic work, for `rq cron app/cron.py --url $ASHIATO_REDIS_URL` (workers started with
`flask --app app worker --queue analytics --queue default` run it in the app context):

- analytics rollups every five minutes, and a full rebuild nightly (03:30 JST = 18:30 UTC);
- retention of learning records daily (04:30 JST = 19:30 UTC).

Without Redis, run `flask --app app analytics refresh` and `flask --app app audit
retention-apply` from the system's cron instead.
"""

from __future__ import annotations

from rq.cron import register

from app.jobs import apply_retention_job, refresh_rollups

register(refresh_rollups, queue_name="analytics", interval=300)
register(refresh_rollups, queue_name="analytics", kwargs={"full": True}, cron="30 18 * * *")
register(apply_retention_job, queue_name="default", cron="30 19 * * *")
