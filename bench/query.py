"""Query benchmark: GET /xapi/statements against a seeded store, p50/p95 per kind of query.

Filter values are drawn from statements the seeder wrote: with the same --seed and --count as
bench.seed, statement i is regenerated here, so its pupil, activity and registration are in the
store. Kinds of query:

    agent         agent=<pupil>&since=<middle of the stored range>
    verb          verb=<one of the six verbs>
    activity      activity=<a content or unit id>
    paging        until=<random point>, then follow `more` for 10 pages (each page is a request)
    registration  registration=<uuid of one pupil's sitting>

    python -m bench.query --url http://127.0.0.1:8055/xapi/ --key K --secret S --repeat 3
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

import orjson

from bench.client import Connection, Reply, Target
from bench.machine import CpuSplit, cpu_by_group, wait_for_quiet
from bench.report import Latency, median
from bench.statements import ADL, VERBS, StatementFactory

KINDS = ("agent", "verb", "activity", "paging", "registration")

# A plan is a list of request chains: each chain is a first query; `pages` > 1 follows `more`.
Chain = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Run:
    kind: str
    latency: Latency
    statements_per_response: float
    errors: int
    first_error: str
    cpu: CpuSplit

    def show(self, label: str) -> str:
        line = (
            f"{label:>7}  {self.kind:<12} {self.latency.count:>5} req  {self.latency.show()}  "
            f"{self.statements_per_response:6.1f} st/response  {self.cpu.show()}"
        )
        if self.errors:
            line += f"\n         {self.errors} errors, first: {self.first_error}"
        return line


class Planner:
    """Query strings for each kind, drawn from statements known to be in the store."""

    def __init__(self, seed: int, count: int, oldest: datetime, newest: datetime, rng_seed: int):
        self.factory = StatementFactory(seed)
        self.count = count
        self.oldest = oldest
        self.newest = newest
        self.rng = random.Random(rng_seed)

    def _sample(self) -> dict[str, object]:
        return self.factory.statement(self.rng.randrange(self.count))

    def _middle(self) -> datetime:
        return self.oldest + (self.newest - self.oldest) / 2

    def chains(self, kind: str, requests: int, pages: int) -> list[Chain]:
        if kind == "paging":
            return [(self._paging(), pages) for _ in range(max(1, requests // pages))]
        make: Callable[[], str] = getattr(self, f"_{kind}")
        return [(make(), 1) for _ in range(requests)]

    def _agent(self) -> str:
        actor = self._sample()["actor"]
        agent = json.dumps(actor, ensure_ascii=False, separators=(",", ":"))
        return urlencode({"agent": agent, "since": _iso(self._middle())})

    def _verb(self) -> str:
        return urlencode({"verb": ADL + self.rng.choice(sorted(VERBS))})

    def _activity(self) -> str:
        target = self._sample()["object"]
        assert isinstance(target, dict)
        return urlencode({"activity": target["id"]})

    def _registration(self) -> str:
        context = self._sample()["context"]
        assert isinstance(context, dict)
        return urlencode({"registration": context["registration"]})

    def _paging(self) -> str:
        span = (self.newest - self.oldest).total_seconds()
        until = self.oldest + timedelta(seconds=self.rng.uniform(0.2 * span, span))
        return urlencode({"until": _iso(until)})


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def stored_range(target: Target) -> tuple[datetime, datetime]:
    """The `stored` times of the oldest and the newest statement."""
    conn = Connection(target)
    ends = []
    for ascending in ("true", "false"):
        reply = conn.get(f"statements?limit=1&ascending={ascending}")
        if reply.status != 200:
            raise SystemExit(f"GET statements failed: {reply.status} {reply.body[:300]!r}")
        found = orjson.loads(reply.body)["statements"]
        if not found:
            raise SystemExit("the store is empty: seed it first (python -m bench.seed)")
        ends.append(datetime.fromisoformat(found[0]["stored"].replace("Z", "+00:00")))
    conn.close()
    return ends[0], ends[1]


@dataclass(slots=True)
class Tally:
    latencies: list[float]
    statements: int = 0
    errors: int = 0
    first_error: str = ""

    def add(self, reply: Reply) -> str:
        """Record a reply; returns its `more` link ('' at the end or on error)."""
        self.latencies.append(reply.seconds)
        if reply.status != 200:
            self.errors += 1
            self.first_error = self.first_error or f"{reply.status} {reply.body[:300]!r}"
            return ""
        page = orjson.loads(reply.body)
        self.statements += len(page["statements"])
        more: str = page["more"]
        return more


def run_kind(target: Target, kind: str, chains: Sequence[Chain], clients: int) -> Run:
    tallies = [Tally([]) for _ in range(clients)]

    def client(n: int) -> None:
        conn, tally = Connection(target), tallies[n]
        for query, pages in _every(chains, n, clients):
            more = tally.add(conn.get(f"statements?{query}"))
            for _ in range(pages - 1):
                if not more:
                    break
                more = tally.add(conn.get(more))
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    cpu_before, began = cpu_by_group(target.port), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = CpuSplit.between(cpu_before, cpu_by_group(target.port), time.perf_counter() - began)
    latencies = [lat for t in tallies for lat in t.latencies]
    return Run(
        kind,
        Latency.of(latencies),
        sum(t.statements for t in tallies) / max(1, len(latencies)),
        sum(t.errors for t in tallies),
        next((t.first_error for t in tallies if t.first_error), ""),
        cpu,
    )


def _every(items: Sequence[Chain], start: int, step: int) -> Iterator[Chain]:
    yield from items[start::step]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8055/xapi/")
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--seed", type=int, default=1, help="the seed bench.seed used")
    parser.add_argument("--count", type=int, default=1_000_000, help="statements seeded")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--requests", type=int, default=200, help="requests per kind and run")
    parser.add_argument("--pages", type=int, default=10, help="pages per paging chain")
    parser.add_argument("--clients", type=int, default=1, help="concurrent clients")
    parser.add_argument("--repeat", type=int, default=3)
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
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per kind")
    args = parser.parse_args(argv)
    target = Target.parse(args.url, args.key, args.secret)
    oldest, newest = stored_range(target)
    print(f"stored from {_iso(oldest)} to {_iso(newest)}", flush=True)
    planner = Planner(args.seed, args.count, oldest, newest, rng_seed=12345)
    if args.warmup:
        for kind in args.kinds:
            run_kind(target, kind, planner.chains(kind, args.warmup, args.pages), args.clients)
    runs: dict[str, list[Run]] = {kind: [] for kind in args.kinds}
    for n in range(1, args.repeat + 1):
        for kind in args.kinds:
            for attempt in range(1 + args.redo_disturbed):
                chains = planner.chains(kind, args.requests, args.pages)
                if args.quiet_below:
                    wait_for_quiet(args.quiet_below, target.port)
                run = run_kind(target, kind, chains, args.clients)
                disturbed = bool(args.quiet_below) and run.cpu.percent["other"] > args.quiet_below
                redo = disturbed and attempt < args.redo_disturbed
                note = "  (disturbed: run again)" if redo else ""
                print(run.show(f"run {n}") + note, flush=True)
                if not redo:
                    break
            runs[kind].append(run)
    for kind, done in runs.items():
        p50 = median([r.latency.p50_ms for r in done])
        p95 = median([r.latency.p95_ms for r in done])
        per = median([r.statements_per_response for r in done])
        errors = sum(r.errors for r in done)
        print(
            f" median  {kind:<12} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
            f"{per:6.1f} st/response  ({len(done)} runs, {errors} errors, "
            f"clients {args.clients})"
        )


if __name__ == "__main__":
    main()
