"""Reading an API v2 request: query string, then form, multipart or JSON body (body wins)."""

from urllib.parse import parse_qsl

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request

MAX_BODY_BYTES = 1_048_576


class BadRequest(Exception):
    """The request cannot be read: malformed body, wrong encoding, too large."""


async def read_fields(request: Request) -> dict[str, str]:
    fields = _urlencoded_fields(request.scope.get("query_string", b""))
    if request.method == "POST":
        fields.update(await _body_fields(request))
    for name, value in fields.items():
        _check_text(name)
        _check_text(value)
    return fields


async def _body_fields(request: Request) -> dict[str, str]:
    body = await _limited_body(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        return await _multipart_fields(request)
    if content_type == "application/json" or (
        content_type in ("", "text/plain") and body.lstrip().startswith(b"{")
    ):
        return _json_fields(body)
    return _urlencoded_fields(body)


def _urlencoded_fields(data: bytes) -> dict[str, str]:
    """A query string or form body; invalid UTF-8, raw or percent-encoded, is refused."""
    try:
        return dict(parse_qsl(data.decode("utf-8"), keep_blank_values=True, errors="strict"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest from None


async def _limited_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        raise BadRequest
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BadRequest
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # lets request.form() parse what was already read
    return body


async def _multipart_fields(request: Request) -> dict[str, str]:
    try:
        form = await request.form()
    except Exception:  # the parser raises several kinds for malformed parts
        raise BadRequest from None
    return {name: value for name, value in form.items() if not isinstance(value, UploadFile)}


def _json_fields(body: bytes) -> dict[str, str]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest from None
    if not isinstance(data, dict):
        raise BadRequest
    return {name: _json_text(value) for name, value in data.items() if value is not None}


def _json_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join(_json_text(item) for item in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()


def _check_text(text: str) -> None:
    """Text the database can store: UTF-8 without NUL."""
    if "\x00" in text:
        raise BadRequest
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest from None
