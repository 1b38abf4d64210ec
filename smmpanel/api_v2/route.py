"""The /api/v2 endpoint: read the request, dispatch the action, render the reply or error."""

import logging

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from smmpanel.api_v2 import replies
from smmpanel.api_v2.actions import TOO_MANY_IDS, Api, TooManyIds
from smmpanel.api_v2.ratelimit import ApiLimits
from smmpanel.api_v2.request import BadRequest, read_fields
from smmpanel.errors import Refusal
from smmpanel.ops.metrics import ACTION_SCOPE_KEY, observed

log = logging.getLogger("smmpanel.api")

INCORRECT_REQUEST = "Incorrect request"
INVALID_KEY = "Invalid API key"
TOO_MANY_REQUESTS = "Too many requests"
TEMPORARY_ERROR = "Temporary error, please try again later"


API_PATH = "/api/v2"


class JsonReply(Response):
    """A reply of bytes already rendered: its two headers written directly, without
    `Response`'s rendering and header checks (part of each request's cost, measured)."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
        ]


def json_response(body: object, status_code: int = 200) -> Response:
    return JsonReply(body if isinstance(body, bytes) else orjson.dumps(body), status_code)


def api_routes(endpoint: "ApiEndpoint") -> list[Route]:
    """/api/v2, /api/v2/ and every path below it (those only to refuse), for every method.
    The app's outermost layer also sends these paths straight to `endpoint`."""
    return [Route(API_PATH, endpoint), Route(API_PATH + "/{below:path}", endpoint)]


class ApiEndpoint:
    """An ASGI app rather than a request function: Starlette then routes every method here,
    and the contract's JSON answers even those it refuses. It answers its own errors, so the
    app's outermost layer may send its requests here past the framework's layers."""

    def __init__(self, api: Api, limits: ApiLimits) -> None:
        self.api = api
        self.limits = limits
        self.answer = observed(api.actions)(self.endpoint)  # counted and timed for /metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.answer(Request(scope, receive))
        await response(scope, receive, send)

    async def endpoint(self, request: Request) -> Response:
        try:
            return await _handle(self.api, self.limits, request)
        except Exception:
            log.exception("api request failed", extra={"path": request.url.path})
            return json_response(replies.error(TEMPORARY_ERROR), 503)


def _below_api(path: str) -> str:
    """What follows /api/v2/ in the path: the contract answers only /api/v2 and /api/v2/."""
    return path[len(API_PATH) + 1 :] if path.startswith(API_PATH + "/") else ""


async def _handle(api: Api, limits: ApiLimits, request: Request) -> Response:
    if request.method not in ("GET", "POST") or _below_api(request.scope["path"]):
        return json_response(replies.error(INCORRECT_REQUEST))
    try:
        fields = await read_fields(request)
    except BadRequest:
        return json_response(replies.error(INCORRECT_REQUEST))
    key, action_name = fields.get("key", "").strip(), fields.get("action", "").strip().lower()
    request.scope[ACTION_SCOPE_KEY] = action_name
    action = api.actions.get(action_name)
    # Only a key that may be answered is looked up; the rest counts against the address. The
    # read actions' reads ride on the look-up: read, then refused if over the limit.
    customer = await api.authenticate(key, action_name, fields) if key and action else None
    client_host = request.client.host if request.client else None
    if not limits.allow(customer.id if customer else None, client_host):
        return json_response(replies.error(TOO_MANY_REQUESTS), 429)
    if not key or action is None:
        return json_response(replies.error(INCORRECT_REQUEST))
    if customer is None:
        return json_response(replies.error(INVALID_KEY))
    try:
        return json_response(await action(customer, fields))
    except Refusal as refused:
        return json_response(replies.refused(refused))
    except TooManyIds:
        return json_response(replies.error(TOO_MANY_IDS))
