"""Reading an API v2 request: query string, then form, multipart or JSON body (body wins)."""

import logging
from typing import TYPE_CHECKING

import orjson
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from smmpanel.request_body import body_at_most
from smmpanel.text import NotText, check_storable, urlencoded_pairs

if TYPE_CHECKING:  # defined for type checkers only
    from python_multipart.multipart import MultipartCallbacks

MAX_BODY_BYTES = 1_048_576
# Fields are flat: a JSON value may hold a list of ids or a small object, never a deep tree.
MAX_JSON_VALUE_DEPTH = 3
MAX_MULTIPART_PARTS = 1000

log = logging.getLogger("smmpanel.api")


class BadRequest(Exception):
    """The request cannot be read: malformed body, wrong encoding, too large."""


async def read_fields(request: Request) -> dict[str, str]:
    query = request.scope.get("query_string", b"")
    fields = _urlencoded_fields(query) if query else {}
    if request.scope["method"] == "POST":
        fields.update(await _readable_body_fields(request))
    return fields


def _storable(fields: dict[str, str]) -> dict[str, str]:
    """The fields, once every name and value is checked storable (form fields are checked as
    they are decoded)."""
    try:
        for name, value in fields.items():
            check_storable(name)
            check_storable(value)
    except NotText:
        raise BadRequest from None
    return fields


async def _readable_body_fields(request: Request) -> dict[str, str]:
    """Whatever fails while reading a body is the client's request, never the server's fault."""
    try:
        return await _body_fields(request)
    except BadRequest:
        raise
    except ClientDisconnect:
        raise BadRequest from None
    except Exception as exc:  # a parser's own failure (RecursionError...): one line, no trace
        log.warning("unreadable api request body", extra={"failure": repr(exc)[:200]})
        raise BadRequest from None


async def _body_fields(request: Request) -> dict[str, str]:
    body = await _limited_body(request)
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":  # the usual one, checked first
        return _urlencoded_fields(body)
    if media_type == "multipart/form-data":
        return _storable(_multipart_fields(body, content_type))
    if media_type == "application/json" or (
        media_type in ("", "text/plain") and body.lstrip().startswith(b"{")
    ):
        return _storable(_json_fields(body))
    return _urlencoded_fields(body)


def _urlencoded_fields(data: bytes) -> dict[str, str]:
    """A query string or form body; invalid UTF-8, raw or percent-encoded, is refused."""
    try:
        return dict(urlencoded_pairs(data))
    except NotText:
        raise BadRequest from None


async def _limited_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        raise BadRequest
    body = await body_at_most(request, MAX_BODY_BYTES)
    if body is None:
        raise BadRequest
    return body


def _multipart_fields(body: bytes, content_type: str) -> dict[str, str]:
    """The text parts of a multipart body (file parts are skipped), each strictly UTF-8:
    Starlette's own reader would turn invalid bytes into Latin-1 mojibake."""
    boundary = parse_options_header(content_type)[1].get(b"boundary")
    if not boundary:
        raise BadRequest
    parts = _MultipartParts()
    try:
        parser = MultipartParser(boundary, parts.callbacks())
        parser.write(body)
        parser.finalize()
    except FormParserError:
        raise BadRequest from None
    if not parts.complete:
        raise BadRequest
    return parts.fields


class _MultipartParts:
    """Collects the parts python-multipart's parser reports, as the body is parsed."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.complete = False
        self._count = 0
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._data = bytearray()

    def callbacks(self) -> "MultipartCallbacks":
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._count += 1
        if self._count > MAX_MULTIPART_PARTS:
            raise BadRequest
        self._disposition, self._data = b"", bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._data += data[start:end]

    def _part_end(self) -> None:
        options = parse_options_header(self._disposition)[1]
        if b"name" not in options:
            raise BadRequest
        if b"filename" not in options:
            self.fields[_utf8(options[b"name"])] = _utf8(bytes(self._data))

    def _end(self) -> None:
        self.complete = True


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest from None


def _json_fields(body: bytes) -> dict[str, str]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest from None
    if not isinstance(data, dict):
        raise BadRequest
    return {
        name: _json_text(_shallow(value, MAX_JSON_VALUE_DEPTH))
        for name, value in data.items()
        if value is not None
    }


def _shallow(value: object, depth_left: int) -> object:
    """The value itself, once checked to nest lists and objects at most `depth_left` deep."""
    if isinstance(value, list | dict):
        if depth_left == 0:
            raise BadRequest
        items = value.values() if isinstance(value, dict) else value
        for item in items:
            _shallow(item, depth_left - 1)
    return value


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
