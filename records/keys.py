"""Index keys: any identifier (IRI, agent key, document id) squeezed into a bounded column.

Short values are kept as they are, so the tables stay readable; long ones become a SHA-256 digest
so that no identifier, however long, can overflow a B-tree entry.
"""

from __future__ import annotations

import hashlib

MAX_PLAIN = 250


def index_key(value: str) -> str:
    if len(value) <= MAX_PLAIN:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()
