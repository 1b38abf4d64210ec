"""The background worker: runs each job when due, again at once while it finds work."""

import asyncio
import contextlib
import logging

from smmpanel.config import Settings
from smmpanel.db import Database
from smmpanel.providers.client import UpstreamClient
from smmpanel.worker.context import Job, WorkerContext, upstream_http_client
from smmpanel.worker.jobs import JOBS

log = logging.getLogger("smmpanel.worker")


async def run_worker(
    db: Database, settings: Settings, stop: asyncio.Event, jobs: tuple[Job, ...] | None = None
) -> None:
    """Run every job on its schedule until `stop` is set; a failing job is logged and retried."""
    async with upstream_http_client() as http:
        context = WorkerContext(db, UpstreamClient(http), settings)
        await _loop(context, stop, JOBS if jobs is None else jobs)


async def _loop(context: WorkerContext, stop: asyncio.Event, jobs: tuple[Job, ...]) -> None:
    loop = asyncio.get_running_loop()
    next_run = {job.name: 0.0 for job in jobs}
    while not stop.is_set():
        for job in jobs:
            if stop.is_set():
                return
            if loop.time() >= next_run[job.name]:
                found_work = await _run_job(context, job)
                next_run[job.name] = loop.time() + (0.0 if found_work else job.every_seconds)
        idle = all(when > loop.time() for when in next_run.values())
        timeout = context.settings.worker_tick_seconds if idle else 0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=timeout)


async def _run_job(context: WorkerContext, job: Job) -> bool:
    try:
        done = await job.run(context)
    except Exception:
        log.exception("job failed", extra={"job": job.name})
        return False
    if done:
        log.info("job done", extra={"job": job.name, "count": done})
    return done > 0
