"""One view of an xAPI request, whether it came as plain HTTP or in the Alternate Request Syntax.

xAPI 1.0.3 lets a client tunnel any request through `POST ...?method=PUT` with headers and the
body as form fields. Views read `XapiRequest` and never care which way it came.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson
from flask import Request
from werkzeug.datastructures import Headers, MultiDict

from records.errors import BadRequestError
from records.store import AttachmentPart

# Form fields that are headers in the Alternate Request Syntax.
_HEADER_FIELDS = {
    "authorization",
    "x-experience-api-version",
    "content-type",
    "content-length",
    "if-match",
    "if-none-match",
}
_METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD"}


@dataclass(frozen=True, slots=True)
class XapiRequest:
    method: str
    args: MultiDict[str, str]
    headers: Headers
    body: bytes
    alternate: bool

    @property
    def mimetype(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def single(self, name: str) -> str | None:
        """A parameter that may appear once."""
        values = self.args.getlist(name)
        if len(values) > 1:
            raise BadRequestError(f"parameter {name!r} was given {len(values)} times; give it once")
        return values[0] if values else None


def from_flask(request: Request) -> XapiRequest:
    if "method" not in request.args:
        return XapiRequest(
            request.method, MultiDict(request.args), request.headers, request.get_data(), False
        )
    if request.method != "POST":
        raise BadRequestError(
            f"the Alternate Request Syntax (?method=...) must be sent as POST, not {request.method}"
        )
    if len(request.args) != 1 or len(request.args.getlist("method")) != 1:
        raise BadRequestError(
            "with the Alternate Request Syntax, 'method' must be the only query parameter; "
            "send the others as form fields"
        )
    method = request.args["method"].upper()
    if method not in _METHODS:
        raise BadRequestError(f"method={request.args['method']!r} is not an xAPI method")
    if request.mimetype != "application/x-www-form-urlencoded":
        raise BadRequestError(
            "the Alternate Request Syntax needs Content-Type application/x-www-form-urlencoded"
        )
    try:
        form = parse_qs(
            request.get_data().decode("utf-8"), keep_blank_values=True, strict_parsing=False
        )
    except UnicodeDecodeError:
        raise BadRequestError("the form body is not valid UTF-8") from None
    headers = Headers(request.headers)
    args: MultiDict[str, str] = MultiDict()
    body = b""
    for name, values in form.items():
        lowered = name.lower()
        if lowered in _HEADER_FIELDS:
            headers[name] = values[-1]
        elif name == "content":
            body = values[-1].encode("utf-8")
        else:
            for value in values:
                args.add(name, value)
    if method in {"PUT", "POST"} and "content" not in form:
        raise BadRequestError(
            "the Alternate Request Syntax sends the body in a form field named 'content'"
        )
    if "content-type" not in {name.lower() for name in form}:
        # The request's own Content-Type describes the form, not the tunnelled body.
        headers["Content-Type"] = "application/json"
    return XapiRequest(method, args, headers, body, True)


def parse_json(body: bytes, max_depth: int, what: str = "the request body") -> Any:
    if not body.strip():
        raise BadRequestError(f"{what} is empty; send JSON")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(f"{what} is not valid JSON (UTF-8): {exc}") from None
    # Nesting needs an opening bracket per level: with few brackets in the body (a single
    # statement has about 30), the walk over every value is skipped.
    if body.count(b"{") + body.count(b"[") >= max_depth:
        _check_depth(value, max_depth, what)
    return value


def _check_depth(value: Any, max_depth: int, what: str) -> None:
    """No value deeper than `max_depth` (the top level is 1). Walks the containers only."""
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if children and depth >= max_depth:  # its values sit one level deeper
            raise BadRequestError(f"{what} nests deeper than {max_depth} levels")
        stack.extend((v, depth + 1) for v in children if isinstance(v, (dict, list)))


_SHA2_BY_LENGTH = {56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}
_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)


def split_multipart(content_type: str, body: bytes) -> tuple[bytes, list[AttachmentPart]]:
    """The statement JSON and the attachment parts of a multipart/mixed body."""
    found = _BOUNDARY.search(content_type)
    if not found:
        raise BadRequestError("multipart/mixed needs a boundary in the Content-Type header")
    boundary = (found.group(1) or found.group(2)).encode("latin-1")
    delimiter = b"--" + boundary
    if delimiter not in body:
        raise BadRequestError("the multipart body does not contain its boundary")
    chunks = body.split(delimiter)
    # chunks[0] is the preamble, the last one starts with "--" (closing delimiter).
    raw_parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        raw_parts.append(chunk)
    else:
        raise BadRequestError("the multipart body is not closed with --boundary--")
    if not raw_parts:
        raise BadRequestError("the multipart body has no parts")
    parts = [_part(chunk) for chunk in raw_parts]
    first_headers, first_body = parts[0]
    first_type = (first_headers.get("content-type") or "").split(";")[0].strip().lower()
    if first_type != "application/json":
        raise BadRequestError("the first part of a multipart/mixed body must be application/json")
    attachments = []
    for n, (headers, content) in enumerate(parts[1:], start=1):
        sha2 = headers.get("x-experience-api-hash")
        if not sha2:
            raise BadRequestError(f"multipart part {n} has no X-Experience-API-Hash header")
        if (headers.get("content-transfer-encoding") or "").strip().lower() != "binary":
            raise BadRequestError(f"multipart part {n} needs Content-Transfer-Encoding: binary")
        sha2 = sha2.strip().lower()
        algorithm = _SHA2_BY_LENGTH.get(len(sha2))
        if algorithm is None or hashlib.new(algorithm, content).hexdigest() != sha2:
            raise BadRequestError(
                f"multipart part {n}: X-Experience-API-Hash {sha2} does not match its content"
            )
        ctype = headers.get("content-type") or "application/octet-stream"
        attachments.append(AttachmentPart(sha2, ctype.strip(), content))
    return first_body, attachments


def _part(chunk: bytes) -> tuple[dict[str, str], bytes]:
    # Each part: CRLF, headers, CRLF CRLF, content, CRLF (before the next delimiter).
    if chunk.startswith(b"\r\n"):
        chunk = chunk[2:]
    elif chunk.startswith(b"\n"):
        chunk = chunk[1:]
    head, sep, content = chunk.partition(b"\r\n\r\n")
    if not sep:
        head, sep, content = chunk.partition(b"\n\n")
        if not sep:
            raise BadRequestError("a multipart part has no blank line after its headers")
    if content.endswith(b"\r\n"):
        content = content[:-2]
    elif content.endswith(b"\n"):
        content = content[:-1]
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").splitlines():
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers, content
