"""The OpenAPI description of /api/v1/analytics/disparity (added to app.api.openapi)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from marshmallow import Schema, fields, validate

from analytics.indicators import INDICATORS, LEVELS


class DisparityQuerySchema(Schema):
    indicator = fields.String(
        required=True,
        validate=validate.OneOf(INDICATORS),
        metadata={"description": "which indicator"},
    )
    level = fields.String(
        load_default=None,
        validate=validate.OneOf(LEVELS),
        metadata={"description": "units compared; default: the level just below the region"},
    )
    period = fields.String(
        load_default=None,
        validate=validate.Length(max=10),
        metadata={"description": "school year (2026), month (2026-05) or ISO week (2026-W23)"},
    )
    region = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "JP, a prefecture or municipality code; default: your own"},
    )


_NUMBER = {"type": "number", "nullable": True}
_UNIT = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "name": {"type": "string"},
        "parent_code": {"type": "string", "nullable": True},
        "parent_name": {"type": "string", "nullable": True},
        "value": _NUMBER,
        "pupils": {"type": "integer", "nullable": True},
        "below_threshold": {
            "type": "number",
            "nullable": True,
            "description": "score indicators: share of pupil-weeks under score_threshold",
        },
        "hidden": {
            "type": "boolean",
            "description": "suppressed (fewer than k pupils, or complementary suppression)",
        },
    },
}
_MEASURES = {
    "type": "object",
    "properties": dict.fromkeys(
        (
            "mean",
            "gini",
            "theil",
            "theil_between",
            "theil_within",
            "cv",
            "atkinson_05",
            "atkinson_1",
            "atkinson_2",
            "p90_p10",
            "max_min",
        ),
        _NUMBER,
    ),
}
REPORT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "indicator": {"type": "string", "enum": list(INDICATORS)},
        "level": {"type": "string", "enum": list(LEVELS)},
        "period": {"type": "object"},
        "region": {"type": "object"},
        "min_cell": {"type": "integer"},
        "score_threshold": {"type": "number", "nullable": True},
        "total": {"type": "object"},
        "units": {"type": "array", "items": _UNIT, "description": "listed by code, not ranked"},
        "hidden_units": {"type": "integer"},
        "measures": _MEASURES,
        "decomposition_groups": {"type": "string", "nullable": True},
        "distribution": {"type": "object"},
        "trend": {"type": "array", "items": {"type": "object"}},
    },
}


def add_analytics_paths(spec: APISpec, errors: dict[str, Any]) -> None:
    spec.components.schema("DisparityReport", REPORT)
    spec.path(
        path="/analytics/disparity",
        operations={
            "get": {
                "description": "Regional disparity of one indicator (board analysts: own "
                "region only; never a pupil). JSON, or CSV of the units with Accept: text/csv.",
                "parameters": [{"in": "query", "schema": DisparityQuerySchema}],
                "responses": {
                    "200": {
                        "description": "the report",
                        "content": {
                            "application/json": {"schema": "DisparityReport"},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    "202": {"description": "being computed; retry after Retry-After seconds"},
                    **errors,
                },
            }
        },
    )
