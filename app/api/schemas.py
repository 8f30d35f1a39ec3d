"""Marshmallow schemas of /api/v1: parse query input, dump output. Documented in openapi.json."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database


class PersonSchema(Schema):
    id = fields.String(attribute="public_id", metadata={"description": "pseudonymous person id"})
    kind = fields.String()
    family_name = fields.String()
    given_name = fields.String()
    kana_family_name = fields.String()
    kana_given_name = fields.String()
    grade = fields.String(allow_none=True)
    active = fields.Boolean()


class ClassSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    class_code = fields.String()
    class_type = fields.String()
    grades = fields.String()
    subjects = fields.String()


class GrantSchema(Schema):
    role = fields.String()
    org_id = fields.Integer()


class MeSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    person_id = fields.Integer(allow_none=True)
    locale = fields.String()
    grants = fields.List(fields.Nested(GrantSchema))


class PeopleQuerySchema(Schema):
    # Ids are 32-bit integers in the database: larger numbers are refused here, not there.
    class_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_ID))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PeoplePageSchema(Schema):
    people = fields.List(fields.Nested(PersonSchema))
    next_after = fields.Integer(
        allow_none=True, metadata={"description": "pass as `after` for the next page"}
    )


class StatementsQuerySchema(Schema):
    since = fields.AwareDateTime(load_default=None)
    until = fields.AwareDateTime(load_default=None)
    verb = fields.Url(load_default=None, require_tld=False)
    limit = fields.Integer(load_default=0, validate=validate.Range(min=0, max=500))
    ascending = fields.Boolean(load_default=False)
    more = fields.String(load_default=None)


class StatementsPageSchema(Schema):
    statements = fields.List(fields.Dict(), metadata={"description": "xAPI statements as stored"})
    more = fields.String(metadata={"description": "URL of the next page, or empty"})


class MergeRequestSchema(Schema):
    duplicate = fields.String(required=True, metadata={"description": "public id to merge"})


class MergeSchema(Schema):
    id = fields.Integer()
    survivor_id = fields.Integer()
    merged_id = fields.Integer()
    at = fields.AwareDateTime()
    undone_at = fields.AwareDateTime(allow_none=True)
    moved = fields.Dict(metadata={"description": "ids of the rows moved, by table"})


class JobSchema(Schema):
    id = fields.String()
    kind = fields.String()
    status = fields.String(metadata={"description": "queued | running | finished | failed"})
    progress_done = fields.Integer()
    progress_total = fields.Integer()
    result = fields.Dict(
        metadata={"description": "counts when finished; row-by-row `errors` when refused"}
    )
    error = fields.String()


class ErrorSchema(Schema):
    error = fields.Dict(
        metadata={"description": '{"status": 403, "message": "what is wrong and what to do"}'}
    )


def dump_person(person: Any) -> dict[str, Any]:
    result: dict[str, Any] = PersonSchema().dump(person)
    return result
