"""Where gateways tell the panel about payments: server to server, no session, no CSRF; each
notice is verified by its gateway module against the keys of the payment's method."""

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from smmpanel.payments.flow import INFO_PATH, NOTICE_PATHS, receive_notice
from smmpanel.payments.gateways import Received
from smmpanel.request_body import body_at_most

router = APIRouter()
# Far above any real notice; a larger body is refused unread.
NOTICE_BYTES = 65_536
# The gateway each notice path belongs to.
GATEWAY_OF_PATH = {path: name for name, path in NOTICE_PATHS.items()} | {INFO_PATH: "ecpay"}


async def _notice(request: Request) -> Response:
    gateway_name = GATEWAY_OF_PATH[request.url.path]
    body = await body_at_most(request, NOTICE_BYTES)
    if body is None:
        return Response("too large", status_code=413, media_type="text/plain")
    headers = {name.lower(): value for name, value in request.headers.items()}
    pages = request.app.state.pages
    reply = await receive_notice(
        pages.db, gateway_name, Received(body, headers), live=pages.settings.is_production
    )
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type)


for path in GATEWAY_OF_PATH:
    router.add_api_route(path, _notice, methods=["POST"], include_in_schema=False)
