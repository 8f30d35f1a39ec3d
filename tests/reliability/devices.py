"""Simulated school devices: each posts its batches with fixed statement ids and retries a batch
until it is acknowledged, as the xAPI spec lets a client do (ids make a retry idempotent)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.factories import make_statement


def make_batches(devices: int, batches: int, size: int) -> list[list[list[dict[str, Any]]]]:
    return [
        [
            [
                make_statement(
                    id=str(uuid.uuid4()),
                    actor={
                        "objectType": "Agent",
                        "account": {"homePage": "https://idp.example.jp/", "name": f"p{d}"},
                    },
                )
                for _ in range(size)
            ]
            for _ in range(batches)
        ]
        for d in range(devices)
    ]


@dataclass(eq=False)  # threads are hashed by identity
class Device(threading.Thread):
    url: str
    auth: dict[str, str]
    batches: list[list[dict[str, Any]]]
    give_up_at: float
    acknowledged: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)  # anything but 200, or 503+Retry-After
    connection_errors: int = 0

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, daemon=True)

    def run(self) -> None:
        session = requests.Session()
        for batch in self.batches:
            while time.monotonic() < self.give_up_at:
                try:
                    response = session.post(
                        f"{self.url}/xapi/statements", json=batch, headers=self.auth, timeout=30
                    )
                except requests.Timeout:
                    self.unexpected.append("timeout: the server hung")
                    continue
                except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                    # The worker serving us died (before answering, or in the middle of the
                    # answer): the batch was not acknowledged; send it again.
                    self.connection_errors += 1
                    session = requests.Session()
                    time.sleep(0.05)
                    continue
                self.statuses[response.status_code] += 1
                if response.status_code == 200:
                    ids = response.json()
                    if ids != [st["id"] for st in batch]:
                        self.unexpected.append(f"200 with other ids: {ids}")
                    self.acknowledged.extend(ids)
                    break
                if response.status_code == 503 and response.headers.get("Retry-After"):
                    time.sleep(0.2)  # shorter than Retry-After: the test is bounded
                    continue
                self.unexpected.append(f"{response.status_code}: {response.text[:200]}")
                time.sleep(0.2)
            else:
                self.unexpected.append("gave up: batch never acknowledged")
                return


def run_devices(devices: list[Device], seconds: float) -> None:
    for device in devices:
        device.start()
    for device in devices:
        device.join(timeout=seconds)
