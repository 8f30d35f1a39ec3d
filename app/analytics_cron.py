"""rq cron configuration: `rq cron app/analytics_cron.py --url $ASHIATO_REDIS_URL` enqueues the
rollup job every five minutes and a full rebuild nightly (03:30 JST = 18:30 UTC);
`flask worker --queue analytics` runs them inside the app context."""

from __future__ import annotations

from rq.cron import register

from app.jobs import refresh_rollups

register(refresh_rollups, queue_name="analytics", interval=300)
register(refresh_rollups, queue_name="analytics", kwargs={"full": True}, cron="30 18 * * *")
