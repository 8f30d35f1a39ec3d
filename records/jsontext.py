"""JSON text out: orjson for speed, with a fallback for what it cannot encode.

PostgreSQL's JSONB normalises numbers, so a client's 1e20 comes back as the integer
100000000000000000000, which is beyond orjson's 64-bit integers. Such a statement is valid and
must stay readable, so those rare values go through the standard library instead.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dump_json(value: Any, *, sort_keys: bool = False) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
    except TypeError:
        text = json.dumps(
            value, ensure_ascii=False, sort_keys=sort_keys, separators=(",", ":"), allow_nan=False
        )
        return text.encode("utf-8")
