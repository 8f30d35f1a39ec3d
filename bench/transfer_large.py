"""Transfer packages at scale (issue 5): a pupil with 50,000 statements and 1 GB of
attachments exports and imports without being held in memory. Prints the time and the peak
resident memory (ru_maxrss) of each step, each measured in a process of its own so that
seeding does not count:

- seed: instance A (the pupil: portfolio, N statements, M MB of attachments of random bytes)
  and instance B (the same pupil, by userMasterIdentifier, in their next school);
- export: POST /api/v1/learners/<id>/exports on A (job in-process: query, NDJSON, attachments
  copied from the database to files, bag, CLR, signature, zip, package stored in chunks), then
  GET of the package streamed to a file;
- import: POST /api/v1/imports on B with the file as the request body (streamed in, stored in
  chunks), every check, then every write.

    python -m bench.transfer_large [--statements 50000] [--attachment-mb 1024]
        [--attachment-size-mb 8] [--database-url ... --database-url-b ...] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from flask import Flask

from app.db import get_engine, new_session
from bench.portfolio_page import SERVICE_URL, statements_for
from bench.transfer import SERVICE_URL_B, _app
from records.identity.accounts import create_token
from records.portability.keys import published_keys
from records.portability.trust import add_trusted
from records.store import AttachmentPart, Writer, save_statements
from records.xapi import parse_statement, parse_statements
from tests.portability.world import SCHOOL_A, build_receiver, build_sender

MB = 1024 * 1024


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _open(args: argparse.Namespace, which: str) -> Flask:
    folder = Path(args.folder)
    if which == "a":
        url = args.database_url or f"sqlite:///{folder / 'a.sqlite3'}"
        return _app(url, SERVICE_URL, folder, fresh=args.phase == "seed")
    url = args.database_url_b or f"sqlite:///{folder / 'b.sqlite3'}"
    return _app(url, SERVICE_URL_B, folder, fresh=args.phase == "seed")


def seed(args: argparse.Namespace) -> dict[str, Any]:
    app_a, app_b = _open(args, "a"), _open(args, "b")
    began = time.perf_counter()
    with app_a.app_context(), new_session() as session:
        sender = build_sender(session, SERVICE_URL, app_a.config["SECRET_KEY"].encode())
        session.commit()
        writer = Writer(
            sender["org_id"], None, {"objectType": "Agent", "mbox": "mailto:bench@ashiato.bench"}
        )
        batch = statements_for(sender["pupil"], args.statements)
        for start in range(0, len(batch), 500):
            save_statements(session, parse_statements(batch[start : start + 500]), writer)
            session.commit()
        del batch
        actor = {
            "objectType": "Agent",
            "account": {"homePage": SERVICE_URL, "name": sender["pupil"]},
        }
        size = args.attachment_size_mb * MB
        for _ in range(max(1, args.attachment_mb // args.attachment_size_mb)):
            content = os.urandom(size)
            sha = hashlib.sha256(content).hexdigest()
            statement = {
                "id": str(uuid.uuid4()),
                "actor": actor,
                "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                "object": {"objectType": "Activity", "id": "https://contents.example.jp/video"},
                "attachments": [
                    {
                        "usageType": "http://id.tincanapi.com/attachment/supporting_media",
                        "display": {"ja": "動画"},
                        "contentType": "video/mp4",
                        "length": size,
                        "sha2": sha,
                    }
                ],
            }
            save_statements(
                session,
                [parse_statement(statement)],
                writer,
                parts=[AttachmentPart(sha, "video/mp4", content)],
            )
            session.commit()
            session.expunge_all()
    with app_b.app_context(), new_session() as session:
        build_receiver(session, SERVICE_URL_B, app_b.config["SECRET_KEY"].encode())
        session.commit()
    _dispose(app_a, app_b)
    return {"pupil": sender["pupil"], "seconds": time.perf_counter() - began}


def export(args: argparse.Namespace) -> dict[str, Any]:
    app = _open(args, "a")
    with app.app_context(), new_session() as session:
        headers = _bearer(session, "admin@a.example.jp", app)
    client = app.test_client()
    baseline = _maxrss_mb()
    began = time.perf_counter()
    started = client.post(f"/api/v1/learners/{args.pupil}/exports", headers=headers).get_json()
    assert started["status"] == "finished", started
    built = time.perf_counter() - began
    answer = client.get(started["package_url"], headers=headers, buffered=False)
    with Path(args.package).open("wb") as out:
        for chunk in answer.response:
            out.write(chunk)
    answer.close()
    seconds = time.perf_counter() - began
    with app.app_context(), new_session() as session:
        key = published_keys(session, SCHOOL_A)[0]
    _dispose(app)
    return {
        "seconds": seconds,
        "build_seconds": built,
        "package_mb": Path(args.package).stat().st_size / MB,
        "counts": started["counts"],
        "maxrss_mb": _maxrss_mb(),
        "baseline_maxrss_mb": baseline,
        "public_key": key.public_key,
    }


def import_(args: argparse.Namespace) -> dict[str, Any]:
    app = _open(args, "b")
    with app.app_context(), new_session() as session:
        add_trusted(session, args.public_key, SCHOOL_A, "bench")
        headers = _bearer(session, "admin@b.example.jp", app)
        session.commit()
    client = app.test_client()
    baseline = _maxrss_mb()
    size = Path(args.package).stat().st_size
    began = time.perf_counter()
    with Path(args.package).open("rb") as body:
        job = client.post(
            "/api/v1/imports",
            headers={**headers, "Content-Type": "application/zip"},
            input_stream=body,
            content_length=size,
        ).get_json()
    seconds = time.perf_counter() - began
    assert job["status"] == "finished", job
    _dispose(app)
    return {
        "seconds": seconds,
        "receipt": job["receipt"]["statements"] | {"attachments": job["receipt"]["attachments"]},
        "maxrss_mb": _maxrss_mb(),
        "baseline_maxrss_mb": baseline,
    }


def _bearer(session: Any, email: str, app: Flask) -> dict[str, str]:
    token = create_token(session, email, "bench", app.config["CREDENTIAL_HASH_KEY"].encode())
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def _dispose(*apps: Flask) -> None:
    for app in apps:
        with app.app_context():
            get_engine().dispose()


def _phase(args: argparse.Namespace, phase: str, **extra: str) -> dict[str, Any]:
    """Run one phase in a fresh process (its peak memory is its own); returns its report."""
    command = [sys.executable, "-m", "bench.transfer_large", "--phase", phase]
    for name in ("statements", "attachment_mb", "attachment_size_mb"):
        command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    for name, value in {
        "folder": args.folder,
        "database-url": args.database_url,
        "database-url-b": args.database_url_b,
        **extra,
    }.items():
        if value:
            command += [f"--{name.replace('_', '-')}", value]
    done = subprocess.run(command, check=False, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"the {phase} phase failed:\n{done.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statements", type=int, default=50_000)
    parser.add_argument("--attachment-mb", type=int, default=1024)
    parser.add_argument("--attachment-size-mb", type=int, default=8)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--database-url-b", default="")
    parser.add_argument("--keep", action="store_true", help="keep the databases and package")
    parser.add_argument("--phase", default="", help=argparse.SUPPRESS)
    parser.add_argument("--folder", default="", help=argparse.SUPPRESS)
    parser.add_argument("--pupil", default="", help=argparse.SUPPRESS)
    parser.add_argument("--package", default="", help=argparse.SUPPRESS)
    parser.add_argument("--public-key", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        run = {"seed": seed, "export": export, "import": import_}[args.phase]
        print(json.dumps(run(args)))
        return
    args.folder = tempfile.mkdtemp(prefix="ashiato-bench-transfer-large-")
    package = str(Path(args.folder) / "package.zip")
    try:
        seeded = _phase(args, "seed")
        print(
            f"seeded {args.statements} statements and {args.attachment_mb} MB of attachments "
            f"({args.attachment_size_mb} MB each) in {seeded['seconds']:.0f} s "
            f"({(args.database_url or 'sqlite').split(':')[0]})"
        )
        out = _phase(args, "export", pupil=seeded["pupil"], package=package)
        print(
            f"export    {out['seconds']:7.1f} s (built in {out['build_seconds']:.1f} s), "
            f"package {out['package_mb']:.0f} MB, peak RSS {out['maxrss_mb']:.0f} MB "
            f"(before the export {out['baseline_maxrss_mb']:.0f} MB); {out['counts']}"
        )
        into = _phase(args, "import", package=package, public_key=out["public_key"])
        print(
            f"import    {into['seconds']:7.1f} s, peak RSS {into['maxrss_mb']:.0f} MB "
            f"(before the import {into['baseline_maxrss_mb']:.0f} MB); {into['receipt']}"
        )
    finally:
        if args.keep:
            print(f"kept in {args.folder}")
        else:
            shutil.rmtree(args.folder, ignore_errors=True)


if __name__ == "__main__":
    main()
