"""What every worker job is handed: the database, the upstream client and the settings."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from smmpanel.config import Settings
from smmpanel.db import Database
from smmpanel.providers.client import UpstreamClient


@dataclass(frozen=True)
class WorkerContext:
    db: Database
    upstream: UpstreamClient
    settings: Settings


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[WorkerContext], Awaitable[int]]


def upstream_http_client() -> httpx.AsyncClient:
    """The one outgoing HTTP client of a process; each call sets its provider's timeout."""
    return httpx.AsyncClient(
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        headers={"User-Agent": "smmpanel"},
        follow_redirects=False,
    )
