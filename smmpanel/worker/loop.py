"""The background worker: runs each job when due, again at once while it finds work.

Each run of a job is a task of its own, so a slow one (a catalogue sync waiting on a slow
upstream) holds up no other: forwarding and polling go on meanwhile. A job never overlaps
itself. On stop no job is started again, and the runs under way are let finish.
"""

import asyncio
import logging

from smmpanel.config import Settings
from smmpanel.db import Database
from smmpanel.ops.metrics import job_failed, job_ran
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
    running: dict[asyncio.Task[bool], Job] = {}
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while not stop.is_set():
            busy = {job.name for job in running.values()}
            for job in jobs:
                if job.name not in busy and loop.time() >= next_run[job.name]:
                    running[asyncio.create_task(_run_job(context, job))] = job
            finished, _ = await asyncio.wait(
                [stopping, *running],
                timeout=context.settings.worker_tick_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
            for task in finished - {stopping}:
                job = running.pop(task)
                next_run[job.name] = loop.time() + (0.0 if task.result() else job.every_seconds)
    finally:
        stopping.cancel()
        if running:
            await asyncio.wait(running)


async def _run_job(context: WorkerContext, job: Job) -> bool:
    try:
        done = await job.run(context)
    except Exception:
        log.exception("job failed", extra={"job": job.name})
        job_failed(job.name)
        return False
    job_ran(job.name, done)
    if done:
        log.info("job done", extra={"job": job.name, "count": done})
    return done > 0
