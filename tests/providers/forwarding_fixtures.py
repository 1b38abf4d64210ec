"""What the forwarding tests share: a fake upstream panel in its own process, a provider of ours
pointing at it with a service it fulfils, worker and panel processes, and a look at the books.

Kept out of conftest.py (the catalogue tests of this folder have their own): a test module
imports the fixtures it uses, and those they depend on, from here. Their names differ from the
conftest.py ones, so neither shadows the other.
"""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import harness
import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select, update

from smmpanel.accounts.audit import audit
from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.accounts.service import create_customer
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.config import Settings
from smmpanel.db import Database
from smmpanel.db.base import utcnow
from smmpanel.money import parse, to_micros
from smmpanel.orders.models import order_polls, orders
from smmpanel.orders.placement import place_order
from smmpanel.providers.client import UpstreamClient, upstream_session
from smmpanel.providers.forwarding import ForwardingTimes, forward_due_orders
from smmpanel.providers.models import providers
from smmpanel.providers.polling import PollingTimes, poll_due_orders
from smmpanel.providers.service import ProviderStats, add_provider, provider_stats

TESTS = Path(__file__).resolve().parents[1]
FAKE_UPSTREAM = TESTS / "fakes" / "upstream.py"
UPSTREAM_KEY = "upstream-test-key"
OPENING = "100"  # each customer's opening balance
RATE = "1.234567"  # per 1000: charges that do not divide evenly

# Polled and retried at once; a pause lasts until the test ends it: each test decides when the
# next round runs.
FAST_FORWARDING = ForwardingTimes(
    first_poll=timedelta(0),
    retry_unreachable=timedelta(0),
    pause_short_of_funds=timedelta(minutes=5),
)
FAST_POLLING = PollingTimes(fastest=timedelta(0), slowest=timedelta(hours=1))
# The worker's own settings, whatever the environment says: batch sizes and the polling pace.
WORKER_SETTINGS = Settings.model_construct()
WORKER_POLLING = PollingTimes.from_settings(WORKER_SETTINGS)


free_port = harness.free_port


def new_link() -> str:
    return f"https://instagram.com/p/{uuid.uuid4().hex[:12]}"


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> object:
    """Poll `condition` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


async def eventually(condition: Callable, timeout: float, what: str) -> object:  # type: ignore[type-arg]
    """`wait_until` for an async condition."""
    deadline = time.monotonic() + timeout
    while True:
        result = await condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)


def pro_rata(charge: int, remains: int, quantity: int) -> int:
    """The refund of a Partial order in millionths: charge × remains / quantity, rounded down."""
    exact = Decimal(charge) * Decimal(remains) / Decimal(quantity)
    return int(exact.to_integral_value(rounding=ROUND_DOWN))


class FakeUpstream:
    """tests/fakes/upstream.py in its own process on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.url}/api/v2"
        self.process = subprocess.Popen(
            [sys.executable, str(FAKE_UPSTREAM), "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_until(self._answers, 15, "the fake upstream to start")

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"fake upstream exited: {self.process.stderr.read().decode()}")
        try:
            httpx.get(f"{self.url}/_state", timeout=1)
        except httpx.HTTPError:
            return False
        return True

    def control(self, **settings: object) -> None:
        httpx.post(f"{self.url}/_control", json=settings, timeout=5).raise_for_status()

    def reset(self) -> None:
        self.control(add="ok", status="ok", refill="ok", cancel="ok", delay=0)

    def state(self) -> dict:
        return httpx.get(f"{self.url}/_state", timeout=5).json()

    def times_sent(self, link: str) -> int:
        return self.state()["sent_links"].get(link, 0)

    def calls(self, action: str) -> int:
        return self.state()["calls"].get(action, 0)

    def set_order(self, upstream_id: str, **change: object) -> None:
        reply = httpx.post(f"{self.url}/_order", json={"id": upstream_id, **change}, timeout=5)
        reply.raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass(frozen=True)
class Placed:
    id: int
    link: str
    quantity: int


@dataclass
class Route:
    """A provider of ours at `api_url`, a service it fulfils, and a customer who orders it."""

    db: Database
    provider_id: int
    service_id: int
    customer_id: int
    opening: int  # the customer's opening balance, millionths

    async def place(self, quantity: int = 1000, link: str | None = None) -> Placed:
        link = link or new_link()
        fields = {"service": str(self.service_id), "link": link, "quantity": str(quantity)}
        async with self.db.write() as conn:
            order_id = await place_order(conn, self.customer_id, fields)
        return Placed(order_id, link, quantity)

    async def place_many(self, count: int, quantity: int = 100) -> list[Placed]:
        placed = []
        async with self.db.write() as conn:
            for _ in range(count):
                link = new_link()
                fields = {"service": str(self.service_id), "link": link, "quantity": str(quantity)}
                placed.append(
                    Placed(await place_order(conn, self.customer_id, fields), link, quantity)
                )
        return placed

    async def order(self, order_id: int):  # type: ignore[no-untyped-def]
        async with self.db.read() as conn:
            return (await conn.execute(select(orders).where(orders.c.id == order_id))).one()

    async def balance(self) -> int:
        async with self.db.read() as conn:
            return await conn.scalar(
                select(customers.c.balance).where(customers.c.id == self.customer_id)
            )

    async def refunds(self, order_id: int) -> list[int]:
        """The refund entries of an order, in millionths."""
        async with self.db.read() as conn:
            return list(
                await conn.scalars(
                    select(ledger_entries.c.amount).where(
                        ledger_entries.c.order_id == order_id, ledger_entries.c.kind == "refund"
                    )
                )
            )

    async def stats(self) -> ProviderStats:
        async with self.db.read() as conn:
            return next(s for s in await provider_stats(conn) if s.id == self.provider_id)

    async def make_due(self, order_id: int) -> None:
        """Bring an order's next action (or next poll) forward to now, as time passing would."""
        a_second_ago = utcnow() - timedelta(seconds=1)
        async with self.db.write() as conn:
            await conn.execute(
                update(orders).where(orders.c.id == order_id).values(next_action_at=a_second_ago)
            )
            await conn.execute(
                update(order_polls)
                .where(order_polls.c.order_id == order_id)
                .values(due_at=a_second_ago)
            )

    async def poll_schedule(self, order_id: int):  # type: ignore[no-untyped-def]
        """When the order is polled next and the seconds between its polls; None if it is
        not polled any more."""
        async with self.db.read() as conn:
            query = select(order_polls).where(order_polls.c.order_id == order_id)
            return (await conn.execute(query)).first()

    async def end_pause(self) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(providers)
                .where(providers.c.id == self.provider_id)
                .values(paused_until=utcnow() - timedelta(seconds=1))
            )

    async def point_at(self, api_url: str) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(providers).where(providers.c.id == self.provider_id).values(api_url=api_url)
            )

    async def disable(self) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(providers).where(providers.c.id == self.provider_id).values(enabled=False)
            )

    async def forward(
        self, client: UpstreamClient, times: ForwardingTimes = FAST_FORWARDING
    ) -> int:
        return await forward_due_orders(self.db, client, WORKER_SETTINGS.forward_batch, times)

    async def poll(self, client: UpstreamClient, times: PollingTimes = FAST_POLLING) -> int:
        return await poll_due_orders(self.db, client, WORKER_SETTINGS.poll_batch, times)

    async def audit(self) -> list[str]:
        async with self.db.read() as conn:
            return await audit(conn)


async def make_route(
    db: Database, api_url: str, *, timeout: int = 1, rate: str = RATE, opening: str = OPENING
) -> Route:
    tag = uuid.uuid4().hex[:8]
    async with db.write() as conn:
        provider_id = await add_provider(
            conn, f"upstream-{tag}", api_url, UPSTREAM_KEY, timeout_seconds=timeout
        )
        service_id = await create_service(
            conn,
            await category_id_for(conn, "Forwarded"),
            name=f"Forwarded {tag}",
            type="Default",
            rate=to_micros(parse(rate)),
            min_quantity=10,
            max_quantity=100_000,
            fulfilment="provider",
            provider_id=provider_id,
            provider_service_id="1",
        )
        customer_id = await create_customer(conn, f"buyer-{tag}", to_micros(parse(opening)))
    return Route(db, provider_id, service_id, customer_id, to_micros(parse(opening)))


async def fresh_database(backend: str, tmp_dir: Path) -> str:
    return await harness.migrated(backend, tmp_dir)


async def discard_database(backend: str, url: str) -> None:
    if backend == "postgresql":
        await harness.drop_postgres_database(url)


@contextlib.asynccontextmanager
async def database_for(backend: str, tmp_dir: Path) -> AsyncIterator[Database]:
    """A new, migrated database of this backend, dropped afterwards."""
    url = await fresh_database(backend, tmp_dir)
    db = Database(url, pool_size=4)
    try:
        yield db
    finally:
        await db.dispose()
        await discard_database(backend, url)


class LoggedProcess:
    """A `python -m smmpanel ...` process on a database, its output kept in a log file; ready
    once `ready()` says so."""

    waiting_for = "the process to start"

    def __init__(self, command: list[str], env: dict, log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()/kill()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "smmpanel", *command],
            env={**os.environ, **env},
            cwd=log_path.parent,
            stdout=self._log,
            stderr=self._log,
        )
        try:
            wait_until(self._ready, 30, self.waiting_for)
        except BaseException:
            self.stop()
            raise

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.waiting_for}: it exited: {self.log()[-3000:]}")
        return self.ready()

    def ready(self) -> bool:
        raise NotImplementedError

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def failures(self) -> list[str]:
        return [
            line
            for line in self.log().splitlines()
            if "Traceback" in line or '"level":"error"' in line
        ]

    def kill(self) -> None:
        """kill -9, as a power cut would."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class WorkerProcess(LoggedProcess):
    """`python -m smmpanel worker` on a database."""

    waiting_for = "the worker to start"

    def __init__(self, database_url: str, log_path: Path, env: dict | None = None) -> None:
        environment = {
            "SMMPANEL_DATABASE_URL": database_url,
            "SMMPANEL_WORKER_TICK_SECONDS": "0.2",
            "SMMPANEL_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        super().__init__(["worker"], environment, log_path)

    def ready(self) -> bool:
        """`worker running` is printed once migrations are checked and the loop starts."""
        return "worker running" in self.log()


class ServingPanel(LoggedProcess):
    """`python -m smmpanel serve` WITH its worker, on loopback."""

    waiting_for = "the panel to start"

    def __init__(self, database_url: str, log_path: Path, env: dict | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.url}/api/v2"
        environment = {
            "SMMPANEL_DATABASE_URL": database_url,
            "SMMPANEL_RUN_WORKER": "true",
            "SMMPANEL_API_RATE_LIMIT": "0",
            "SMMPANEL_LOG_LEVEL": "INFO",
            **(env or {}),
        }
        super().__init__(["serve", "--port", str(self.port)], environment, log_path)

    def ready(self) -> bool:
        try:
            httpx.get(self.url + "/", timeout=1)
        except httpx.HTTPError:
            return False
        return True


def smmpanel_command(database_url: str, cwd: Path, *args: object) -> subprocess.CompletedProcess:
    """Run `python -m smmpanel ARGS` on a database, as the operator would."""
    environment = {**os.environ, "SMMPANEL_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "smmpanel", *map(str, args)],
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="session")
def shared_upstream() -> Iterator[FakeUpstream]:
    upstream = FakeUpstream()
    yield upstream
    upstream.stop()


@pytest.fixture
def upstream_fake(shared_upstream: FakeUpstream) -> FakeUpstream:
    """The session's fake upstream, behaving again for this test."""
    shared_upstream.reset()
    return shared_upstream


@pytest.fixture
def lone_upstream_fake() -> Iterator[FakeUpstream]:
    """A fake upstream of this test alone, with no orders yet."""
    upstream = FakeUpstream()
    yield upstream
    upstream.stop()


@pytest_asyncio.fixture(scope="session")
async def forwarding_db(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    """A database of the forwarding tests alone: nothing else's queued orders get sent."""
    async with database_for(backend, tmp_path_factory.mktemp(f"forwarding-{backend}")) as db:
        yield db


@pytest_asyncio.fixture
async def upstream_client() -> AsyncIterator[UpstreamClient]:
    async with upstream_session() as http:
        yield UpstreamClient(http)


@pytest_asyncio.fixture
async def forwarding_route(
    forwarding_db: Database, upstream_fake: FakeUpstream
) -> AsyncIterator[Route]:
    """A provider (1 s timeout) at the shared fake upstream; disabled after the test, so its
    leftover orders are nobody's work."""
    route = await make_route(forwarding_db, upstream_fake.api_url)
    yield route
    await route.disable()
