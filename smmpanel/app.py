"""The ASGI application: API v2, pages and (unless split off) the background worker."""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from smmpanel import admin
from smmpanel.api_v2.actions import Api
from smmpanel.api_v2.ratelimit import ApiLimits, RateLimiter
from smmpanel.api_v2.route import API_PATH, ApiEndpoint, api_routes
from smmpanel.config import Settings, get_settings
from smmpanel.db import Database
from smmpanel.logs import configure_logging
from smmpanel.middleware import Outermost
from smmpanel.ops.routes import ops_routes
from smmpanel.pagekit.error_pages import install_error_pages
from smmpanel.pagekit.pages import Pages
from smmpanel.pagekit.templating import build_environment
from smmpanel.web.routes import routers as customer_routers
from smmpanel.worker.loop import run_worker

STATIC_DIR = Path(__file__).parent / "static"
# How long a gateway may take to start a payment (create a session or an invoice).
PAYMENT_TIMEOUT_SECONDS = 20.0
# The panel reports through its own /metrics and JSON logs. Left on, FastAPI looks for
# OpenTelemetry providers on every request: measured with bench/api.py, a tenth of the CPU
# of a `balance` reply (164 -> 141 µs).
NO_OPENTELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def tune_garbage_collector() -> None:
    """Measured under load: full collections of the start-up objects cost ~100 ms pauses and
    ~12 % of CPU; freezing them and collecting the young generation less often avoids both."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


class PanelApp(FastAPI):
    api_endpoint: ApiEndpoint | None = None

    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's own error layer, so that its error pages get the headers too;
        # the API's requests go straight to it (measured: a quarter of a request's CPU).
        direct = None if self.api_endpoint is None else (API_PATH, self.api_endpoint)
        return Outermost(super().build_middleware_stack(), direct)


def create_app(settings: Settings | None = None, *, with_worker: bool | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    db = Database(settings.database_url, settings.db_pool_size)
    run_worker_here = settings.run_worker if with_worker is None else with_worker

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        tune_garbage_collector()
        stop = asyncio.Event()
        app.state.payment_http = httpx.AsyncClient(timeout=PAYMENT_TIMEOUT_SECONDS)
        worker = asyncio.create_task(run_worker(db, settings, stop)) if run_worker_here else None
        yield
        stop.set()
        if worker is not None:
            await worker
        await app.state.payment_http.aclose()
        await db.dispose()

    app = PanelApp(
        title="smmpanel",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        telemetry=NO_OPENTELEMETRY,
    )
    api = Api(db)
    limits = ApiLimits(
        customers=RateLimiter(settings.api_rate_limit, settings.api_rate_burst),
        addresses=RateLimiter(settings.api_address_rate_limit, settings.api_address_rate_burst),
    )
    app.api_endpoint = ApiEndpoint(api, limits)
    app.router.routes.extend(api_routes(app.api_endpoint))
    app.router.routes.extend(ops_routes(db, settings))

    app.state.pages = Pages(db=db, settings=settings, templates=build_environment())
    for router in customer_routers() + admin.routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_pages(app)
    app.state.db = db
    app.state.runs_worker = run_worker_here
    return app
