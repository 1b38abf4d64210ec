"""What every worker job is handed: the database, the upstream client and the settings."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from smmpanel.config import Settings
from smmpanel.db import Database
from smmpanel.providers.client import UpstreamClient, upstream_session


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


def upstream_http_client() -> aiohttp.ClientSession:
    """The one outgoing HTTP session of a process; each call sets its provider's timeouts."""
    return upstream_session()
