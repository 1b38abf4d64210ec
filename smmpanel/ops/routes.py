"""The operations endpoints: /healthz for load balancers, /metrics for Prometheus."""

import hmac
import ipaddress

import orjson
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from smmpanel.config import Settings
from smmpanel.db import Database
from smmpanel.ops.collector import database_figures
from smmpanel.ops.health import check_health
from smmpanel.ops.metrics import REGISTRY

# Headers a reverse proxy adds: a request that carries one came from elsewhere through it.
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
NEEDS_TOKEN = "metrics need the token: send Authorization: Bearer <SMMPANEL_METRICS_TOKEN>\n"
LOOPBACK_ONLY = (
    "metrics answer loopback clients only; set SMMPANEL_METRICS_TOKEN to scrape from elsewhere\n"
)


def ops_routes(db: Database, settings: Settings) -> list[Route]:
    async def healthz(_request: Request) -> Response:
        health = await check_health(db)
        return Response(
            orjson.dumps(health.report),
            status_code=200 if health.healthy else 503,
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    async def metrics(request: Request) -> Response:
        refused = _refusal(request, settings.metrics_token)
        if refused is not None:
            return refused
        figures = CollectorRegistry(auto_describe=False)
        figures.register(await database_figures(db))
        body = generate_latest(REGISTRY) + generate_latest(figures)
        # The text format every Prometheus reads (1.0.0, the newest, only the newest servers).
        return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]


def _refusal(request: Request, token: str) -> Response | None:
    """Why this request may not read the metrics; None when it may."""
    if token:
        given = request.headers.get("authorization", "").encode()
        if hmac.compare_digest(given, f"Bearer {token}".encode()):
            return None
        return PlainTextResponse(NEEDS_TOKEN, 401, headers={"WWW-Authenticate": "Bearer"})
    proxied = any(header in request.headers for header in PROXY_HEADERS)
    if _is_loopback(request.client.host if request.client else "") and not proxied:
        return None
    return PlainTextResponse(LOOPBACK_ONLY, 403)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
