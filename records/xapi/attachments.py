"""Attachment objects (Data 2.4.11) and the signature attachment's own rule (Data 2.6)."""

from __future__ import annotations

import re

from records.xapi.primitives import (
    check_array,
    check_iri,
    check_keys,
    check_language_map,
    fail,
    key_path,
    require_object,
    show,
    text,
)
from records.xapi.types import AttachmentMeta

SIGNATURE_USAGE_TYPE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_CONTENT_TYPE = "application/octet-stream"

_ATTACHMENT_KEYS = frozenset(
    {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}
)
_REQUIRED = ("usageType", "display", "contentType", "length", "sha2")
_MEDIA_CHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z\-]+"  # RFC 7230 tchar
_PARAMETER = rf"[ \t]*;[ \t]*{_MEDIA_CHARS}=(?:{_MEDIA_CHARS}|\"(?:[^\"\\]|\\.)*\")"
_MEDIA_TYPE = re.compile(rf"{_MEDIA_CHARS}/{_MEDIA_CHARS}(?:{_PARAMETER})*[ \t]*\Z")  # RFC 7231
_SHA2 = re.compile(r"(?:[0-9a-fA-F]{56}|[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})\Z")


def check_attachments(value: object, path: str) -> tuple[AttachmentMeta, ...]:
    attachments = check_array(value, path, "Attachments")
    return tuple(
        check_attachment(entry, f"{path}[{index}]") for index, entry in enumerate(attachments)
    )


def check_attachment(value: object, path: str) -> AttachmentMeta:
    attachment = require_object(value, path, "an Attachment")
    check_keys(attachment, _ATTACHMENT_KEYS, path, "an Attachment")
    for name in _REQUIRED:
        if name not in attachment:
            fail(key_path(path, name), "is required")
    usage_type = check_iri(attachment["usageType"], f"{path}.usageType")
    check_language_map(attachment["display"], f"{path}.display")
    if "description" in attachment:
        check_language_map(attachment["description"], f"{path}.description")
    content_type = text(attachment["contentType"], f"{path}.contentType")
    if _MEDIA_TYPE.match(content_type) is None:
        fail(f"{path}.contentType", f"must be an Internet Media Type, got {show(content_type)}")
    length = attachment["length"]
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        fail(f"{path}.length", f"must be a non-negative integer, got {show(length)}")
    sha2 = text(attachment["sha2"], f"{path}.sha2")
    if _SHA2.match(sha2) is None:
        fail(f"{path}.sha2", f"must be a hex SHA-224/256/384/512 digest, got {show(sha2)}")
    file_url = None
    if "fileUrl" in attachment:
        file_url = check_iri(attachment["fileUrl"], f"{path}.fileUrl", "IRL")
    if usage_type == SIGNATURE_USAGE_TYPE:
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type != SIGNATURE_CONTENT_TYPE:
            fail(
                f"{path}.contentType",
                f'must be "{SIGNATURE_CONTENT_TYPE}" for a signature, got {show(content_type)}',
            )
    return AttachmentMeta(
        usage_type=usage_type,
        content_type=content_type,
        length=length,
        sha2=sha2,
        file_url=file_url,
    )
