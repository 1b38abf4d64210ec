"""The background worker: runs each due job in turn, each in its own transaction."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from smmpanel.db import Database
from smmpanel.orders.subscriptions import expire_subscriptions

log = logging.getLogger("smmpanel.worker")


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[Database], Awaitable[int]]


JOBS = (Job("expire_subscriptions", 60.0, expire_subscriptions),)


async def run_worker(db: Database, stop: asyncio.Event, jobs: tuple[Job, ...] = JOBS) -> None:
    """Run every job on its schedule until `stop` is set; a failing job is logged and retried."""
    next_run = {job.name: 0.0 for job in jobs}
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        for job in jobs:
            if loop.time() >= next_run[job.name]:
                await _run_job(db, job)
                next_run[job.name] = loop.time() + job.every_seconds
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


async def _run_job(db: Database, job: Job) -> None:
    try:
        done = await job.run(db)
    except Exception:
        log.exception("job failed", extra={"job": job.name})
        return
    if done:
        log.info("job done", extra={"job": job.name, "count": done})
