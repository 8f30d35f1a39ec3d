"""parse_statement / parse_statements: one table row per rule, each naming the path and rule."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from xapi_samples import SCHOOL_STATEMENT, MakeStatement

from records.errors import InvalidStatementError
from records.xapi import AttachmentMeta, parse_statement, parse_statements

MBOX = "mailto:hanako@example.jp"
SHA1 = "cd9b00a5611f94eaa7b1661edab976068e364975"
SHA256 = "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"
REF = "8f87ccde-bb56-4c2e-ab83-44982ef22df0"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
ACTIVITY = {"objectType": "Activity", "id": "https://contents.example-edu.jp/q/1"}
AGENT = {"objectType": "Agent", "mbox": MBOX}
GROUP = {"objectType": "Group", "name": "4年2組", "member": [{"mbox": MBOX}]}
STATEMENT_REF = {"objectType": "StatementRef", "id": REF}
ATTACHMENT = {
    "usageType": "http://example.com/attachment-usage/test",
    "display": {"en-US": "A test attachment"},
    "description": {"en-US": "A test attachment (description)"},
    "contentType": "text/plain; charset=ascii",
    "length": 27,
    "sha2": SHA256,
    "fileUrl": "http://over.there.com/file.txt",
}
SUBSTATEMENT = {
    "objectType": "SubStatement",
    "actor": AGENT,
    "verb": {"id": "http://adlnet.gov/expapi/verbs/planned"},
    "object": ACTIVITY,
}


def v(*args: Any, id: str) -> Any:
    return pytest.param(*args, id=id)


# (changes by dotted path, paths to drop)
VALID = [
    v({}, [], id="the school statement"),
    v(
        {"object": {"id": "http://example.com/a"}},
        [],
        id="object without objectType is an Activity",
    ),
    v({"object.definition": {}}, [], id="empty definition"),
    v({"id": "3F2504E0-4F89-41D3-9A0C-0305E82C3301"}, [], id="upper-case UUID"),
    v({"id": "00000000-0000-0000-0000-000000000000"}, [], id="nil UUID, any variant"),
    v({"actor": {"mbox": "mailto:hanako.yamada+drill@example.jp"}}, [], id="mbox, no objectType"),
    v({"actor": {"mbox": "mailto:山田@例え.jp"}}, [], id="internationalised mbox"),
    v({"actor": {"mbox_sha1sum": SHA1.upper()}}, [], id="mbox_sha1sum upper-case"),
    v({"actor": {"openid": "http://openid.example.org/12345"}}, [], id="openid"),
    v({"actor": GROUP}, [], id="anonymous Group"),
    v(
        {"actor": {**GROUP, "account": {"homePage": "https://x.jp", "name": "4-2"}}},
        [],
        id="identified Group with members",
    ),
    v(
        {"actor": {"objectType": "Group", "openid": "http://g.example.org/"}},
        [],
        id="Group no members",
    ),
    v({"object": AGENT}, ["context.platform"], id="object Agent"),
    v(
        {"object": {"objectType": "Group", "mbox": MBOX}},
        ["context.platform"],
        id="object identified Group",
    ),
    v({"object": STATEMENT_REF}, ["context.platform"], id="object StatementRef"),
    v({"object": SUBSTATEMENT}, ["context.platform"], id="object SubStatement"),
    v(
        {"object": {**SUBSTATEMENT, "context": {"platform": "GIGA", "revision": "2"}}},
        ["context.platform"],
        id="SubStatement with platform and revision (its object is an Activity)",
    ),
    v(
        {"object": {**SUBSTATEMENT, "timestamp": "2031-01-01T00:00:00Z", "result": {"score": {}}}},
        ["context.platform"],
        id="SubStatement with future timestamp and result",
    ),
    v({"verb.id": VOIDED, "object": STATEMENT_REF}, ["context.platform"], id="voiding statement"),
    v({"verb": {"id": "tag:example.com,2025:verbs/did"}}, [], id="verb tag: URI, no display"),
    v({"verb.display": {}}, [], id="empty display"),
    v({"verb.display": {"zh-Hant-TW": "回答", "sr-Latn-RS": "x", "es-419": "y"}}, [], id="tags"),
    v({"verb.display": {"en-GB-oed": "a", "x-klingon": "b", "cmn": "c"}}, [], id="more tags"),
    v({"object.id": "http://example.com/فعل/خواندن#كتاب"}, [], id="IRI with Arabic and fragment"),
    v({"object.id": "urn:isbn:9784000000000"}, [], id="urn IRI"),
    v({"object.id": "http://[2001:db8::1]:8080/a?b=c"}, [], id="IPv6 literal host"),
    v({"object.definition.moreInfo": "https://x.example.jp/info?q=%E3%81%82"}, [], id="moreInfo"),
    v(
        {
            "object.definition.extensions": {
                "http://e.x/null": None,
                "http://e.x/e": "",
                "http://e.x/o": {},
            }
        },
        [],
        id="extension values null, empty string, empty object",
    ),
    v({"result.extensions": {"http://e.x/a": [1, {"b": [None, True, 2.5]}]}}, [], id="nested ext"),
    v({"context.extensions": {}}, [], id="empty extensions"),
    v({"result.score": {"scaled": -1, "raw": 0, "min": 0, "max": 1}}, [], id="score edges low"),
    v({"result.score": {"scaled": 1.0, "raw": 1, "min": 0, "max": 1}}, [], id="score edges high"),
    v({"result.score": {"raw": -5.5}}, [], id="raw alone is unrestricted"),
    v({"result.score": {"min": 0.12123434, "raw": 12.125, "max": 45.45}}, [], id="decimals"),
    v({"result.duration": "PT0S"}, [], id="PT0S"),
    v({"result.duration": "P3Y1M29DT4H35M59.14S"}, [], id="full duration"),
    v({"result.duration": "PT16559.14S"}, [], id="seconds only"),
    v({"result.duration": "P4W"}, [], id="weeks"),
    v({"result.duration": "P0D"}, [], id="P0D"),
    v({"result.duration": "PT1,5S"}, [], id="comma fraction"),
    v({"timestamp": "2025-06-12T01:15:30Z"}, [], id="timestamp Z"),
    v({"timestamp": "2025-06-12T01:15:30.123456789+00:00"}, [], id="nanoseconds"),
    v({"timestamp": "2025-06-12T10:15:30"}, [], id="no offset (UTC assumed)"),
    v({"timestamp": "20250612T011530Z"}, [], id="basic format"),
    v({"timestamp": "2025-W24-4T10:15Z"}, [], id="week date"),
    v({"timestamp": "2025-06-12T10:15+09"}, [], id="hour offset, no seconds"),
    v({"stored": "2013-05-18T05:32:34.804Z"}, [], id="client stored is validated and kept"),
    v({"version": "1.0"}, [], id="version 1.0"),
    v({"version": "1.0.0"}, [], id="version 1.0.0"),
    v({"version": "1.0.10"}, [], id="version 1.0.10"),
    v({"authority": AGENT}, [], id="authority Agent"),
    v(
        {
            "authority": {
                "objectType": "Group",
                "member": [
                    {"account": {"homePage": "http://x.jp/OAuth/Token", "name": "consumer"}},
                    {"mbox": MBOX},
                ],
            }
        },
        [],
        id="authority OAuth group of two",
    ),
    v({"context.team": {"objectType": "Group", "mbox": "mailto:4-2@x.jp"}}, [], id="team"),
    v({"context.instructor": GROUP}, [], id="instructor Group"),
    v({"context.statement": STATEMENT_REF}, [], id="context statement"),
    v({"context.contextActivities": {"other": ACTIVITY}}, [], id="single context Activity"),
    v({"context.contextActivities": {"parent": []}}, [], id="empty context Activity list"),
    v({"context.language": "cmn"}, [], id="context language cmn"),
    v({"attachments": [ATTACHMENT]}, [], id="attachment with fileUrl"),
    v(
        {
            "attachments": [
                {**ATTACHMENT, "usageType": SIGNATURE, "contentType": "application/octet-stream"}
            ]
        },
        [],
        id="signature attachment",
    ),
    v({"attachments": []}, [], id="no attachments"),
    v({"object.definition.interactionType": "other"}, ["object.definition.choices"], id="other"),
    v(
        {
            "object.definition": {
                "interactionType": "matching",
                "correctResponsesPattern": ["a[.]1"],
                "source": [{"id": "a"}],
                "target": [{"id": "1"}, {"id": "a"}],
            }
        },
        [],
        id="matching: ids unique per list",
    ),
    v({"object.definition.correctResponsesPattern": []}, [], id="no correct answer"),
]


@pytest.mark.parametrize(("changes", "drop"), VALID)
def test_valid(make_statement: MakeStatement, changes: dict[str, Any], drop: list[str]) -> None:
    raw = make_statement(changes, drop)
    before = copy.deepcopy(raw)
    parsed = parse_statement(raw)
    assert raw == before, "the input is never changed"
    assert parsed.data is not raw


# (changes, drop, the error message must contain this)
INVALID = [
    v({}, ["actor"], "statement.actor: is required", id="no actor"),
    v({}, ["verb"], "statement.verb: is required", id="no verb"),
    v({}, ["object"], "statement.object: is required", id="no object"),
    v({"Actor": AGENT}, [], "statement.Actor: is not a property of a Statement", id="key case"),
    v({"foo": 1}, [], "statement.foo: is not a property of a Statement", id="unknown key"),
    v(
        {"id": 12345},
        [],
        "statement.id: must be a UUID in standard string form, got 12345",
        id="id num",
    ),
    v(
        {"id": ""},
        [],
        'statement.id: must be a UUID in standard string form, got ""',
        id="id empty",
    ),
    v(
        {"id": "AA97B177-9383-4934-8543-0F91A7A028368"},
        [],
        "statement.id: must be a UUID",
        id="long",
    ),
    v(
        {"id": "MA97B177-9383-4934-8543-0F91A7A02836"},
        [],
        "statement.id: must be a UUID",
        id="not hex",
    ),
    v({"id": "3f2504e04f8941d39a0c0305e82c3301"}, [], "statement.id: must be a UUID", id="no dash"),
    v({"id": "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}"}, [], "statement.id: must", id="braces"),
    v(
        {"id": None},
        [],
        "statement.id: must be a UUID in standard string form, got null",
        id="null",
    ),
    v(
        {"version": "1.1.0"},
        [],
        'statement.version: must be "1.0" or "1.0.x", got "1.1.0"',
        id="1.1",
    ),
    v({"version": "0.9.9"}, [], "statement.version: must be", id="version 0.9.9"),
    v({"version": "1.0.0-rc1"}, [], "statement.version: must be", id="version pre-release"),
    v({"version": 1.0}, [], "statement.version: must be", id="version number"),
    v({"stored": "yesterday"}, [], "statement.stored: must be an ISO 8601 timestamp", id="stored"),
    v({"timestamp": "01/011/2015"}, [], "statement.timestamp: must be an ISO 8601", id="ts date"),
    v({"timestamp": "2008-09-15T15:53:00.601-00:00"}, [], "known offset", id="ts -00:00"),
    v({"timestamp": "2008-09-15T15:53:00.601-0000"}, [], "statement.timestamp", id="ts -0000"),
    v({"timestamp": "2008-09-15T15:53:00.601-00"}, [], "statement.timestamp", id="ts -00"),
    v({"timestamp": "2008-09-15 15:53:00Z"}, [], "statement.timestamp", id="ts space"),
    v({"timestamp": "2008-09-15"}, [], "statement.timestamp", id="ts date only"),
    v({"timestamp": "2008-02-30T10:00:00Z"}, [], "statement.timestamp", id="ts February 30"),
    v({"timestamp": "2008-09-15T24:00:01Z"}, [], "statement.timestamp", id="ts hour 24"),
    v({"timestamp": 1718000000}, [], "statement.timestamp", id="ts epoch number"),
    # Agents, Groups, IFIs, Accounts
    v(
        {"actor.mbox": "hanako@example.jp"},
        ["actor.account"],
        'statement.actor.mbox: must be a "mailto:" IRI with a valid e-mail address, '
        'got "hanako@example.jp"',
        id="mbox without mailto",
    ),
    v({"actor": {"mbox": "mailto:should.fail.com"}}, [], "statement.actor.mbox: must", id="no @"),
    v({"actor": {"mbox": "mailto:a b@x.jp"}}, [], "statement.actor.mbox: must", id="mbox space"),
    v({"actor": {"mbox": "mailto:a@x.jp?subject=hi"}}, [], "statement.actor.mbox", id="hfields"),
    v({"actor": {"mbox": "MAILTO:a@x.jp"}}, [], "statement.actor.mbox", id="MAILTO"),
    v({"actor": {"mbox_sha1sum": SHA1[:-1]}}, [], "statement.actor.mbox_sha1sum: must be", id="39"),
    v({"actor": {"mbox_sha1sum": "z" * 40}}, [], "statement.actor.mbox_sha1sum", id="sha1 not hex"),
    v(
        {"actor": {"openid": "open.id.com/testUser"}},
        [],
        "statement.actor.openid: must be",
        id="oid",
    ),
    v(
        {"actor": {"openid": "http://例え.jp/"}},
        [],
        "statement.actor.openid: must be an absolute URI",
        id="openid IRI",
    ),
    v({"actor.mbox": MBOX}, [], "statement.actor: an Agent must use exactly one of", id="two IFIs"),
    v({}, ["actor.account"], "statement.actor: an Agent must have exactly one of", id="no IFI"),
    v({"actor.name": None}, [], "statement.actor.name: must be a string, got null", id="name null"),
    v({"actor.name": 123}, [], "statement.actor.name: must be a string, got 123", id="name number"),
    v(
        {"actor.objectType": "agent"},
        [],
        'statement.actor.objectType: must be "Agent" or "Group"',
        id="case",
    ),
    v({"actor.objectType": None}, [], "statement.actor.objectType: must be", id="objectType null"),
    v(
        {"actor.email": MBOX},
        [],
        "statement.actor.email: is not a property of an Agent",
        id="email",
    ),
    v(
        {"actor.account.homePage": "idp.example-city.jp"},
        [],
        "statement.actor.account.homePage: must be an absolute IRL",
        id="homePage",
    ),
    v(
        {"actor.account.name": {"k": 1}},
        [],
        "statement.actor.account.name: must be a string",
        id="acct name",
    ),
    v({}, ["actor.account.name"], "statement.actor.account.name: is required", id="acct no name"),
    v({}, ["actor.account.homePage"], "statement.actor.account.homePage: is required", id="no hp"),
    v(
        {"actor.account.id": "1"},
        [],
        "statement.actor.account.id: is not a property of an Account",
        id="acct key",
    ),
    v(
        {"actor.account": "P2025016083"},
        [],
        "statement.actor.account: must be an Account",
        id="acct str",
    ),
    v(
        {"actor": "hanako"},
        [],
        "statement.actor: must be an Agent or Group (a JSON object), got",
        id="str actor",
    ),
    v(
        {"actor": {"objectType": "Group"}},
        [],
        "statement.actor: an anonymous Group (no mbox, mbox_sha1sum, openid or account) must have "
        'a "member"',
        id="group no member",
    ),
    v(
        {"actor": {"objectType": "Group", "member": []}},
        [],
        "statement.actor.member: an anonymous Group must list at least one Agent",
        id="empty member",
    ),
    v(
        {"actor": {"objectType": "Group", "member": AGENT}},
        [],
        "statement.actor.member: must be an array of Agents",
        id="member object",
    ),
    v(
        {"actor": {"objectType": "Group", "member": [AGENT, GROUP]}},
        [],
        "statement.actor.member[1]: a Group's members must be Agents, not Groups",
        id="nested group",
    ),
    v(
        {"actor": {"objectType": "Group", "member": [AGENT, {"mbox": "x"}]}},
        [],
        "statement.actor.member[1].mbox: must be",
        id="bad member",
    ),
    v(
        {"actor": {"member": [AGENT]}},
        [],
        "statement.actor.member: is not a property of an Agent",
        id="member without Group",
    ),
    v(
        {"actor": {"objectType": "Group", "mbox": MBOX, "openid": "http://o.jp/"}},
        [],
        "statement.actor: a Group must use exactly one of",
        id="group 2 IFIs",
    ),
    # Verbs
    v(
        {"verb.id": "attended"},
        [],
        'statement.verb.id: must be an absolute IRI with a scheme, got "attended"',
        id="verb id",
    ),
    v(
        {"verb.id": "adlnet.gov/expapi/verbs/attended"},
        [],
        "statement.verb.id: must be",
        id="no scheme",
    ),
    v(
        {"verb.id": "http://adlnet.gov/expapi/verbs/at tended"},
        [],
        "statement.verb.id: must be",
        id="space",
    ),
    v({"verb.id": ""}, [], "statement.verb.id: must be", id="verb id empty"),
    v({}, ["verb.id"], "statement.verb.id: is required", id="verb without id"),
    v(
        {"verb.display": "answered"},
        [],
        "statement.verb.display: must be a language map (a JSON object)",
        id="display str",
    ),
    v(
        {"verb.display": {"english": "answered"}},
        [],
        'statement.verb.display: key "english" is not a valid RFC 5646 language tag',
        id="bad tag",
    ),
    v(
        {"verb.display": {"en_US": "answered"}},
        [],
        'key "en_US" is not a valid RFC 5646',
        id="underscore tag",
    ),
    v(
        {"verb.display": {"en-US": None}},
        [],
        'statement.verb.display["en-US"]: must be a string, got null',
        id="display null",
    ),
    v(
        {"verb.description": {}},
        [],
        "statement.verb.description: is not a property of a Verb",
        id="verb key",
    ),
    # Objects: Activities, Definitions, Interactions
    v({}, ["object.id"], "statement.object.id: is required", id="activity without id"),
    v(
        {"object.id": "ab=c://should.fail.com"},
        [],
        "statement.object.id: must be an absolute IRI",
        id="bad scheme",
    ),
    v(
        {"object.id": "#fragment"},
        [],
        "statement.object.id: must be an absolute IRI",
        id="fragment only",
    ),
    v(
        {"object.objectType": "activity"},
        [],
        'statement.object.objectType: must be "Activity", "Agent", "Group", "StatementRef" or '
        '"SubStatement", got "activity"',
        id="activity case",
    ),
    v(
        {"object": {"mbox": MBOX}},
        [],
        'statement.object: an Agent or Group used as an object must have "objectType"',
        id="agent object untyped",
    ),
    v(
        {"object.definition": "quiz"},
        [],
        "statement.object.definition: must be an Activity Definition",
        id="definition str",
    ),
    v(
        {"object.definition.title": {}},
        [],
        "statement.object.definition.title: is not a property of an Activity Definition",
        id="definition key",
    ),
    v(
        {"object.definition.name": "問題"},
        [],
        "statement.object.definition.name: must be a language map",
        id="name str",
    ),
    v(
        {"object.definition.description": 1234},
        [],
        "statement.object.definition.description: must be a language map",
        id="description",
    ),
    v(
        {"object.definition.type": "cmi.interaction"},
        [],
        "statement.object.definition.type: must be an absolute IRI",
        id="type",
    ),
    v(
        {"object.definition.moreInfo": None},
        [],
        "statement.object.definition.moreInfo: must be an absolute IRL",
        id="moreInfo null",
    ),
    v(
        {"object.definition.extensions": {"not.valid.com/extension": 1}},
        [],
        'statement.object.definition.extensions: key "not.valid.com/extension" must be an '
        "absolute IRI",
        id="ext key",
    ),
    v(
        {"object.definition.extensions": "x"},
        [],
        "statement.object.definition.extensions: must be an extensions map",
        id="ext str",
    ),
    v(
        {"object.definition.interactionType": "Choice"},
        [],
        'statement.object.definition.interactionType: must be one of "true-false"',
        id="interaction case",
    ),
    v(
        {"object.definition.interactionType": None},
        [],
        "statement.object.definition.interactionType: must be one of",
        id="interaction null",
    ),
    v(
        {},
        ["object.definition.interactionType"],
        "statement.object.definition: correctResponsesPattern and interaction component lists "
        'require an "interactionType"',
        id="no interactionType",
    ),
    v(
        {"object.definition.scale": [{"id": "1"}]},
        [],
        'statement.object.definition.scale: is not used with interactionType "choice" (component '
        'lists allowed: "choices")',
        id="wrong list",
    ),
    v(
        {"object.definition.interactionType": "true-false"},
        [],
        'statement.object.definition.choices: is not used with interactionType "true-false" '
        "(component lists allowed: none)",
        id="no lists allowed",
    ),
    v(
        {"object.definition.choices.2.id": "a"},
        [],
        "statement.object.definition.choices[2].id: must be unique within "
        'statement.object.definition.choices, "a" repeats',
        id="duplicate id",
    ),
    v(
        {},
        ["object.definition.choices.1.id"],
        "statement.object.definition.choices[1].id: is required",
        id="component no id",
    ),
    v(
        {"object.definition.choices.0.id": 1},
        [],
        "statement.object.definition.choices[0].id: must be a string",
        id="component id num",
    ),
    v(
        {"object.definition.choices.0.description": {"xx": "a"}},
        [],
        'statement.object.definition.choices[0].description: key "xx" is not a valid RFC 5646 '
        "language tag",
        id="component tag",
    ),
    v(
        {"object.definition.choices.0.label": "a"},
        [],
        "statement.object.definition.choices[0].label: is not a property of an interaction "
        "component",
        id="component key",
    ),
    v(
        {"object.definition.choices": {"id": "a"}},
        [],
        "statement.object.definition.choices: must be an array of interaction components",
        id="choices object",
    ),
    v(
        {"object.definition.correctResponsesPattern": "b"},
        [],
        "statement.object.definition.correctResponsesPattern: must be an array of strings",
        id="crp str",
    ),
    v(
        {"object.definition.correctResponsesPattern": [1]},
        [],
        "statement.object.definition.correctResponsesPattern[0]: must be a string",
        id="crp num",
    ),
    v(
        {"object": {"objectType": "StatementRef", "id": "x"}},
        ["context.platform"],
        'statement.object.id: must be a UUID in standard string form, got "x"',
        id="ref id",
    ),
    v(
        {"object": {"objectType": "StatementRef"}},
        ["context.platform"],
        "statement.object.id: is required",
        id="ref no id",
    ),
    v(
        {"object": {**STATEMENT_REF, "verb": {}}},
        ["context.platform"],
        "statement.object.verb: is not a property of a StatementRef",
        id="ref key",
    ),
    v(
        {"verb.id": VOIDED},
        [],
        'statement.object: a voiding Statement (verb "http://adlnet.gov/expapi/verbs/voided") '
        "must have a StatementRef object, got Activity",
        id="voiding activity",
    ),
    # SubStatements
    v(
        {"object": {**SUBSTATEMENT, "object": SUBSTATEMENT}},
        ["context.platform"],
        "statement.object.object.objectType: a SubStatement must not contain a SubStatement",
        id="nested SubStatement",
    ),
    v(
        {"object": {**SUBSTATEMENT, "id": REF}},
        ["context.platform"],
        "statement.object.id: is not allowed in a SubStatement",
        id="sub id",
    ),
    v(
        {"object": {**SUBSTATEMENT, "stored": "2013-05-18T05:32:34.804Z"}},
        ["context.platform"],
        "statement.object.stored: is not allowed in a SubStatement",
        id="sub stored",
    ),
    v(
        {"object": {**SUBSTATEMENT, "version": "1.0.0"}},
        ["context.platform"],
        "statement.object.version: is not allowed in a SubStatement",
        id="sub version",
    ),
    v(
        {"object": {**SUBSTATEMENT, "authority": AGENT}},
        ["context.platform"],
        "statement.object.authority: is not allowed in a SubStatement",
        id="sub authority",
    ),
    v(
        {"object": {**SUBSTATEMENT, "foo": 1}},
        ["context.platform"],
        "statement.object.foo: is not a property of a SubStatement",
        id="sub key",
    ),
    v(
        {"object": {"objectType": "SubStatement", "actor": AGENT, "object": ACTIVITY}},
        ["context.platform"],
        "statement.object.verb: is required",
        id="sub no verb",
    ),
    v(
        {"object": {**SUBSTATEMENT, "object": AGENT, "context": {"revision": "1"}}},
        ["context.platform"],
        "statement.object.context.revision: is only allowed when the object is an Activity, not "
        '"Agent"',
        id="sub revision",
    ),
    v(
        {"object": {**SUBSTATEMENT, "timestamp": "soon"}},
        ["context.platform"],
        "statement.object.timestamp: must be an ISO 8601 timestamp",
        id="sub timestamp",
    ),
    v(
        {"object": SUBSTATEMENT},
        [],
        "statement.context.platform: is only allowed when the object is an Activity, not "
        '"SubStatement"',
        id="platform with SubStatement",
    ),
    # Results and Scores
    v(
        {"result.score.scaled": 1.01},
        [],
        "statement.result.score.scaled: must be between -1 and 1 inclusive, got 1.01",
        id="scaled",
    ),
    v(
        {"result.score.scaled": -1.5},
        [],
        "statement.result.score.scaled: must be between -1 and 1",
        id="scaled low",
    ),
    v(
        {"result.score.raw": 11},
        [],
        "statement.result.score.raw: must not be greater than max (10), got 11",
        id="raw > max",
    ),
    v(
        {"result.score.raw": -1},
        [],
        "statement.result.score.raw: must not be less than min (0), got -1",
        id="raw < min",
    ),
    v(
        {"result.score.min": 10},
        [],
        "statement.result.score.min: must be less than max (10), got 10",
        id="min = max",
    ),
    v(
        {"result.score.max": "100"},
        [],
        'statement.result.score.max: must be a number, got "100"',
        id="max str",
    ),
    v(
        {"result.score.raw": True},
        [],
        "statement.result.score.raw: must be a number, got true",
        id="raw bool",
    ),
    v(
        {"result.score.raw": float("nan")},
        [],
        "statement.result.score.raw: must be a finite number",
        id="NaN",
    ),
    v(
        {"result.score.percent": 100},
        [],
        "statement.result.score.percent: is not a property of a Score",
        id="score key",
    ),
    v(
        {"result.score": 10},
        [],
        "statement.result.score: must be a Score (a JSON object), got 10",
        id="score num",
    ),
    v(
        {"result.success": "true"},
        [],
        'statement.result.success: must be true or false, got "true"',
        id="success str",
    ),
    v(
        {"result.completion": 1},
        [],
        "statement.result.completion: must be true or false, got 1",
        id="completion 1",
    ),
    v(
        {"result.response": 5},
        [],
        "statement.result.response: must be a string, got 5",
        id="response",
    ),
    v(
        {"result.grade": "A"},
        [],
        "statement.result.grade: is not a property of a Result",
        id="result key",
    ),
    v(
        {"result.extensions": {"example.com/extension/wrong": 1}},
        [],
        "statement.result.extensions: key",
        id="result ext",
    ),
    v(
        {"result.duration": "P4W1D"},
        [],
        'statement.result.duration: must be an ISO 8601 duration such as "PT1H30M", got "P4W1D"',
        id="weeks and days",
    ),
    v({"result.duration": "PA1H0M0S"}, [], "statement.result.duration: must be", id="PA1H"),
    v({"result.duration": "PT"}, [], "statement.result.duration: must be", id="PT"),
    v({"result.duration": "P"}, [], "statement.result.duration: must be", id="P"),
    v({"result.duration": "P1DT"}, [], "statement.result.duration: must be", id="P1DT"),
    v({"result.duration": "-P1D"}, [], "statement.result.duration: must be", id="negative"),
    v(
        {"result.duration": "P16559.14S"},
        [],
        "statement.result.duration: must be",
        id="S without T",
    ),
    v(
        {"result.duration": "PT1.5H30M"},
        [],
        "statement.result.duration: must be",
        id="fraction not last",
    ),
    v(
        {"result.duration": "P0003-01-29T04:35:59"},
        [],
        "statement.result.duration: must be",
        id="alternative format",
    ),
    v(
        {"result.duration": "PT1H\n"},
        [],
        "statement.result.duration: must be",
        id="trailing newline",
    ),
    v(
        {"result.duration": "P99999999999D"},
        [],
        "statement.result.duration: must be",
        id="out of range",
    ),
    v({"result.duration": 90}, [], "statement.result.duration: must be", id="duration number"),
    # Contexts
    v(
        {"context.registration": "abc"},
        [],
        'statement.context.registration: must be a UUID in standard string form, got "abc"',
        id="registration",
    ),
    v(
        {"context.registration": None},
        [],
        "statement.context.registration: must be a UUID",
        id="registration null",
    ),
    v(
        {"context.instructor": "先生"},
        [],
        "statement.context.instructor: must be an Agent or Group",
        id="instructor str",
    ),
    v(
        {"context.team": AGENT},
        [],
        'statement.context.team: must be a Group (with "objectType": "Group")',
        id="team Agent",
    ),
    v(
        {"context.contextActivities": "x"},
        [],
        "statement.context.contextActivities: must be a contextActivities object",
        id="ca str",
    ),
    v(
        {"context.contextActivities.consequences": [ACTIVITY]},
        [],
        "statement.context.contextActivities.consequences: is not a property of contextActivities",
        id="ca key",
    ),
    v(
        {"context.contextActivities.other": [ACTIVITY, {"key": "x"}]},
        [],
        "statement.context.contextActivities.other[1].key: is not a property of an Activity",
        id="ca entry",
    ),
    v(
        {"context.contextActivities.parent": [{"objectType": "Agent", "mbox": MBOX}]},
        [],
        'statement.context.contextActivities.parent[0].objectType: must be "Activity"',
        id="ca Agent",
    ),
    v(
        {"context.contextActivities.parent": "http://x.jp/a"},
        [],
        "statement.context.contextActivities.parent: must be an Activity",
        id="ca id str",
    ),
    v(
        {"context.revision": 3},
        [],
        "statement.context.revision: must be a string, got 3",
        id="revision num",
    ),
    v(
        {"object": STATEMENT_REF, "context.revision": "2"},
        ["context.platform"],
        "statement.context.revision: is only allowed when the object is an Activity, not "
        '"StatementRef"',
        id="revision ref",
    ),
    v(
        {"object": AGENT},
        [],
        'statement.context.platform: is only allowed when the object is an Activity, not "Agent"',
        id="platform agent",
    ),
    v(
        {"context.language": "something"},
        [],
        'statement.context.language: must be an RFC 5646 language tag, got "something"',
        id="language",
    ),
    v(
        {"context.language": 12},
        [],
        "statement.context.language: must be a string",
        id="language num",
    ),
    v(
        {"context.statement": {"objectType": "statementref", "id": REF}},
        [],
        'statement.context.statement.objectType: must be "StatementRef"',
        id="ctx ref case",
    ),
    v(
        {"context.statement": {"id": REF}},
        [],
        'statement.context.statement.objectType: must be "StatementRef", got null',
        id="ctx ref untyped",
    ),
    v(
        {"context.extensions": {"example.com/x": 1}},
        [],
        "statement.context.extensions: key",
        id="ctx ext",
    ),
    v(
        {"context.location": "Tokyo"},
        [],
        "statement.context.location: is not a property of a Context",
        id="ctx key",
    ),
    # Authority
    v(
        {"authority": {**GROUP, "mbox": "mailto:g@x.jp", "member": [AGENT, AGENT]}},
        [],
        "statement.authority: an authority Group must be anonymous",
        id="identified authority",
    ),
    v(
        {"authority": GROUP},
        [],
        "statement.authority.member: an authority Group must have exactly 2 Agents, got 1",
        id="authority 1",
    ),
    v({"authority": {**GROUP, "member": [AGENT, AGENT, AGENT]}}, [], "got 3", id="authority 3"),
    v(
        {"authority": {"objectType": "Person", "mbox": MBOX}},
        [],
        "statement.authority.objectType: must be",
        id="Person",
    ),
    # Attachments
    v(
        {"attachments": ATTACHMENT},
        [],
        "statement.attachments: must be an array of Attachments, got an object",
        id="not array",
    ),
    v({"attachments": ["x"]}, [], "statement.attachments[0]: must be an Attachment", id="att str"),
    v(
        {"attachments": [{**ATTACHMENT, "usageType": "should fail"}]},
        [],
        "statement.attachments[0].usageType: must be an absolute IRI",
        id="usageType",
    ),
    v(
        {"attachments": [{**ATTACHMENT, "contentType": 12345}]},
        [],
        "statement.attachments[0].contentType: must be a string",
        id="ct num",
    ),
    v(
        {"attachments": [{**ATTACHMENT, "contentType": "text"}]},
        [],
        'statement.attachments[0].contentType: must be an Internet Media Type, got "text"',
        id="ct",
    ),
    v(
        {"attachments": [{**ATTACHMENT, "length": "27"}]},
        [],
        'statement.attachments[0].length: must be a non-negative integer, got "27"',
        id="length str",
    ),
    v(
        {"attachments": [{**ATTACHMENT, "length": 2.5}]},
        [],
        "statement.attachments[0].length: must be a non-negative integer",
        id="length float",
    ),
    v(
        {"attachments": [{**ATTACHMENT, "length": -1}]},
        [],
        "statement.attachments[0].length: must be a non-negative integer",
        id="length neg",
    ),
    v(
        {"attachments": [{**ATTACHMENT, "sha2": 12345}]},
        [],
        "statement.attachments[0].sha2: must be a string",
        id="sha2 num",
    ),
    v(
        {"attachments": [{**ATTACHMENT, "sha2": "abc"}]},
        [],
        "statement.attachments[0].sha2: must be a hex SHA-224/256/384/512 digest",
        id="sha2 short",
    ),
    v(
        {"attachments": [{**ATTACHMENT, "fileUrl": "should fail"}]},
        [],
        "statement.attachments[0].fileUrl: must be an absolute IRL",
        id="fileUrl",
    ),
    v(
        {"attachments": [{**ATTACHMENT, "display": {"something": "x"}}]},
        [],
        'statement.attachments[0].display: key "something" is not a valid',
        id="display tag",
    ),
    v(
        {"attachments": [{**ATTACHMENT, "description": 1}]},
        [],
        "statement.attachments[0].description: must be a language map",
        id="description",
    ),
    v(
        {"attachments": [{k: x for k, x in ATTACHMENT.items() if k != "display"}]},
        [],
        "statement.attachments[0].display: is required",
        id="no display",
    ),
    v(
        {"attachments": [{**ATTACHMENT, "usageType": SIGNATURE}]},
        [],
        'statement.attachments[0].contentType: must be "application/octet-stream" for a signature',
        id="signature text",
    ),
    v(
        {"attachments": [{**ATTACHMENT, "data": "aGVsbG8="}]},
        [],
        "statement.attachments[0].data: is not a property of an Attachment",
        id="att key",
    ),
    # Values that cannot be stored
    v(
        {"actor.name": "山田\x00花子"},
        [],
        "statement.actor.name: must not contain U+0000",
        id="NUL",
    ),
    v(
        {"verb.display.en-US": "\ud800"},
        [],
        'statement.verb.display["en-US"]: must not contain',
        id="lone surrogate",
    ),
    v(
        {"context.extensions": {"http://e.x/a": {"b": ["ok", "\x00"]}}},
        [],
        'statement.context.extensions["http://e.x/a"].b[1]: must not contain U+0000',
        id="NUL in ext",
    ),
    v(
        {"context.extensions": {"http://e.x/a": [float("inf")]}},
        [],
        'statement.context.extensions["http://e.x/a"][0]: must be finite',
        id="inf in ext",
    ),
]


@pytest.mark.parametrize(("changes", "drop", "message"), INVALID)
def test_invalid(
    make_statement: MakeStatement, changes: dict[str, Any], drop: list[str], message: str
) -> None:
    with pytest.raises(InvalidStatementError) as caught:
        parse_statement(make_statement(changes, drop))
    assert message in caught.value.message


def test_not_an_object() -> None:
    with pytest.raises(
        InvalidStatementError,
        match=r"^statement: must be a Statement \(a JSON object\), got an array$",
    ):
        parse_statement([])


def test_a_path_prefix_names_the_statement() -> None:
    with pytest.raises(InvalidStatementError, match=r"^statements\[3\]\.verb: is required$"):
        parse_statement({"actor": AGENT, "object": ACTIVITY}, "statements[3]")


def test_statement_facts(make_statement: MakeStatement) -> None:
    parsed = parse_statement(make_statement({"id": "3F2504E0-4F89-41D3-9A0C-0305E82C3301"}))
    assert parsed.id == "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
    assert parsed.data["id"] == "3F2504E0-4F89-41D3-9A0C-0305E82C3301", "data keeps what came"
    assert parsed.verb_id == "http://adlnet.gov/expapi/verbs/answered"
    assert parsed.object_type == "Activity"
    assert (parsed.ref_id, parsed.voided_id) == (None, None)
    assert parsed.registration == "9d3c3b8a-6f0e-4d4e-8a35-2d2c6f1e9b10"
    assert parsed.attachments == ()
    assert parsed.signed is False
    assert parsed.agents == (
        ("account:https://idp.example-city.jp/ P2025016083", True),
        ("account:https://idp.example-city.jp/ T-0042", False),
    )
    assert parsed.activities == (
        ("https://contents.example-edu.jp/courses/sansu/g4/u03/q2", True),
        ("https://contents.example-edu.jp/courses/sansu/g4/u03", False),
        ("https://contents.example-edu.jp/courses/sansu/g4", False),
        ("https://profiles.example-city.jp/xapi/giga-drill/v1", False),
    )


def test_object_type_defaults_to_activity() -> None:
    parsed = parse_statement(
        {"actor": AGENT, "verb": {"id": VOIDED[:-6] + "x"}, "object": {"id": "http://a.jp/"}}
    )
    assert parsed.object_type == "Activity"
    assert parsed.registration is None
    assert parsed.id is None


def test_voiding_statement_facts() -> None:
    parsed = parse_statement(
        {"actor": AGENT, "verb": {"id": VOIDED}, "object": {**STATEMENT_REF, "id": REF.upper()}}
    )
    assert parsed.object_type == "StatementRef"
    assert parsed.ref_id == parsed.voided_id == REF
    assert parsed.activities == ()


def test_statement_ref_is_not_voiding() -> None:
    parsed = parse_statement(
        {"actor": AGENT, "verb": {"id": "http://x.jp/liked"}, "object": STATEMENT_REF}
    )
    assert (parsed.ref_id, parsed.voided_id) == (REF, None)


def test_directness_and_deduplication() -> None:
    teacher = {"objectType": "Agent", "mbox": "mailto:Sensei@School.JP"}
    statement = {
        "actor": {"objectType": "Group", "mbox": "mailto:class@x.jp", "member": [AGENT, teacher]},
        "verb": {"id": "http://x.jp/observed"},
        "object": {
            "objectType": "SubStatement",
            "actor": {"mbox": MBOX},
            "verb": {"id": "http://x.jp/did"},
            "object": {"id": "http://x.jp/act/1"},
            "context": {
                "instructor": {"mbox": "mailto:other@x.jp"},
                "contextActivities": {"parent": {"id": "http://x.jp/act/0"}},
            },
        },
        "context": {
            "instructor": teacher,
            "team": {"objectType": "Group", "member": [{"openid": "http://id.x.jp/9"}]},
            "contextActivities": {"grouping": [{"id": "http://x.jp/act/1"}]},
        },
        "authority": {"mbox": "mailto:lms@x.jp"},
    }
    parsed = parse_statement(statement)
    assert dict(parsed.agents) == {
        "mbox:mailto:hanako@example.jp": True,  # member of the actor; direct wins over sub actor
        "mbox:mailto:Sensei@school.jp": True,  # member of the actor, and instructor
        "mbox:mailto:class@x.jp": True,
        "mbox:mailto:other@x.jp": False,
        "openid:http://id.x.jp/9": False,
        # the authority is validated but not indexed: the LRS replaces it with its own
    }
    assert dict(parsed.activities) == {"http://x.jp/act/1": False, "http://x.jp/act/0": False}
    assert parsed.object_type == "SubStatement"


def test_single_context_activities_become_arrays() -> None:
    statement = {
        "actor": AGENT,
        "verb": {"id": "http://x.jp/did"},
        "object": {**SUBSTATEMENT, "context": {"contextActivities": {"other": ACTIVITY}}},
        "context": {"contextActivities": {"parent": ACTIVITY, "grouping": [ACTIVITY]}},
    }
    before = copy.deepcopy(statement)
    data = parse_statement(statement).data
    assert data["context"]["contextActivities"] == {"parent": [ACTIVITY], "grouping": [ACTIVITY]}
    assert data["object"]["context"]["contextActivities"] == {"other": [ACTIVITY]}
    assert statement == before
    assert parse_statement(data).data == data


def test_data_is_a_fresh_top_level_dict(make_statement: MakeStatement) -> None:
    raw = make_statement()
    parsed = parse_statement(raw)
    assert parsed.data == raw
    parsed.data["stored"] = "2025-06-12T01:15:31.000Z"
    assert "stored" not in raw


def test_attachment_metadata() -> None:
    signature = {
        **ATTACHMENT,
        "usageType": SIGNATURE,
        "contentType": "application/octet-stream",
        "sha2": "ab" * 32,
    }
    del signature["fileUrl"]
    parsed = parse_statement(
        {
            "actor": AGENT,
            "verb": {"id": "http://x.jp/did"},
            "object": {**SUBSTATEMENT, "attachments": [{**ATTACHMENT, "sha2": "cd" * 48}]},
            "attachments": [ATTACHMENT, signature],
        }
    )
    assert parsed.signed is True
    assert parsed.attachments == (
        AttachmentMeta(
            "http://example.com/attachment-usage/test",
            "text/plain; charset=ascii",
            27,
            SHA256,
            "http://over.there.com/file.txt",
        ),
        AttachmentMeta(SIGNATURE, "application/octet-stream", 27, "ab" * 32, None),
        AttachmentMeta(
            "http://example.com/attachment-usage/test",
            "text/plain; charset=ascii",
            27,
            "cd" * 48,
            "http://over.there.com/file.txt",
        ),
    )


def test_signature_only_counts_on_the_statement_itself() -> None:
    signature = {**ATTACHMENT, "usageType": SIGNATURE, "contentType": "application/octet-stream"}
    parsed = parse_statement(
        {
            "actor": AGENT,
            "verb": {"id": "http://x.jp/did"},
            "object": {**SUBSTATEMENT, "attachments": [signature]},
        }
    )
    assert parsed.signed is False


class TestBatches:
    def test_one_statement_as_an_object(self) -> None:
        (parsed,) = parse_statements(copy.deepcopy(SCHOOL_STATEMENT))
        assert parsed.id == SCHOOL_STATEMENT["id"]

    def test_an_array(self) -> None:
        second = {**SCHOOL_STATEMENT, "id": REF}
        third = {k: x for k, x in SCHOOL_STATEMENT.items() if k != "id"}
        assert [s.id for s in parse_statements([SCHOOL_STATEMENT, second, third])] == [
            SCHOOL_STATEMENT["id"],
            REF,
            None,
        ]

    def test_one_bad_statement_fails_the_batch_with_its_index(self) -> None:
        bad = {**SCHOOL_STATEMENT, "id": REF, "verb": {"id": "answered"}}
        with pytest.raises(InvalidStatementError, match=r"^statements\[1\]\.verb\.id: must be"):
            parse_statements([SCHOOL_STATEMENT, bad])

    def test_repeated_ids_fail_the_batch(self) -> None:
        upper = {**SCHOOL_STATEMENT, "id": SCHOOL_STATEMENT["id"].upper()}
        with pytest.raises(
            InvalidStatementError, match=r"^statements\[2\]\.id: repeats the id of statements\[0\]$"
        ):
            parse_statements([SCHOOL_STATEMENT, {**SCHOOL_STATEMENT, "id": REF}, upper])

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            ([], "statements: must contain at least one Statement"),
            ("x", 'statements: must be a Statement or an array of Statements, got "x"'),
            (None, "statements: must be a Statement or an array of Statements, got null"),
            ([1], "statements[0]: must be a Statement (a JSON object), got 1"),
        ],
    )
    def test_not_statements(self, raw: object, message: str) -> None:
        with pytest.raises(InvalidStatementError) as caught:
            parse_statements(raw)
        assert caught.value.message == message
