"""Try gunicorn worker x thread counts: start the server, run the ingest benchmark, stop it.

    ASHIATO_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_ingest \\
    ASHIATO_SECRET_KEY=x python -m bench.sweep --key K --secret S --configs 2x1 3x2 4x1 4x2 \\
        --batch 1 500 --repeat 3

Only 127.0.0.1 is used; each server is stopped (its process group) before the next starts.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.client import Target
from bench.ingest import BodyMaker, Run, bench_batch, summary

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def gunicorn(workers: int, threads: int, port: int, log: Path) -> Iterator[None]:
    """A gunicorn serving app:create_app() on 127.0.0.1:port, stopped on exit."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "app:create_app()",
    ]
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed command line
            command, cwd=ROOT, stdout=out, stderr=out, start_new_session=True, env=os.environ
        )
    try:
        _wait_healthy(port, proc)
        yield
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _wait_healthy(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not become healthy in 30 s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--configs", nargs="+", default=["2x1", "3x2", "4x2"])
    parser.add_argument("--port", type=int, default=8056)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 500])
    parser.add_argument("--clients", type=int)
    parser.add_argument("--requests", type=int)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--quiet-below", type=float, default=15.0)
    parser.add_argument("--redo-disturbed", type=int, default=2)
    parser.add_argument("--analyze-url", default=os.environ.get("ASHIATO_DATABASE_URL"))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--log", type=Path, default=Path(tempfile.gettempdir()) / "bench-sweep-gunicorn.log"
    )
    args = parser.parse_args(argv)
    target = Target.parse(f"http://127.0.0.1:{args.port}/xapi/", args.key, args.secret)
    maker = BodyMaker(args.seed)
    # Rounds: every configuration once per round, so the growing table and any disturbance
    # from outside fall on all configurations alike.
    once = argparse.Namespace(**{**vars(args), "repeat": 1})
    runs: dict[tuple[str, int], list[Run]] = {}
    for round_number in range(1, args.repeat + 1):
        for config in args.configs:
            workers, threads = (int(n) for n in config.split("x"))
            print(
                f"--- round {round_number}: gunicorn -w {workers} --threads {threads}", flush=True
            )
            with gunicorn(workers, threads, args.port, args.log):
                for batch in args.batch:
                    clients = args.clients or (8 if batch == 1 else 4)
                    runs.setdefault((config, batch), []).extend(
                        bench_batch(target, maker, batch, clients, once)
                    )
    for (config, _batch), done in runs.items():
        print(f"{config:>5} {summary(done)}")


if __name__ == "__main__":
    main()
