"""Load benchmark: N device clients post small batches for T seconds; errors, latency, memory.

What a lesson's end looks like: every device sends a batch, waits a little (`--think`), sends
the next. Each client has its own keep-alive connection; bodies are prepared statements given
fresh ids per request, so every request stores new statements. While the clients run, the RSS
of every process of the server (the gunicorn master and its workers, found again at every
sample so restarted workers count) and of the processes given with `--pid` (with their
children: a PostgreSQL postmaster and its backends) is sampled; the table says whether memory
stayed flat after the warm-up (`--warmup` seconds).

    python -m bench.load --url http://127.0.0.1:8055/xapi/ --key K --secret S \\
        --clients 200 --seconds 600 --batch 5 --server-pid $(cat gunicorn.pid) --pid $PGPID

Prints one line per repeat and the medians; exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bench.client import Connection, Target
from bench.report import Latency, median
from bench.statements import StatementFactory


@dataclass(slots=True)
class ClientResult:
    latencies: list[float] = field(default_factory=list)
    statements: int = 0
    errors: int = 0
    first_error: str = ""


@dataclass(frozen=True, slots=True)
class Run:
    clients: int
    batch: int
    seconds: float
    requests: int
    statements: int
    errors: int
    latency: Latency
    memory: dict[str, list[int]]  # process label -> RSS samples (kB)
    first_error: str

    def show(self, label: str) -> str:
        line = (
            f"{label:>7}  clients {self.clients}  batch {self.batch}  {self.seconds:6.1f} s  "
            f"{self.requests:>7} req  {self.statements:>8} st  "
            f"{self.statements / self.seconds:7.0f} st/s  errors {self.errors}  "
            f"{self.latency.show()}"
        )
        if self.first_error:
            line += f"\n         first error: {self.first_error}"
        return line


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None  # the process ended
    return None


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


class MemorySampler(threading.Thread):
    """RSS of the watched processes and their children, every `every` seconds."""

    def __init__(self, roots: dict[str, int], every: float, each_child: set[str]) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.each_child = each_child  # roots whose children are listed one by one
        self.every = every
        self.samples: dict[str, list[int]] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for name, pid in self.roots.items():
                self._record(name, pid)
                kids = sorted(children(pid))
                if name in self.each_child:
                    for n, child in enumerate(kids):
                        # By rank, not pid: a restarted worker continues its series.
                        self._record(f"{name}.{n}", child)
                else:
                    # A database's backends come and go (and serve others too): their sum.
                    total = sum(rss_kb(child) or 0 for child in kids)
                    self.samples.setdefault(f"{name}+children", []).append(total)
            self.stop.wait(self.every)

    def _record(self, label: str, pid: int) -> None:
        value = rss_kb(pid)
        if value is not None:
            self.samples.setdefault(label, []).append(value)


class Bodies:
    """Request bodies of `batch` statements, each request with fresh statement ids."""

    def __init__(self, batch: int, seed: int) -> None:
        factory = StatementFactory(seed, with_ids=False)
        # Serialised once without ids; an id is spliced in per request (cheap for the client).
        self.templates = [orjson.dumps(st)[1:] for st in factory.range(0, 512)]
        self.batch = batch
        self.lock = threading.Lock()
        self.next = 0

    def body(self) -> bytes:
        with self.lock:
            start = self.next
            self.next += self.batch
        parts = [
            b'{"id":"' + str(uuid.uuid4()).encode() + b'",' + self.templates[i % 512]
            for i in range(start, start + self.batch)
        ]
        return b"[" + b",".join(parts) + b"]"


def run_once(args: argparse.Namespace, target: Target, roots: dict[str, int]) -> Run:
    bodies = Bodies(args.batch, seed=args.seed)
    results = [ClientResult() for _ in range(args.clients)]
    stop_at = [0.0]
    gate = threading.Barrier(args.clients + 1)

    def client(n: int) -> None:
        result = results[n]
        conn = Connection(target, timeout=args.timeout)
        gate.wait()
        # Devices do not start in lockstep: spread the first requests over one think time.
        time.sleep(args.think * n / args.clients)
        while time.perf_counter() < stop_at[0]:
            try:
                reply = conn.post_statements(bodies.body())
            except OSError as exc:
                result.errors += 1
                result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"
                conn = Connection(target, timeout=args.timeout)
                continue
            result.latencies.append(reply.seconds)
            if reply.status == 200:
                result.statements += args.batch
            else:
                result.errors += 1
                result.first_error = result.first_error or f"{reply.status} {reply.body[:300]!r}"
            time.sleep(args.think)
        conn.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    sampler = MemorySampler(roots, args.sample_every, {"gunicorn"})
    sampler.start()
    began = time.perf_counter()
    stop_at[0] = began + args.seconds
    gate.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    sampler.stop.set()
    sampler.join()
    latencies = [lat for r in results for lat in r.latencies]
    return Run(
        clients=args.clients,
        batch=args.batch,
        seconds=elapsed,
        requests=len(latencies),
        statements=sum(r.statements for r in results),
        errors=sum(r.errors for r in results),
        latency=Latency.of(latencies),
        memory=sampler.samples,
        first_error=next((r.first_error for r in results if r.first_error), ""),
    )


def memory_table(samples: dict[str, list[int]], warmup_samples: int) -> str:
    """Per process: RSS after warm-up, at the end, the largest, and the change (MB)."""
    lines = [f"  {'process':<14} {'start MB':>9} {'end MB':>8} {'max MB':>8} {'change':>8}"]
    for label, values in sorted(samples.items()):
        steady = values[warmup_samples:] or values
        first, last = steady[0] / 1024, steady[-1] / 1024
        lines.append(
            f"  {label:<14} {first:9.1f} {last:8.1f} {max(steady) / 1024:8.1f} {last - first:+8.1f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the xAPI root, http://127.0.0.1:PORT/xapi/")
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--batch", type=int, default=5, help="statements per request")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between a device's posts")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--server-pid", type=int, help="gunicorn master (workers found from it)")
    parser.add_argument("--pid", type=int, action="append", default=[], help="more to watch")
    parser.add_argument("--sample-every", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds before 'start' RSS")
    args = parser.parse_args(argv)

    target = Target.parse(args.url, args.key, args.secret)
    roots = {f"pid{pid}": pid for pid in args.pid}
    if args.server_pid:
        roots["gunicorn"] = args.server_pid
    runs = []
    for n in range(args.repeat):
        run = run_once(args, target, roots)
        runs.append(run)
        print(run.show(f"run {n + 1}"), flush=True)
        if run.memory:
            print(memory_table(run.memory, int(args.warmup / args.sample_every)), flush=True)
    p50 = median([r.latency.p50_ms for r in runs])
    p95 = median([r.latency.p95_ms for r in runs])
    rate = median([r.statements / r.seconds for r in runs])
    errors = sum(r.errors for r in runs)
    print(
        f" median  p50 {p50:.1f} ms  p95 {p95:.1f} ms  {rate:.0f} st/s  "
        f"errors {errors} in {sum(r.requests for r in runs)} requests"
    )
    raise SystemExit(1 if errors else 0)


if __name__ == "__main__":
    main()
