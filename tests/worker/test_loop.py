"""The worker loop runs each job on its schedule and outlives a failing job."""

import asyncio

import pytest

from smmpanel.config import Settings
from smmpanel.worker.context import Job
from smmpanel.worker.loop import run_worker

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


async def test_a_failing_job_does_not_stop_the_others():
    runs = {"good": 0, "bad": 0}

    async def good(_context):
        runs["good"] += 1
        return 1

    async def bad(_context):
        runs["bad"] += 1
        raise RuntimeError("upstream exploded")

    stop = asyncio.Event()
    jobs = (Job("bad", 0.0, bad), Job("good", 0.0, good))
    worker = asyncio.create_task(run_worker(None, Settings(), stop, jobs))
    await asyncio.sleep(2.5)
    stop.set()
    await asyncio.wait_for(worker, timeout=5)
    assert runs["bad"] >= 2 and runs["good"] >= 2


async def test_stop_ends_the_loop_promptly():
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(None, Settings(), stop, ()))
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(worker, timeout=2)
