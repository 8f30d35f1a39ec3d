"""Ingest benchmark: POST /xapi/statements with batches of 1, 50 and 500 from concurrent clients.

Request bodies are generated and serialised before the clock starts; during a run each client
thread only sends bytes over its own keep-alive connection and reads the reply. A run ends when
its requests are used up or its time is over, whichever comes first. Statement ids are fresh
uuid4s on every run, so every run stores new statements (no identical re-posts).

    python -m bench.ingest --url http://127.0.0.1:8055/xapi/ --key K --secret S \\
        --batch 1 50 500 --repeat 3
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text

from bench.client import Connection, Target
from bench.machine import CpuSplit, cpu_by_group, wait_for_quiet
from bench.report import Latency, median
from bench.statements import StatementFactory, dump

DEFAULT_CLIENTS = {1: 8}  # otherwise 4
DEFAULT_REQUESTS = {1: 30_000, 50: 2_000, 500: 240}  # an upper bound; --seconds usually ends it


@dataclass(slots=True)
class ClientResult:
    latencies: list[float] = field(default_factory=list)
    statements: int = 0
    errors: int = 0
    first_error: str = ""


@dataclass(frozen=True, slots=True)
class Run:
    batch: int
    clients: int
    requests: int
    statements: int
    errors: int
    seconds: float
    latency: Latency
    cpu: CpuSplit  # who used the machine during the run
    first_error: str

    @property
    def rate(self) -> float:
        return self.statements / self.seconds if self.seconds else 0.0

    def show(self, label: str) -> str:
        line = (
            f"{label:>7}  batch {self.batch:>3}  clients {self.clients}  "
            f"{self.requests:>6} req  {self.statements:>7} st  {self.seconds:5.1f} s  "
            f"{self.rate:8.0f} st/s  {self.requests / self.seconds:7.1f} req/s  "
            f"{self.latency.show()}  {self.cpu.show()}"
        )
        if self.errors:
            line += f"\n         {self.errors} errors, first: {self.first_error}"
        return line


class BodyMaker:
    """Serialised request bodies; each call continues the statement stream of the seed."""

    def __init__(self, seed: int) -> None:
        self.factory = StatementFactory(seed, with_ids=False)
        self.next_index = 0

    def bodies(self, batch: int, requests: int) -> list[bytes]:
        out = []
        for _ in range(requests):
            statements = list(self.factory.range(self.next_index, batch))
            self.next_index += batch
            for st in statements:
                st["id"] = str(uuid.uuid4())
            out.append(dump(statements))
        return out


def run_once(
    target: Target,
    bodies: Sequence[bytes],
    batch: int,
    clients: int,
    seconds: float,
) -> Run:
    results = [ClientResult() for _ in range(clients)]
    connections = [Connection(target) for _ in range(clients)]
    start_gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(n: int) -> None:
        conn, result = connections[n], results[n]
        mine = bodies[n::clients]
        start_gate.wait()
        for body in mine:
            if time.perf_counter() >= deadline[0]:
                break
            reply = conn.post_statements(body)
            result.latencies.append(reply.seconds)
            if reply.status == 200:
                result.statements += batch
            else:
                result.errors += 1
                if not result.first_error:
                    result.first_error = f"{reply.status} {reply.body[:300]!r}"

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    cpu_before = cpu_by_group(target.port)
    began = time.perf_counter()
    deadline[0] = began + seconds
    start_gate.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    cpu = CpuSplit.between(cpu_before, cpu_by_group(target.port), elapsed)
    for conn in connections:
        conn.close()
    latencies = [lat for r in results for lat in r.latencies]
    return Run(
        batch=batch,
        clients=clients,
        requests=len(latencies),
        statements=sum(r.statements for r in results),
        errors=sum(r.errors for r in results),
        seconds=elapsed,
        latency=Latency.of(latencies),
        cpu=cpu,
        first_error=next((r.first_error for r in results if r.first_error), ""),
    )


def bench_batch(
    target: Target, maker: BodyMaker, batch: int, clients: int, args: argparse.Namespace
) -> list[Run]:
    requests = args.requests or DEFAULT_REQUESTS.get(batch, max(1, 100_000 // batch))
    if args.warmup:
        run_once(target, maker.bodies(batch, clients * args.warmup), batch, clients, 60.0)
    runs = []
    for n in range(1, args.repeat + 1):
        for attempt in range(1 + args.redo_disturbed):
            if args.analyze_url:
                analyze(args.analyze_url)
            bodies = maker.bodies(batch, requests)  # before the clock starts
            if args.quiet_below:
                wait_for_quiet(args.quiet_below, target.port)
            run = run_once(target, bodies, batch, clients, args.seconds)
            disturbed = bool(args.quiet_below) and run.cpu.percent["other"] > args.quiet_below
            redo = disturbed and attempt < args.redo_disturbed
            print(run.show(f"run {n}") + ("  (disturbed: run again)" if redo else ""), flush=True)
            if not redo:
                break
        runs.append(run)
    return runs


def analyze(url: str) -> None:
    """ANALYZE the written tables, standing in for autovacuum where it is off."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for table in ("statements", "statement_index", "activities"):
            conn.execute(text(f"ANALYZE {table}"))
    engine.dispose()


def summary(runs: Sequence[Run]) -> str:
    first = runs[0]
    rate = median([r.rate for r in runs])
    p50 = median([r.latency.p50_ms for r in runs])
    p95 = median([r.latency.p95_ms for r in runs])
    errors = sum(r.errors for r in runs)
    return (
        f" median  batch {first.batch:>3}  clients {first.clients}  {rate:8.0f} st/s  "
        f"p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({len(runs)} runs, {errors} errors)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8055/xapi/")
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 50, 500])
    parser.add_argument(
        "--clients", type=int, help="concurrent clients (default 8 for batch 1, else 4)"
    )
    parser.add_argument("--requests", type=int, help="most requests per run (default by batch)")
    parser.add_argument("--seconds", type=float, default=20.0, help="most seconds per run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per client")
    parser.add_argument(
        "--analyze-url",
        help="database URL: ANALYZE before each run (use where autovacuum is off)",
    )
    parser.add_argument(
        "--quiet-below",
        type=float,
        default=15.0,
        help="before each run, wait until other processes use less than this %% of a core (0: no)",
    )
    parser.add_argument(
        "--redo-disturbed",
        type=int,
        default=2,
        help="run again (up to this many times) when other processes used more than "
        "--quiet-below during the run",
    )
    parser.add_argument("--seed", type=int, default=7, help="statement content (ids are fresh)")
    args = parser.parse_args(argv)
    target = Target.parse(args.url, args.key, args.secret)
    maker = BodyMaker(args.seed)
    maker.factory.city.units  # noqa: B018 - build the city before any timing
    summaries = []
    for batch in args.batch:
        clients = args.clients or DEFAULT_CLIENTS.get(batch, 4)
        summaries.append(summary(bench_batch(target, maker, batch, clients, args)))
    print("\n".join(summaries))


if __name__ == "__main__":
    main()
