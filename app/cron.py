"""Periodic work, for `rq cron app/cron.py --url $ASHIATO_REDIS_URL` (workers started with
`flask --app app worker --queue analytics --queue default` run it in the app context):

- analytics rollups every five minutes, and a full rebuild nightly (03:30 JST = 18:30 UTC);
- retention of learning records daily (04:30 JST = 19:30 UTC);
- the LTI tool's signing key rotated monthly (18:00 UTC on the 1st = 03:00 JST on the 2nd;
  the previous key stays published until the next rotation);
- job rows reconciled with rq every minute: a job whose worker died is requeued or marked
  failed with its reason, never left "running" (workers also do this at their maintenance).

Without Redis, run `flask --app app analytics refresh` and `flask --app app audit
retention-apply` from the system's cron instead.
"""

from __future__ import annotations

from rq.cron import register

from app.jobs import (
    apply_retention_job,
    reconcile_job_rows,
    refresh_rollups,
    rotate_lti_tool_keys,
)
from app.queue import JOB_TIMEOUT

# rq's default timeout (180 s) would stop a nightly rebuild at national scale: the jobs' own.
register(refresh_rollups, queue_name="analytics", interval=300, job_timeout=JOB_TIMEOUT)
register(
    refresh_rollups,
    queue_name="analytics",
    kwargs={"full": True},
    cron="30 18 * * *",
    job_timeout=JOB_TIMEOUT,
)
register(apply_retention_job, queue_name="default", cron="30 19 * * *", job_timeout=JOB_TIMEOUT)
register(rotate_lti_tool_keys, queue_name="default", cron="0 18 1 * *", job_timeout=120)
register(reconcile_job_rows, queue_name="default", interval=60, job_timeout=120)
