"""xAPI 1.0.3 statements: the one place that decides what is valid, plus what the LRS needs to
store, query and return them. Plain Python: no Flask, no database, no environment."""

from records.xapi.agents import agent_key, parse_agent, person_object
from records.xapi.formats import format_statement
from records.xapi.primitives import is_iri, parse_timestamp, parse_uuid
from records.xapi.signature import verify_signature
from records.xapi.statements import parse_statement, parse_statements
from records.xapi.types import AttachmentMeta, Statement

__all__ = [
    "AttachmentMeta",
    "Statement",
    "agent_key",
    "format_statement",
    "is_iri",
    "parse_agent",
    "parse_statement",
    "parse_statements",
    "parse_timestamp",
    "parse_uuid",
    "person_object",
    "verify_signature",
]
