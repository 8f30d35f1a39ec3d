"""Statements, SubStatements, Verbs and the Statement's object (Data 2.2 - 2.4).

`parse_statement` is the one place that decides whether a statement is valid xAPI 1.0.3.
"""

from __future__ import annotations

import re
from typing import Any

from records.xapi.activities import check_activity
from records.xapi.agents import check_actor, check_agent, check_authority, check_group
from records.xapi.attachments import SIGNATURE_USAGE_TYPE, check_attachments
from records.xapi.contexts import check_context
from records.xapi.mentions import Mentions
from records.xapi.primitives import (
    check_iri,
    check_keys,
    check_language_map,
    fail,
    key_path,
    parse_timestamp,
    parse_uuid,
    require_object,
    show,
)
from records.xapi.results import check_result
from records.xapi.statement_refs import check_statement_ref
from records.xapi.types import AttachmentMeta, Statement

VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"

_STATEMENT_KEYS = frozenset(
    {
        "id",
        "actor",
        "verb",
        "object",
        "result",
        "context",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
    }
)
_SUBSTATEMENT_KEYS = frozenset(
    {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
)
_NOT_IN_SUBSTATEMENT = ("id", "stored", "version", "authority")
_VERB_KEYS = frozenset({"id", "display"})
_AGENT_HINTS = ("mbox", "mbox_sha1sum", "openid", "account", "member")
_OBJECT_TYPES = '"Activity", "Agent", "Group", "StatementRef" or "SubStatement"'
_VERSION = re.compile(r"1\.0(?:\.[0-9]+)?\Z")  # Data 2.4.10; the suite accepts "1.0" too


def parse_statement(raw: object, path: str = "statement") -> Statement:
    """Validate one statement; raise InvalidStatementError naming the first broken rule."""
    statement = require_object(raw, path, "a Statement")
    check_keys(statement, _STATEMENT_KEYS, path, "a Statement")
    for name in ("actor", "verb", "object"):
        if name not in statement:
            fail(key_path(path, name), "is required")
    mentions = Mentions()
    statement_id = parse_uuid(statement["id"], f"{path}.id") if "id" in statement else None
    check_actor(statement["actor"], f"{path}.actor", mentions, direct=True)
    verb_id = check_verb(statement["verb"], f"{path}.verb")
    where = f"{path}.object"
    object_type, ref_id, target = _check_object(statement["object"], where, mentions, nested=False)
    if verb_id == VOIDED_VERB and object_type != "StatementRef":
        fail(
            where,
            f'a voiding Statement (verb "{VOIDED_VERB}") must have a StatementRef '
            f"object, got {object_type}",
        )
    context, attachments = _check_parts(statement, path, mentions, object_type)
    if "stored" in statement:
        parse_timestamp(statement["stored"], f"{path}.stored")
    if "authority" in statement:
        # Validated, but not indexed: the LRS replaces it with the credential's authority.
        check_authority(statement["authority"], f"{path}.authority", Mentions())
    if "version" in statement:
        version = statement["version"]
        if not isinstance(version, str) or _VERSION.match(version) is None:
            fail(f"{path}.version", f'must be "1.0" or "1.0.x", got {show(version)}')

    data = dict(statement)
    if target is not statement["object"]:
        data["object"] = target
    registration = None
    if context is not None:
        data["context"] = context
        if "registration" in context:
            registration = context["registration"].lower()
    return Statement(
        data=data,
        id=statement_id,
        verb_id=verb_id,
        object_type=object_type,
        ref_id=ref_id,
        voided_id=ref_id if verb_id == VOIDED_VERB else None,
        registration=registration,
        attachments=attachments + tuple(mentions.attachments),
        agents=tuple(mentions.agents.items()),
        activities=tuple(mentions.activities.items()),
        signed=any(meta.usage_type == SIGNATURE_USAGE_TYPE for meta in attachments),
    )


def parse_statements(raw: object) -> list[Statement]:
    """One statement (a JSON object) or a non-empty array of them; any invalid one fails all.

    Two statements of one batch with the same id make the batch invalid (Communication 2.1.2).
    """
    if isinstance(raw, dict):
        return [parse_statement(raw, "statement")]
    if not isinstance(raw, list):
        fail("statements", f"must be a Statement or an array of Statements, got {show(raw)}")
    if not raw:
        fail("statements", "must contain at least one Statement")
    statements = [parse_statement(item, f"statements[{index}]") for index, item in enumerate(raw)]
    seen: dict[str, int] = {}
    for index, statement in enumerate(statements):
        if statement.id is None:
            continue
        if statement.id in seen:
            fail(f"statements[{index}].id", f"repeats the id of statements[{seen[statement.id]}]")
        seen[statement.id] = index
    return statements


def check_verb(value: object, path: str) -> str:
    verb = require_object(value, path, "a Verb")
    check_keys(verb, _VERB_KEYS, path, "a Verb")
    if "id" not in verb:
        fail(f"{path}.id", "is required")
    verb_id = check_iri(verb["id"], f"{path}.id")
    if "display" in verb:
        check_language_map(verb["display"], f"{path}.display")
    return verb_id


def _check_object(
    value: object, path: str, mentions: Mentions, nested: bool
) -> tuple[str, str | None, dict[str, Any]]:
    """The object of a Statement (nested=False) or SubStatement (nested=True).

    Returns (objectType, StatementRef id or None, the object as it goes into `data`).
    """
    target = require_object(value, path, f"an object of type {_OBJECT_TYPES}")
    direct = not nested
    if "objectType" not in target:
        if any(name in target for name in _AGENT_HINTS):
            fail(path, 'an Agent or Group used as an object must have "objectType"')
        check_activity(target, path, mentions, direct)
        return "Activity", None, target
    object_type = target["objectType"]
    if object_type == "Activity":
        check_activity(target, path, mentions, direct)
    elif object_type == "Agent":
        check_agent(target, path, mentions, direct)
    elif object_type == "Group":
        check_group(target, path, mentions, direct)
    elif object_type == "StatementRef":
        return object_type, check_statement_ref(target, path), target
    elif object_type == "SubStatement":
        if nested:
            fail(f"{path}.objectType", "a SubStatement must not contain a SubStatement")
        return object_type, None, _check_substatement(target, path, mentions)
    else:
        fail(f"{path}.objectType", f"must be {_OBJECT_TYPES}, got {show(object_type)}")
    return object_type, None, target


def _check_substatement(
    substatement: dict[str, Any], path: str, mentions: Mentions
) -> dict[str, Any]:
    """A SubStatement is validated as a Statement, minus id/stored/version/authority.

    Everything it mentions is indirect; its attachments go to `mentions.attachments`.
    """
    for name in _NOT_IN_SUBSTATEMENT:
        if name in substatement:
            fail(key_path(path, name), "is not allowed in a SubStatement")
    check_keys(substatement, _SUBSTATEMENT_KEYS, path, "a SubStatement")
    for name in ("actor", "verb", "object"):
        if name not in substatement:
            fail(key_path(path, name), "is required")
    check_actor(substatement["actor"], f"{path}.actor", mentions, direct=False)
    check_verb(substatement["verb"], f"{path}.verb")
    where = f"{path}.object"
    object_type, _, _ = _check_object(substatement["object"], where, mentions, nested=True)
    context, attachments = _check_parts(substatement, path, mentions, object_type)
    mentions.attachments.extend(attachments)
    if context is None or context is substatement["context"]:
        return substatement
    return {**substatement, "context": context}


def _check_parts(
    statement: dict[str, Any], path: str, mentions: Mentions, object_type: str
) -> tuple[dict[str, Any] | None, tuple[AttachmentMeta, ...]]:
    """result, context, timestamp and attachments, shared by Statements and SubStatements.

    Returns the context as it goes into `data` (None when absent) and the attachments.
    """
    if "result" in statement:
        check_result(statement["result"], f"{path}.result")
    context = None
    if "context" in statement:
        context = check_context(statement["context"], f"{path}.context", mentions, object_type)
    if "timestamp" in statement:
        parse_timestamp(statement["timestamp"], f"{path}.timestamp")
    attachments: tuple[AttachmentMeta, ...] = ()
    if "attachments" in statement:
        attachments = check_attachments(statement["attachments"], f"{path}.attachments")
    return context, attachments
