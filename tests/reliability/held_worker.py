"""A real Ashiato rq worker (app.queue.run_worker, as `flask worker` runs it) that stops each job
at a known point so that a test can kill it there. Test-only: nothing in the app holds jobs.

    HOLD_DIR=/tmp/x HOLD_FRACTION=0.75 python -m tests.reliability.held_worker exports default

The hold listens to app.jobs.job_progress: at the job's first progress report with
done >= HOLD_FRACTION x total, the work horse writes `HOLD_DIR/<job row id>.held` (a line:
its pid, done, total) and sleeps, with the job's work written but not committed. Once a job
has been held, its later runs go through (HOLD_EVERY_RUN=1: every run is held).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from app import create_app
from app.jobs import job_progress
from app.queue import run_worker

HOLD_DIR = Path(os.environ.get("HOLD_DIR", "."))
FRACTION = float(os.environ.get("HOLD_FRACTION", "0.75"))
EVERY_RUN = os.environ.get("HOLD_EVERY_RUN") == "1"


def hold(job_id: str, *, done: int, total: int) -> None:
    if total <= 0 or done < FRACTION * total:
        return
    marker = HOLD_DIR / f"{job_id}.held"
    if marker.exists() and not EVERY_RUN:
        return
    with marker.open("a") as out:
        out.write(f"{os.getpid()} {done} {total}\n")
    while True:  # until the test kills this process
        time.sleep(60)


def main() -> None:
    app = create_app()
    job_progress.connect(hold)
    with app.app_context():
        run_worker(tuple(sys.argv[1:]))


if __name__ == "__main__":
    main()
