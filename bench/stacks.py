"""Summarise a py-spy profile (`py-spy record --format raw`): where the server's time goes.

    py-spy record --pid <gunicorn master> --subprocesses --format raw -o /tmp/prof.txt ...
    python -m bench.stacks /tmp/prof.txt                      # project functions, inclusive
    python -m bench.stacks /tmp/prof.txt --under save_statements   # its steps, by call line

Percentages are of the samples taken inside a request (`--within`, default Flask.wsgi_app): the
server's CPU time with `py-spy --gil`, its wall time (waiting for PostgreSQL included) with
`py-spy --idle`. A function is counted once per sample however deep it recurses.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
PROJECT = ("app/", "records/")


@dataclass(frozen=True, slots=True)
class Frame:
    func: str
    file: str
    line: int

    @property
    def name(self) -> str:
        return f"{self.func} ({self.file})"

    @property
    def at(self) -> str:
        return f"{self.func} ({self.file}:{self.line})"


def read(path: Path) -> Iterator[tuple[list[Frame], int]]:
    for raw in path.read_text().splitlines():
        stack, _, count = raw.rpartition(" ")
        frames = []
        for part in stack.split(";"):
            found = _FRAME.match(part)
            if found is None:  # "process 123:..." and "thread ..." prefixes
                continue
            frames.append(Frame(found["func"], _short(found["file"]), int(found["line"] or 0)))
        yield frames, int(count)


def _short(file: str) -> str:
    for marker in ("site-packages/", "/work/main/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def inclusive(samples: list[tuple[list[Frame], int]], project_only: bool) -> Counter[str]:
    totals: Counter[str] = Counter()
    for frames, count in samples:
        names = {f.name for f in frames if not project_only or f.file.startswith(PROJECT)}
        for name in names:
            totals[name] += count
    return totals


def leaf(samples: list[tuple[list[Frame], int]]) -> Counter[str]:
    """Self time by the package of the innermost frame."""
    totals: Counter[str] = Counter()
    for frames, count in samples:
        if frames:
            top = frames[-1].file
            totals[top.split("/")[0] if "/" in top else top] += count
    return totals


def under(samples: list[tuple[list[Frame], int]], func: str) -> Counter[str]:
    """Time below `func`, by the call it made (the next frame's caller line)."""
    totals: Counter[str] = Counter()
    for frames, count in samples:
        for i, frame in enumerate(frames):
            if frame.func == func:
                child = frames[i + 1] if i + 1 < len(frames) else None
                key = f"line {frame.line}: {child.func if child else '(self)'}"
                totals[key] += count
                break
    return totals


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--under", help="break down the time below this function")
    parser.add_argument(
        "--within",
        default="Flask.wsgi_app",
        help="keep only samples inside this function (default: requests; '' keeps all)",
    )
    parser.add_argument("--all", action="store_true", help="every function, not only app/records")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    samples = list(read(args.profile))
    everything = sum(count for _, count in samples)
    if args.within:
        samples = [(f, c) for f, c in samples if any(fr.func == args.within for fr in f)]
    total = sum(count for _, count in samples)
    print(f"{total} samples inside {args.within or 'anything'} (of {everything})")
    if args.under:
        table = under(samples, args.under)
        inside = sum(table.values())
        print(f"below {args.under}: {100 * inside / total:.1f}% of all samples")
    else:
        table = inclusive(samples, project_only=not args.all)
    for name, count in table.most_common(args.top):
        print(f"{100 * count / total:6.1f}%  {name}")
    if not args.under:
        print("\nself time by package of the innermost frame:")
        for name, count in leaf(samples).most_common(12):
            print(f"{100 * count / total:6.1f}%  {name}")


if __name__ == "__main__":
    main()
