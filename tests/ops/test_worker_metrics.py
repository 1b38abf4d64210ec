"""The worker counts each job's runs and what they handled, for /metrics."""

import asyncio

import pytest

from smmpanel.config import Settings
from smmpanel.ops.metrics import REGISTRY
from smmpanel.worker.context import Job
from smmpanel.worker.loop import run_worker

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_job_runs_and_items_are_counted():
    handed = iter([3, 0])

    async def forwards(_context):
        return next(handed, 0)

    async def breaks(_context):
        raise RuntimeError("upstream exploded")

    stop = asyncio.Event()
    jobs = (Job("forward_test", 60.0, forwards), Job("broken_test", 60.0, breaks))
    worker = asyncio.create_task(run_worker(None, Settings(), stop, jobs))
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(worker, timeout=5)
    # The job names are this test's own: nothing else counts under them.
    assert sample("smmpanel_worker_job_items_total", job="forward_test") == 3
    assert sample("smmpanel_worker_job_runs_total", job="forward_test", outcome="work") == 1
    assert sample("smmpanel_worker_job_runs_total", job="forward_test", outcome="idle") == 1
    assert sample("smmpanel_worker_job_runs_total", job="broken_test", outcome="failed") == 1
