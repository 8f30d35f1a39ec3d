"""OpenAPI description and output schemas of the transfer endpoints (app/api/transfer.py)."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from marshmallow import Schema, fields

from records.portability.keys import PublicKeyInfo


class ExportSchema(Schema):
    id = fields.String()
    job = fields.String(attribute="job_id")
    person = fields.String()
    status = fields.String(metadata={"description": "queued | running | finished | failed"})
    progress_done = fields.Integer()
    progress_total = fields.Integer()
    error = fields.String()
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    size = fields.Integer(metadata={"description": "bytes of the zip, once built"})
    sha256 = fields.String(metadata={"description": "SHA-256 of the zip, once built"})
    kid = fields.String(allow_none=True, metadata={"description": "the signing key's id"})
    counts = fields.Dict()
    expired = fields.Boolean()
    recipient_kind = fields.String(
        metadata={"description": "self | school | board | third_party | '' (transfer flow)"}
    )
    recipient = fields.String(
        attribute="recipient_code", allow_none=True, metadata={"description": "organisation code"}
    )
    purpose = fields.String(metadata={"description": "self | transfer | a consented purpose"})


class ImportJobSchema(Schema):
    id = fields.String()
    status = fields.String(metadata={"description": "queued | running | finished | failed"})
    progress_done = fields.Integer()
    progress_total = fields.Integer()
    error = fields.String(metadata={"description": "why the package was refused"})
    receipt = fields.Dict(
        metadata={"description": "counts imported, skipped and conflicts, once finished"}
    )


class SigningKeySchema(Schema):
    kid = fields.String()
    org_code = fields.String()
    public_key = fields.String(metadata={"description": "Ed25519 Multikey (z6Mk...)"})
    status = fields.String(metadata={"description": "active | retired | revoked"})
    created_at = fields.AwareDateTime()
    jwk = fields.Method("_jwk")

    def _jwk(self, key: PublicKeyInfo) -> dict[str, str]:
        return key.jwk()


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def add_transfer_paths(spec: APISpec, errors: dict[str, Any]) -> None:
    spec.components.schema("Export", schema=ExportSchema)
    spec.components.schema("ImportJob", schema=ImportJobSchema)
    spec.components.schema("SigningKey", schema=SigningKeySchema)
    public_id = {"name": "public_id", "in": "path", "required": True, "schema": {"type": "string"}}
    export_id = {"name": "export_id", "in": "path", "required": True, "schema": {"type": "string"}}
    job_id = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
    spec.path(
        path="/learners/{public_id}/exports",
        operations={
            "post": {
                "description": "Start exporting a pupil's records as a signed BagIt transfer "
                "package (the pupil's school admin, or the pupil). Runs as a job; follow "
                "status_url, then download package_url until the export expires.",
                "parameters": [
                    public_id,
                    {
                        "name": "recipient",
                        "in": "query",
                        "description": "code of the receiving organisation (none: the pupil's "
                        "own copy, or the transfer flow). A board or third party needs the "
                        "pupil's consent for `purpose` (403 with the reason without it), checked "
                        "again at download.",
                        "schema": {"type": "string"},
                    },
                    {
                        "name": "purpose",
                        "in": "query",
                        "description": "admissions | learning_service | research (third "
                        "parties and boards); transfer (schools)",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "202": {"description": "accepted", "content": _json("Export")},
                    **errors,
                },
            }
        },
    )
    spec.path(
        path="/exports/{export_id}",
        operations={
            "get": {
                "parameters": [export_id],
                "responses": {
                    "200": {"description": "status", "content": _json("Export")},
                    **errors,
                },
            }
        },
    )
    spec.path(
        path="/exports/{export_id}/package",
        operations={
            "get": {
                "description": "The zipped, signed BagIt bag (profile at /transfer/profile); "
                "404 until finished and after it expires. Each download is logged.",
                "parameters": [export_id],
                "responses": {
                    "200": {
                        "description": "the package",
                        "content": {
                            "application/zip": {"schema": {"type": "string", "format": "binary"}}
                        },
                    },
                    **errors,
                },
            }
        },
    )
    package_body = {
        "content": {
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "person": {"type": "string"},
                        "school": {"type": "integer"},
                    },
                }
            },
        }
    }
    spec.path(
        path="/imports",
        operations={
            "post": {
                "description": "Import a transfer package into your school (school admin). "
                "Every check runs before anything is written; a refused package leaves "
                "nothing and says why in `error`; a finished import has a `receipt`. "
                "Query `person` chooses the pupil when no userMasterIdentifier matches.",
                "parameters": [
                    {"name": "person", "in": "query", "schema": {"type": "string"}},
                    {"name": "school", "in": "query", "schema": {"type": "integer"}},
                ],
                "requestBody": package_body,
                "responses": {
                    "202": {"description": "accepted", "content": _json("ImportJob")},
                    **errors,
                    "413": {"description": "larger than TRANSFER_MAX_PACKAGE_BYTES"},
                },
            }
        },
    )
    spec.path(
        path="/imports/{job_id}",
        operations={
            "get": {
                "parameters": [job_id],
                "responses": {
                    "200": {"description": "status and receipt", "content": _json("ImportJob")},
                    **errors,
                },
            }
        },
    )
    spec.path(
        path="/transfer/keys",
        operations={
            "get": {
                "description": "Published public signing keys (Multikey and JWK) by organisation.",
                "parameters": [{"name": "org", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "keys"}, **errors},
            }
        },
    )
    spec.path(
        path="/transfer/profile",
        operations={"get": {"responses": {"200": {"description": "the BagIt profile"}, **errors}}},
    )
