"""The OpenAPI 3 document of /api/v1, built from the marshmallow schemas (apispec)."""

from __future__ import annotations

from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from app.api import schemas
from app.api.analytics_spec import add_analytics_paths
from app.api.transfer_spec import add_transfer_paths

_ERRORS = {
    "400": {
        "description": "invalid parameters",
        "content": {"application/json": {"schema": "Error"}},
    },
    "401": {"description": "not signed in", "content": {"application/json": {"schema": "Error"}}},
    "403": {"description": "not allowed", "content": {"application/json": {"schema": "Error"}}},
    "404": {"description": "not found", "content": {"application/json": {"schema": "Error"}}},
}


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {
        "200": {"description": description, "content": {"application/json": {"schema": schema}}},
        **_ERRORS,
    }


@cache
def openapi_document() -> dict[str, Any]:
    spec = APISpec(
        title="Ashiato API",
        version="1",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "People, classes and learning records, under access control."},
        servers=[{"url": "/api/v1"}],
        components={
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            }
        },
        security=[{"bearer": []}, {"cookie": []}],
    )
    spec.components.schema("Error", schema=schemas.ErrorSchema)
    spec.components.schema("Person", schema=schemas.PersonSchema)
    spec.components.schema("Me", schema=schemas.MeSchema)
    spec.components.schema("PeoplePage", schema=schemas.PeoplePageSchema)
    spec.components.schema("StatementsPage", schema=schemas.StatementsPageSchema)
    spec.components.schema("Class", schema=schemas.ClassSchema)
    public_id = {"name": "public_id", "in": "path", "required": True, "schema": {"type": "string"}}
    spec.path(path="/me", operations={"get": {"responses": _ok("Me", "the signed-in account")}})
    spec.path(
        path="/people",
        operations={
            "get": {
                "parameters": [{"in": "query", "schema": schemas.PeopleQuerySchema}],
                "responses": _ok("PeoplePage", "people you may see"),
            }
        },
    )
    spec.path(
        path="/people/{public_id}",
        operations={"get": {"parameters": [public_id], "responses": _ok("Person", "a person")}},
    )
    spec.path(
        path="/people/{public_id}/statements",
        operations={
            "get": {
                "parameters": [public_id, {"in": "query", "schema": schemas.StatementsQuerySchema}],
                "responses": _ok("StatementsPage", "all statements of the person"),
            }
        },
    )
    spec.components.schema("MergeRequest", schema=schemas.MergeRequestSchema)
    spec.components.schema("Merge", schema=schemas.MergeSchema)
    spec.path(
        path="/people/{public_id}/merges",
        operations={
            "post": {
                "parameters": [public_id],
                "requestBody": {"content": {"application/json": {"schema": "MergeRequest"}}},
                "responses": {
                    "201": {
                        "description": "merged (recorded; can be undone)",
                        "content": {"application/json": {"schema": "Merge"}},
                    },
                    **_ERRORS,
                },
            }
        },
    )
    merge_id = {"name": "merge_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    spec.path(
        path="/merges/{merge_id}/undo",
        operations={"post": {"parameters": [merge_id], "responses": _ok("Merge", "undone")}},
    )
    spec.components.schema("Job", schema=schemas.JobSchema)
    spec.path(
        path="/roster/imports",
        operations={
            "post": {
                "description": "Upload a OneRoster 1.2 CSV zip; it is imported by a job.",
                "requestBody": {
                    "content": {
                        "application/zip": {"schema": {"type": "string", "format": "binary"}},
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        },
                    }
                },
                "responses": {
                    "202": {
                        "description": "accepted; follow status_url",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "job": {"type": "string"},
                                        "status_url": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    **_ERRORS,
                },
            }
        },
    )
    job_id = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
    spec.path(
        path="/jobs/{job_id}",
        operations={"get": {"parameters": [job_id], "responses": _ok("Job", "the job")}},
    )
    spec.path(
        path="/classes",
        operations={
            "get": {
                "responses": {
                    "200": {
                        "description": "classes you may see",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "classes": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Class"},
                                        }
                                    },
                                }
                            }
                        },
                    },
                    **_ERRORS,
                }
            }
        },
    )
    add_analytics_paths(spec, _ERRORS)
    add_transfer_paths(spec, _ERRORS)
    document: dict[str, Any] = spec.to_dict()
    return document
