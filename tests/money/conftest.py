"""Money tests run against dedicated multi-process panels on fresh databases.

A `Fleet` is one database, a panel with several uvicorn worker processes on it, a `Database`
for setting up and auditing, and an HTTP client with room for many simultaneous connections.
"""

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import harness
import httpx
import pytest
import pytest_asyncio
from harness import PanelProcess, Shop

from smmpanel.config import Settings
from smmpanel.db import Database

WORKERS = 3
CLIENTS = 50  # simultaneous requests, one connection each


class WatchedPanel(PanelProcess):
    """A panel whose log is read as it runs: startup of each worker, and any failure logged."""

    def __init__(self, database_url: str, *, workers: int = 1) -> None:
        self.workers = workers
        self.log: list[str] = []
        self._started = 0
        self._all_started = threading.Event()
        production = {"SMMPANEL_DB_POOL_SIZE": str(Settings.model_fields["db_pool_size"].default)}
        env = {"SMMPANEL_LOG_LEVEL": "INFO", **production}
        super().__init__(database_url, workers=workers, env=env)
        threading.Thread(target=self._read_log, daemon=True).start()
        if not self._all_started.wait(timeout=60):
            self.stop()
            raise RuntimeError(f"only {self._started} of {workers} workers started")

    def _read_log(self) -> None:
        for raw in self.process.stderr:
            line = raw.decode(errors="replace")
            self.log.append(line)
            if "Application startup complete" in line:
                self._started += 1
                if self._started >= self.workers:
                    self._all_started.set()

    def failures(self) -> list[str]:
        """Log lines that mean a request or a worker failed."""
        return [
            line
            for line in self.log
            if any(sign in line for sign in ("Traceback", "api request failed", '"level":"error"'))
            or ("Child process" in line and "died" in line)  # killed by the supervisor as hung
        ]

    def worker_pids(self) -> list[int]:
        """The web worker processes (children of the supervisor, minus its resource tracker)."""
        return [pid for pid in child_pids(self.process.pid) if "spawn_main" in _cmdline(pid)]

    def kill_all(self) -> None:
        """kill -9 the supervisor and every process it started, as a power cut would."""
        children = child_pids(self.process.pid)
        os.kill(self.process.pid, signal.SIGKILL)
        for pid in children:
            _kill_quietly(pid)
        self.process.wait(timeout=10)


def child_pids(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in path.read_text().split()]
    except FileNotFoundError:
        return []


def client_connections(pid: int, port: int) -> int:
    """How many clients are connected to `port` through this process's sockets."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    established = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        established += local_port == port and fields[3] == "01" and fields[9] in inodes
    return established


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except FileNotFoundError:
        return ""


def _kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@dataclass
class Fleet:
    backend: str
    database_url: str
    panel: WatchedPanel
    db: Database
    shop: "Shop"
    clients: list[httpx.AsyncClient]  # one connection each

    async def add(self, client: httpx.AsyncClient, **fields: object) -> dict:
        response = await client.post(self.panel.api_url, data={"action": "add", **fields})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        return response.json()

    async def connect(self, key: str) -> list[int]:
        """Open every client's connection, one after another: a burst of connections would
        all be accepted by whichever worker wakes first. The workers that got some."""
        fields = {"key": key, "action": "balance"}
        for client in self.clients:
            assert (await client.post(self.panel.api_url, data=fields)).status_code == 200
        return [
            pid for pid in self.panel.worker_pids() if client_connections(pid, self.panel.port) > 0
        ]


def many_connections_client() -> httpx.AsyncClient:
    # Idle connections are dropped before the server's 5 s keep-alive ends: reusing one the
    # server is closing fails the request.
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200, keepalive_expiry=2)
    return httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(60.0))


def single_connection_client() -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=2)
    return httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(60.0))


async def fresh_database(backend: str, tmp_dir: Path) -> str:
    return await harness.migrated(backend, tmp_dir)


async def discard_database(backend: str, url: str) -> None:
    if backend == "postgresql":
        await harness.drop_postgres_database(url)


@pytest_asyncio.fixture(scope="module")
async def fleet(backend: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Fleet]:
    url = await fresh_database(backend, tmp_path_factory.mktemp(f"fleet-{backend}"))
    panel = await asyncio.to_thread(WatchedPanel, url, workers=WORKERS)
    db = Database(url, pool_size=8)
    try:
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(single_connection_client()) for _ in range(CLIENTS)
            ]
            yield Fleet(backend, url, panel, db, Shop(db), clients)
        failures = panel.failures()
        assert not failures, f"{len(failures)} failures logged, the first: {failures[0][:3000]}"
    finally:
        panel.stop()
        await db.dispose()
        await discard_database(backend, url)


def wait_for(condition, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
