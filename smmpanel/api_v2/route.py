"""The /api/v2 endpoint: read the request, dispatch the action, render the reply or error."""

import logging

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smmpanel.api_v2 import replies
from smmpanel.api_v2.actions import TOO_MANY_IDS, Api, TooManyIds
from smmpanel.api_v2.ratelimit import RateLimiter
from smmpanel.api_v2.request import BadRequest, read_fields
from smmpanel.errors import Refusal

log = logging.getLogger("smmpanel.api")

INCORRECT_REQUEST = "Incorrect request"
INVALID_KEY = "Invalid API key"
TOO_MANY_REQUESTS = "Too many requests"
TEMPORARY_ERROR = "Temporary error, please try again later"


def json_response(body: object, status_code: int = 200) -> Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(content, status_code=status_code, media_type="application/json")


def api_routes(api: Api, limiter: RateLimiter) -> list[Route]:
    async def endpoint(request: Request) -> Response:
        try:
            return await _handle(api, limiter, request)
        except Exception:
            log.exception("api request failed", extra={"path": request.url.path})
            return json_response(replies.error(TEMPORARY_ERROR), 503)

    methods = ["GET", "POST", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return [
        Route("/api/v2", endpoint, methods=methods),
        Route("/api/v2/", endpoint, methods=methods),
    ]


async def _handle(api: Api, limiter: RateLimiter, request: Request) -> Response:
    if request.method not in ("GET", "POST"):
        return json_response(replies.error(INCORRECT_REQUEST))
    try:
        fields = await read_fields(request)
    except BadRequest:
        return json_response(replies.error(INCORRECT_REQUEST))
    key, action_name = fields.get("key", "").strip(), fields.get("action", "").strip()
    if not limiter.allow(key or _client_address(request)):
        return json_response(replies.error(TOO_MANY_REQUESTS), 429)
    action = api.actions.get(action_name.lower())
    if not key or action is None:
        return json_response(replies.error(INCORRECT_REQUEST))
    customer = await api.authenticate(key)
    if customer is None:
        return json_response(replies.error(INVALID_KEY))
    try:
        return json_response(await action(customer, fields))
    except Refusal as refused:
        return json_response(replies.refused(refused))
    except TooManyIds:
        return json_response(replies.error(TOO_MANY_IDS))


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
