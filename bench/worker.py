"""How fast the worker forwards orders upstream and syncs their statuses, beside the upstream's
bare capacity measured in the same run with the same HTTP client.

Run by hand (never by pytest), from the project's root:

    .venv/bin/python bench/worker.py                        # both backends, 10,000 orders
    .venv/bin/python bench/worker.py --backend postgresql --orders 20000
    .venv/bin/python bench/worker.py --profile              # py-spy the worker while measured
    .venv/bin/python bench/worker.py --upstream fake        # tests/fakes/upstream.py instead
    .venv/bin/python bench/worker.py --send-concurrency 8   # what-if: fewer adds in flight

For each backend it:

1. builds a fresh database (SQLite: a file in a temp dir; PostgreSQL: a new database on
   127.0.0.1:5432, dropped at the end) with bench/dataset.py's data set (2,000 services,
   100,000 existing orders), then a provider pointing at the upstream, the `add` service turned
   provider-fulfilled, and N new orders of the benchmark customer (written in bulk with their
   charge in the ledger): Pending, forward_state `queued`, due a minute ago;
2. starts the upstream on loopback: bench/upstream.py (uvloop + httptools + orjson, in memory;
   the default) or tests/fakes/upstream.py (plain asyncio streams + json). Either takes some
   thousands of adds/s (see the `raw` lines): neither is what limits the worker;
3. measures, in this one process, on the worker's own HTTP client
   (smmpanel.worker.context.upstream_http_client, an aiohttp session) and event loop (plain
   asyncio, as `smmpanel worker` runs; --loop uvloop as inside `smmpanel serve`):
   - bare `add`: UpstreamClient.add straight at the upstream, SEND_CONCURRENCY calls in flight,
     no database, for --bare-seconds;
   - forwarding: forward_due_orders(db, client, batch, times) in a loop, as the worker calls
     it while it finds work, until nothing is left: orders forwarded/s;
   - then the upstream is told to report a mix for those orders (85 % unchanged, 8 % In
     progress with a new start_count and remains, 5 % Completed, 2 % Partial), and every order
     is made due again;
   - bare multi-status: UpstreamClient.statuses with 100 ids a call, CALL_CONCURRENCY calls in
     flight, no database: statuses/s = calls/s × 100;
   - status sync: poll_due_orders(db, client, limit, times) in a loop until none is due: statuses
     synced/s, local writes (status changes, refunds, rescheduling) included;
   each bare figure is measured just before and just after its phase, and their mean is the
   baseline of the ratio. Beside them, the same calls on a minimal asyncio-streams client
   (`raw`): what the upstream itself takes, apart from what the HTTP client costs;
4. checks the result: every order sent upstream exactly once (the upstream's count per link)
   and `sent` with a distinct upstream id; after the sync, the local statuses match the mix,
   nothing is left due, one refund per Partial order; and the panel's audit of the books;
5. prints a table (rate, baseline, ratio, CPU per item of the worker / the upstream / the
   PostgreSQL backends, the worker's 1-core cap, target, PASS/MISS) and where each phase spent
   its wall time (DB claim, HTTP, DB writes with their main parts and call counts, commits),
   and writes it as JSON to bench/results/worker-<backend>.json.

The targets (PostgreSQL, this 2-core machine, issue 12): at least 1,000 orders forwarded and
10,000 statuses synced per second, with 1,000,000 existing orders (--existing-orders 1000000).
SQLite's figures are reported beside them, without a target. The machine is shared and
wall-clock rates swing by ±30 % from run to run: read the CPU per item and the 1-core cap (1 s
over the worker's CPU per item: the worker is one process, so it cannot beat that even with a
core to itself) first. The load average at the start and end of each backend is printed.
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import aiohttp
import api
import asyncpg
import dataset
import loadgen
import orjson
import profile_summary
from sqlalchemy import func, select, text, update

from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.catalog.models import FULFIL_PROVIDER, services
from smmpanel.config import Settings
from smmpanel.db import Database, utcnow
from smmpanel.db.migrate import upgrade
from smmpanel.money import charge_micros
from smmpanel.orders import statuses
from smmpanel.orders.models import order_polls, orders
from smmpanel.panel.models import panel_settings
from smmpanel.providers import forwarding, polling
from smmpanel.providers.client import Endpoint, UpstreamClient
from smmpanel.providers.models import providers
from smmpanel.providers.service import add_provider
from smmpanel.worker.context import upstream_http_client

BENCH_DIR = api.BENCH_DIR
RESULTS_DIR = api.RESULTS_DIR
PROJECT_DIR = BENCH_DIR.parent
PY_SPY = api.PY_SPY
UPSTREAM_KEY = "upstream-test-key"
UPSTREAMS = {
    "fast": BENCH_DIR / "upstream.py",
    "fake": PROJECT_DIR / "tests" / "fakes" / "upstream.py",
}
UPSTREAM_SERVICE = "1"  # the upstream's service id our service maps to
QUANTITY = 1000
LINK = "https://instagram.com/p/worker-bench-"
BARE_LINK = "https://instagram.com/p/bare-"
IDS_PER_CALL = getattr(polling, "IDS_PER_CALL", 100)
SEND_CONCURRENCY = getattr(forwarding, "SEND_CONCURRENCY", 32)
CALL_CONCURRENCY = getattr(polling, "CALL_CONCURRENCY", 8)
# What the upstream reports at the sync, as shares of the orders; the rest: unchanged.
MIX = {statuses.IN_PROGRESS: 0.08, statuses.COMPLETED: 0.05, statuses.PARTIAL: 0.02}
TARGETS = {"forwarding": 1_000.0, "status sync": 10_000.0}  # PostgreSQL, per second
# Where forward_due_orders and poll_due_orders spend their time: the module functions they
# call, wrapped for the run (by name: a stage the code no longer has is simply not timed).
STAGES = {
    "forwarding": (
        forwarding,
        (
            ("claim_orders", "DB claim", None),
            ("send_all", "HTTP", None),
            ("record_outcomes", "DB record", None),
            ("_upstream_ids_taken", "ids-taken query", "DB record"),
            ("_mark_sent", "sent, in bulk", "DB record"),
            ("_record_failure", "failures one by one", "DB record"),
            ("record_outcome", "provider counters", "DB record"),
        ),
    ),
    "status sync": (
        polling,
        (
            ("claim_polls", "DB claim", None),
            ("read_statuses", "HTTP", None),
            ("apply_readings", "DB apply", None),
            ("apply_progress", "changes in bulk", "DB apply"),
            ("settle_finished", "refunds in bulk", "DB apply"),
            ("update_order", "update_order", "DB apply"),
            ("record_outcome", "provider counters", "DB apply"),
        ),
    ),
}
OTHER = "other (pool, BEGIN, COMMIT)"
CLIENT = "aiohttp"  # the worker's HTTP client, as the bare lines name it
CONTROL_TIMEOUT = aiohttp.ClientTimeout(total=120)  # the upstream's control requests


def setting_default(name: str) -> int:
    """The worker's default (not whatever .env says)."""
    return Settings.model_fields[name].default


# --- the data ----------------------------------------------------------------------------


@dataclass
class Prepared:
    provider_id: int
    service_id: int
    order_ids: list[int]
    links: list[str]


async def prepare(url: str, data: dataset.DataSet, upstream_api: str, count: int) -> Prepared:
    """The provider, the provider-fulfilled service, and `count` queued orders, charged."""
    db = Database(url, pool_size=1)
    try:
        async with db.write() as conn:
            provider_id = await add_provider(conn, "bench upstream", upstream_api, UPSTREAM_KEY)
            # Its currency known, as once its balance is read: each order's cost is recorded.
            await conn.execute(
                update(providers)
                .where(providers.c.id == provider_id)
                .values(balance_currency=select(panel_settings.c.currency).scalar_subquery())
            )
            service_id = data.add_service
            rate = await conn.scalar(select(services.c.rate).where(services.c.id == service_id))
            await conn.execute(
                update(services)
                .where(services.c.id == service_id)
                .values(
                    fulfilment=FULFIL_PROVIDER,
                    provider_id=provider_id,
                    provider_service_id=UPSTREAM_SERVICE,
                    upstream_rate=rate // 2,
                )
            )
            first_id = (await conn.scalar(select(func.max(orders.c.id)))) + 1
            order_rows, ledger_rows = _queued_orders(
                first_id, count, data.customer_id, service_id, provider_id, rate
            )
            await dataset._bulk_insert(conn, orders, order_rows)
            await dataset._bulk_insert(conn, ledger_entries, ledger_rows)
            balance = await conn.scalar(
                select(customers.c.balance).where(customers.c.id == data.customer_id)
            )
            charged = sum(row["amount"] for row in ledger_rows)
            await dataset._set_balances(conn, {data.customer_id: balance + charged})
            if conn.dialect.name == "postgresql":
                await dataset._advance_sequences(conn)
        await dataset._fold_order_counts(db)
        async with db.read() as conn:
            await conn.execute(text("ANALYZE"))
        return Prepared(
            provider_id,
            service_id,
            [row["id"] for row in order_rows],
            [row["link"] for row in order_rows],
        )
    finally:
        await db.dispose()


def _queued_orders(
    first_id: int, count: int, customer_id: int, service_id: int, provider_id: int, rate: int
) -> tuple[list[dict], list[dict]]:
    """Orders as the panel places them for a provider, due a minute ago. `remains` is the
    quantity, as after a first poll of a Pending order, so that "unchanged" is unchanged."""
    now = utcnow()
    created = now - timedelta(minutes=2)
    charge = charge_micros(rate, QUANTITY)
    order_rows, ledger_rows = [], []
    for order_id in range(first_id, first_id + count):
        link = f"{LINK}{order_id}"
        order_rows.append(
            {
                "id": order_id,
                "customer_id": customer_id,
                "service_id": service_id,
                "type": "Default",
                "status": statuses.PENDING,
                "link": link,
                "active_link": link,
                "quantity": QUANTITY,
                "charge": charge,
                "start_count": 0,
                "remains": QUANTITY,
                "provider_id": provider_id,
                "forward_state": statuses.FORWARD_QUEUED,
                "next_action_at": now - timedelta(minutes=1),
                "created_at": created,
                "updated_at": created,
            }
        )
        ledger_rows.append(
            dataset._entry(customer_id, -charge, "charge", created, order_id, "charge")
        )
    return order_rows, ledger_rows


# --- measuring ---------------------------------------------------------------------------


class CpuMeter:
    """CPU seconds so far of the worker (this process, its threads included: aiosqlite's),
    the upstream, and PostgreSQL's backends serving the benchmark's database."""

    def __init__(self, upstream_pid: int, admin: asyncpg.Connection | None, dbname: str | None):
        self.upstream_pid = upstream_pid
        self.admin = admin
        self.dbname = dbname

    async def snapshot(self) -> dict:
        backends: dict[int, float] = {}
        if self.admin is not None:
            query = "SELECT pid FROM pg_stat_activity WHERE datname = $1"
            for record in await self.admin.fetch(query, self.dbname):
                backends[record["pid"]] = loadgen.cpu_seconds(record["pid"]) or 0.0
        return {
            "worker": loadgen.cpu_seconds(os.getpid()),
            "upstream": loadgen.cpu_seconds(self.upstream_pid),
            "backends": backends,
        }

    @staticmethod
    def spent(before: dict, after: dict) -> dict[str, float | None]:
        def delta(name: str) -> float | None:
            if before[name] is None or after[name] is None:
                return None
            return round(after[name] - before[name], 3)

        database = None
        if after["backends"] or before["backends"]:
            database = round(
                sum(
                    cpu - before["backends"].get(pid, 0.0) for pid, cpu in after["backends"].items()
                ),
                3,
            )
        return {"worker": delta("worker"), "upstream": delta("upstream"), "database": database}


@dataclass
class Bare:
    """The upstream's capacity with this client and no database."""

    action: str
    calls: int
    seconds: float
    per_call: int  # statuses per call (1 for add)
    cpu: dict
    client: str = CLIENT  # or "raw": RawClient
    concurrency: int = 1

    def cpu_us(self, who: str) -> float | None:
        spent = self.cpu.get(who)
        return None if spent is None or not self.calls else spent / self.calls * 1e6

    @property
    def calls_per_second(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    @property
    def rate(self) -> float:
        return self.calls_per_second * self.per_call

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "calls_per_second": round(self.calls_per_second, 1),
            "rate": round(self.rate, 1),
        }


@dataclass
class Phase:
    """The worker's own code over the database and the upstream."""

    name: str
    count: int  # orders forwarded, or statuses synced
    seconds: float
    runs: int  # calls of the job; a status-sync run claims several batches
    batch: int
    stages: "Stages"
    cpu: dict
    bare: list[Bare] = field(default_factory=list)  # before and after
    raw: Bare | None = None  # the upstream on RawClient
    target: float | None = None
    profile: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def bare_rate(self) -> float:
        return sum(b.rate for b in self.bare) / len(self.bare) if self.bare else 0.0

    @property
    def ratio(self) -> float:
        return self.rate / self.bare_rate if self.bare_rate else 0.0

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "-"
        return "PASS" if self.rate >= self.target else "MISS"

    def cpu_us(self, who: str) -> float | None:
        spent = self.cpu.get(who)
        return None if spent is None or not self.count else spent / self.count * 1e6

    @property
    def ceiling(self) -> float | None:
        """Items/s if the worker had a core to itself: it is one process, on one core at a
        time, so 1 s over its CPU per item bounds it whatever the machine's load."""
        used = self.cpu_us("worker")
        return 1e6 / used if used else None

    def as_dict(self) -> dict:
        return {
            "phase": self.name,
            "count": self.count,
            "seconds": round(self.seconds, 3),
            "rate": round(self.rate, 1),
            "runs": self.runs,
            "claims": self.stages.calls.get("DB claim", 0),
            "batch": self.batch,
            "stages_seconds": {k: round(v, 3) for k, v in self.stages.seconds.items()},
            "stage_calls": self.stages.calls,
            "stage_parents": {k: v for k, v in self.stages.parent.items() if v},
            "cpu_seconds": self.cpu,
            "cpu_us_per_item": {
                who: None if self.cpu_us(who) is None else round(self.cpu_us(who), 1)
                for who in ("worker", "upstream", "database")
            },
            "bare": [b.as_dict() for b in self.bare],
            "raw": self.raw.as_dict() if self.raw else None,
            "bare_rate": round(self.bare_rate, 1),
            "ratio": round(self.ratio, 3),
            "worker_cpu_ceiling": None if self.ceiling is None else round(self.ceiling, 1),
            "target": self.target,
            "verdict": self.verdict,
            "profiles": self.profile,
        }


@dataclass
class Stages:
    """Wall time and calls of each stage of a phase; a sub-stage is part of its parent's."""

    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    parent: dict[str, str | None] = field(default_factory=dict)

    def top_level(self) -> float:
        return sum(v for k, v in self.seconds.items() if self.parent.get(k) is None)

    def describe(self) -> str:
        parts = []
        for label, spent in self.seconds.items():
            if self.parent.get(label) is not None:
                continue
            subs = [
                f"{sub} {self.seconds[sub]:.2f} s ×{self.calls[sub]:,}"
                for sub, parent in self.parent.items()
                if parent == label
            ]
            parts.append(f"{label} {spent:.2f} s" + (f" [{'; '.join(subs)}]" if subs else ""))
        return ", ".join(parts)


@contextlib.contextmanager
def timed_stages(phase: str) -> Iterator[Stages]:
    """Wall time spent in each stage of a phase, by wrapping the module's functions (looked
    up by name at call time: a stage the code no longer has is simply not timed)."""
    module, names = STAGES[phase]
    stages = Stages()
    originals = {}
    for name, label, parent in names:
        original = getattr(module, name, None)
        if original is None:
            continue
        originals[name] = original
        stages.seconds[label], stages.calls[label], stages.parent[label] = 0.0, 0, parent

        def wrapper(*args, _original=original, _label=label, **kwargs):  # type: ignore[no-untyped-def]
            async def timed():  # type: ignore[no-untyped-def]
                started = time.perf_counter()
                try:
                    return await _original(*args, **kwargs)
                finally:
                    stages.seconds[_label] += time.perf_counter() - started
                    stages.calls[_label] += 1

            return timed()

        setattr(module, name, wrapper)
    try:
        yield stages
    finally:
        for name, original in originals.items():
            setattr(module, name, original)


@contextlib.contextmanager
def profiling(enabled: bool, backend: str, phase: str, pids: dict[str, int]) -> Iterator[list[str]]:
    """With --profile: py-spy samples the worker (and the upstream) for the whole phase."""
    written: list[str] = []
    if not enabled:
        yield written
        return
    RESULTS_DIR.mkdir(exist_ok=True)
    spies = []
    for who, pid in pids.items():
        output = RESULTS_DIR / f"profile-worker-{backend}-{phase.replace(' ', '-')}-{who}.txt"
        command = [str(PY_SPY), "record", "--format", "raw", "--nonblocking", "--rate", "200"]
        command += ["--threads", "--output", str(output), "--pid", str(pid)]
        spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        spies.append(spy)
        written.append(str(output.relative_to(PROJECT_DIR)))
    time.sleep(1.0)  # let py-spy attach before the phase starts
    try:
        yield written
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
        for spy in spies:
            try:
                spy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait()


class RawClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams, one request at a time per
    connection: the same form bodies as UpstreamClient, the reply parsed with orjson. It shows
    what the upstream itself can take, apart from what the HTTP client costs."""

    HEAD = (
        b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n"
    )

    def __init__(self, endpoint: Endpoint) -> None:
        url = urlsplit(endpoint.api_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.path = (url.path or "/").encode()
        self.key = endpoint.api_key
        self.streams: asyncio.Queue = asyncio.Queue()

    async def call(self, action: str, **fields: object) -> object:
        try:
            reader, writer = self.streams.get_nowait()
        except asyncio.QueueEmpty:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        form = {"key": self.key, "action": action}
        form.update({name: str(value) for name, value in fields.items() if value is not None})
        body = urlencode(form).encode()
        writer.write(self.HEAD % (self.path, len(body)) + body)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
        reply = orjson.loads(await reader.readexactly(length))
        self.streams.put_nowait((reader, writer))
        return reply

    async def close(self) -> None:
        while not self.streams.empty():
            _, writer = self.streams.get_nowait()
            writer.close()


async def drive(
    action: str,
    call: Callable[[], Awaitable[int]],
    concurrency: int,
    seconds: float,
    cpu: CpuMeter,
    client: str,
) -> Bare:
    """`concurrency` callers, each calling again as soon as answered, for `seconds`."""
    calls = items = 0

    async def caller(deadline: float) -> None:
        nonlocal calls, items
        while time.perf_counter() < deadline:
            got = await call()  # not `items += await ...`: that reads `items` first
            items += got
            calls += 1

    before = await cpu.snapshot()
    started = time.perf_counter()
    await asyncio.gather(*(caller(started + seconds) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    per_call = round(items / calls) if calls else 0
    spent = CpuMeter.spent(before, await cpu.snapshot())
    return Bare(action, calls, elapsed, per_call, spent, client, concurrency)


def _add_fields(numbers: Iterator[int], tag: str) -> dict:
    return {
        "service": UPSTREAM_SERVICE,
        "link": f"{BARE_LINK}{tag}-{next(numbers)}",
        "quantity": QUANTITY,
    }


def _chunks(upstream_ids: list[str]) -> Iterator[list[str]]:
    chunks = [upstream_ids[i : i + IDS_PER_CALL] for i in range(0, len(upstream_ids), IDS_PER_CALL)]
    return itertools.cycle([chunk for chunk in chunks if len(chunk) == IDS_PER_CALL] or chunks)


def _all_answered(reply: object, chunk: list[str]) -> int:
    if not isinstance(reply, dict) or len(reply) != len(chunk):
        raise RuntimeError(f"the upstream did not answer the {len(chunk)} ids: {str(reply)[:200]}")
    return len(chunk)


async def bare_adds(
    client: UpstreamClient, endpoint: Endpoint, seconds: float, cpu: CpuMeter
) -> Bare:
    """UpstreamClient.add, as forwarding calls it, without the database."""
    numbers, tag = itertools.count(), f"{CLIENT}-{time.monotonic_ns()}"

    async def call() -> int:
        await client.add(endpoint, _add_fields(numbers, tag))
        return 1

    return await drive("add", call, SEND_CONCURRENCY, seconds, cpu, CLIENT)


async def bare_statuses(
    client: UpstreamClient,
    endpoint: Endpoint,
    upstream_ids: list[str],
    seconds: float,
    cpu: CpuMeter,
) -> Bare:
    """UpstreamClient.statuses, 100 ids a call as polling calls it, without the database."""
    chunks = _chunks(upstream_ids)

    async def call() -> int:
        chunk = next(chunks)
        return _all_answered(await client.statuses(endpoint, chunk), chunk)

    return await drive("multi-status", call, CALL_CONCURRENCY, seconds, cpu, CLIENT)


async def raw_capacity(
    endpoint: Endpoint, upstream_ids: list[str] | None, seconds: float, cpu: CpuMeter
) -> Bare:
    """The same calls on RawClient: the upstream's own capacity, the HTTP client aside."""
    raw = RawClient(endpoint)
    try:
        if upstream_ids is None:
            numbers, tag = itertools.count(), f"raw-{time.monotonic_ns()}"

            async def add() -> int:
                reply = await raw.call("add", **_add_fields(numbers, tag))
                if not isinstance(reply, dict) or "order" not in reply:
                    raise RuntimeError(f"add failed: {str(reply)[:200]}")
                return 1

            return await drive("add", add, SEND_CONCURRENCY, seconds, cpu, "raw")
        chunks = _chunks(upstream_ids)

        async def status() -> int:
            chunk = next(chunks)
            return _all_answered(await raw.call("status", orders=",".join(chunk)), chunk)

        return await drive("multi-status", status, CALL_CONCURRENCY, seconds, cpu, "raw")
    finally:
        await raw.close()


async def run_until_done(
    name: str,
    step: Callable[[], Awaitable[int]],
    batch: int,
    cpu: CpuMeter,
    profile: Callable[[], contextlib.AbstractContextManager[list[str]]],
) -> Phase:
    """Call a worker job again at once while it finds work, as the worker loop does."""
    with profile() as profiles, timed_stages(name) as stages:
        before = await cpu.snapshot()
        started = time.perf_counter()
        done = runs = 0
        while found := await step():
            done += found
            runs += 1
        elapsed = time.perf_counter() - started
        spent = CpuMeter.spent(before, await cpu.snapshot())
    stages.seconds[OTHER] = max(0.0, elapsed - stages.top_level())
    stages.calls[OTHER], stages.parent[OTHER] = runs + 1, None
    return Phase(name, done, elapsed, runs, batch, stages, spent, profile=profiles)


# --- the upstream's side -----------------------------------------------------------------


async def control(
    http: aiohttp.ClientSession, method: str, url: str, body: object = None
) -> object:
    """One of the upstream's control requests (JSON both ways)."""
    async with http.request(method, url, json=body, timeout=CONTROL_TIMEOUT) as reply:
        reply.raise_for_status()
        return orjson.loads(await reply.read())


async def upstream_state(http: aiohttp.ClientSession, base: str) -> dict:
    return await control(http, "GET", f"{base}/_state")  # type: ignore[return-value]


async def set_mix(http, base: str, kind: str, upstream_ids: list[str], seed: int) -> Counter:  # type: ignore[no-untyped-def]
    """Tell the upstream what to report; the local statuses expected after the sync."""
    rng = random.Random(seed)
    chosen = rng.sample(upstream_ids, len(upstream_ids))
    changes, expected = [], Counter()
    start = 0
    for status, share in MIX.items():
        picked = chosen[start : start + round(share * len(upstream_ids))]
        start += len(picked)
        for upstream_id in picked:
            remains = 0 if status == statuses.COMPLETED else rng.randint(1, QUANTITY - 1)
            changes.append(
                {
                    "id": int(upstream_id),
                    "status": status,
                    "start_count": rng.randint(100, 50_000),
                    "remains": remains,
                }
            )
        expected[status] = len(picked)
    expected[statuses.PENDING] = len(upstream_ids) - start
    if kind == "fast":
        for i in range(0, len(changes), 5_000):
            await control(http, "POST", f"{base}/_orders", changes[i : i + 5_000])
    else:  # the fake changes one order a request
        limit = asyncio.Semaphore(16)

        async def change(one: dict) -> None:
            async with limit:
                await control(http, "POST", f"{base}/_order", one)

        await asyncio.gather(*(change(one) for one in changes))
    return expected


# --- one backend -------------------------------------------------------------------------


@dataclass
class Checks:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def expect(self, ok: bool, problem: str, note: str) -> None:
        (self.notes if ok else self.problems).append(note if ok else problem)


async def measure(
    backend: str, url: str, prepared: Prepared, upstream: subprocess.Popen, base: str, args
) -> tuple[list[Phase], Checks, dict]:  # type: ignore[no-untyped-def]
    db = Database(url, setting_default("db_pool_size"))
    admin = await asyncpg.connect(api.POSTGRES_ADMIN_URL) if backend == "postgresql" else None
    cpu = CpuMeter(upstream.pid, admin, url.rsplit("/", 1)[1] if admin else None)
    pids = {"worker": os.getpid(), "upstream": upstream.pid}
    checks = Checks()
    try:
        async with upstream_http_client() as http:
            client = UpstreamClient(http)
            endpoint = Endpoint(prepared.provider_id, f"{base}/api/v2", UPSTREAM_KEY, 30)
            await bare_adds(client, endpoint, min(1.0, args.bare_seconds), cpu)  # warm-up
            times = forwarding.ForwardingTimes.from_settings(Settings.model_construct())

            # (1) forwarding
            add_before = await bare_adds(client, endpoint, args.bare_seconds, cpu)
            phase_forward = await run_until_done(
                "forwarding",
                lambda: forwarding.forward_due_orders(db, client, args.forward_batch, times),
                args.forward_batch,
                cpu,
                lambda: profiling(args.profile, backend, "forwarding", pids),
            )
            add_after = await bare_adds(client, endpoint, args.bare_seconds, cpu)
            phase_forward.bare = [add_before, add_after]
            phase_forward.raw = await raw_capacity(endpoint, None, args.bare_seconds, cpu)
            if backend == "postgresql":
                phase_forward.target = TARGETS["forwarding"]

            sent = await _check_forwarded(db, http, base, prepared, checks)

            # (2) status sync: the upstream reports a mix; every order is due again.
            expected = await set_mix(http, base, args.upstream, sent, args.seed)
            async with db.write() as conn:
                await conn.execute(
                    update(order_polls).values(due_at=utcnow() - timedelta(seconds=1))
                )
            status_before = await bare_statuses(client, endpoint, sent, args.bare_seconds, cpu)
            poll_times = polling.PollingTimes.from_settings(Settings.model_construct())
            phase_sync = await run_until_done(
                "status sync",
                lambda: polling.poll_due_orders(db, client, args.poll_batch, poll_times),
                args.poll_batch,
                cpu,
                lambda: profiling(args.profile, backend, "status sync", pids),
            )
            status_after = await bare_statuses(client, endpoint, sent, args.bare_seconds, cpu)
            phase_sync.bare = [status_before, status_after]
            phase_sync.raw = await raw_capacity(endpoint, sent, args.bare_seconds, cpu)
            if backend == "postgresql":
                phase_sync.target = TARGETS["status sync"]
            await _check_synced(db, prepared, expected, phase_sync, checks)
            calls = (await upstream_state(http, base)).get("calls", {})
    finally:
        await db.dispose()
        if admin is not None:
            await admin.close()
    return [phase_forward, phase_sync], checks, {"mix_expected": dict(expected), "calls": calls}


async def _check_forwarded(
    db: Database, http, base: str, prepared: Prepared, checks: Checks
) -> list[str]:  # type: ignore[no-untyped-def]
    """Every order sent exactly once; the upstream ids, in order id order."""
    n = len(prepared.order_ids)
    sent_links = (await upstream_state(http, base))["sent_links"]
    counts = Counter(sent_links.get(link, 0) for link in prepared.links)
    ours = set(prepared.links)
    strays = [link for link in sent_links if link.startswith(LINK) and link not in ours]
    checks.expect(
        counts == Counter({1: n}) and not strays,
        f"upstream's count per link: {dict(counts)} (times sent: orders), "
        f"{len(strays)} unknown links",
        f"every one of the {n:,} orders reached the upstream exactly once",
    )
    async with db.read() as conn:
        rows = (
            await conn.execute(
                select(orders.c.forward_state, orders.c.upstream_order_id)
                .where(orders.c.id.in_(prepared.order_ids))
                .order_by(orders.c.id)
            )
        ).all()
    states = Counter(row.forward_state for row in rows)
    ids = [row.upstream_order_id for row in rows if row.upstream_order_id]
    checks.expect(
        states == Counter({statuses.FORWARD_SENT: n}) and len(set(ids)) == n,
        f"forward states after forwarding: {dict(states)}; {len(set(ids))} distinct upstream ids",
        f"all {n:,} orders `sent` with distinct upstream ids",
    )
    return ids


async def _check_synced(
    db: Database, prepared: Prepared, expected: Counter, phase: Phase, checks: Checks
) -> None:
    n = len(prepared.order_ids)
    checks.expect(
        phase.count == n,
        f"{phase.count:,} statuses synced, {n:,} orders due",
        f"each of the {n:,} due orders polled once",
    )
    now = utcnow()
    async with db.read() as conn:
        ours = orders.c.provider_id == prepared.provider_id
        local = Counter(
            dict(
                (
                    await conn.execute(
                        select(orders.c.status, func.count()).where(ours).group_by(orders.c.status)
                    )
                ).all()
            )
        )
        due = await conn.scalar(
            select(func.count())
            .select_from(order_polls.join(orders, orders.c.id == order_polls.c.order_id))
            .where(
                ours,
                order_polls.c.due_at <= now,
                orders.c.status.not_in(statuses.ALL_FINISHED),
            )
        )
        refunds = await conn.scalar(
            select(func.count())
            .select_from(ledger_entries)
            .where(
                ledger_entries.c.order_id.in_(prepared.order_ids), ledger_entries.c.kind == "refund"
            )
        )
    checks.expect(
        local == expected,
        f"local statuses {dict(local)}, the upstream reported {dict(expected)}",
        "local statuses match the upstream's: "
        + ", ".join(f"{v:,} {k}" for k, v in sorted(expected.items())),
    )
    checks.expect(due == 0, f"{due} orders still due", "no order left due")
    checks.expect(
        refunds == expected[statuses.PARTIAL],
        f"{refunds} refunds for {expected[statuses.PARTIAL]} Partial orders",
        f"{refunds:,} refunds, one per Partial order",
    )


def bench_backend(backend: str, args: argparse.Namespace) -> dict:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="smmpanel-worker-bench-") as tmp:
        tmp_dir = Path(tmp)
        url = api.create_database(backend, tmp_dir)
        try:
            upgrade(url)
            started = time.monotonic()
            size = dataset.Size(orders=args.existing_orders)
            data = asyncio.run(dataset.build(url, size))
            port = api.free_port()
            base = f"http://127.0.0.1:{port}"
            prepared = asyncio.run(prepare(url, data, f"{base}/api/v2", args.orders))
            print(
                f"{backend}: data set and {args.orders:,} queued orders built in "
                f"{time.monotonic() - started:.1f} s"
            )
            command = [sys.executable, str(UPSTREAMS[args.upstream]), "--port", str(port)]
            with api.running("upstream", command, port, tmp_dir, {}) as upstream:
                runner = asyncio.run
                if args.loop == "uvloop":
                    import uvloop

                    runner = uvloop.run
                phases, checks, extra = runner(
                    measure(backend, url, prepared, upstream, base, args)
                )
            problems = asyncio.run(dataset.check_books(url))
        finally:
            api.drop_database(backend, url)
    checks.expect(not problems, f"audit: {problems[:5]}", "the audit of the books is clean")
    load = (load_before, os.getloadavg())
    return report(backend, data, phases, checks, extra, load, args)


# --- reporting ---------------------------------------------------------------------------

COLUMNS = (
    ("phase", 12, "<"),
    ("done", 7, ">"),
    ("seconds", 7, ">"),
    ("worker /s", 9, ">"),
    ("bare /s (before/after)", 24, ">"),
    ("ratio", 5, ">"),
    ("CPU µs/item wkr/up/db", 22, ">"),
    ("1-core cap /s", 13, ">"),
    ("target", 18, "<"),
    ("verdict", 0, "<"),
)


def _row(values: tuple) -> str:
    return "  ".join(
        f"{v:{align}{width}}" for v, (_, width, align) in zip(values, COLUMNS, strict=True)
    )


def _us(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def _table_row(phase: Phase) -> tuple:
    bare = "/".join(f"{b.rate:,.0f}" for b in phase.bare)
    unit = "orders/s" if phase.name == "forwarding" else "statuses/s"
    target = f"≥{phase.target:,.0f} {unit}" if phase.target else "(none: PG only)"
    return (
        phase.name,
        f"{phase.count:,}",
        f"{phase.seconds:.2f}",
        f"{phase.rate:,.0f}",
        f"{phase.bare_rate:,.0f} ({bare})",
        f"{phase.ratio:.2f}",
        "/".join(_us(phase.cpu_us(who)) for who in ("worker", "upstream", "database")),
        "-" if phase.ceiling is None else f"{phase.ceiling:,.0f}",
        target,
        phase.verdict,
    )


def report(
    backend: str,
    data: dataset.DataSet,
    phases: list[Phase],
    checks: Checks,
    extra: dict,
    load: tuple,
    args: argparse.Namespace,
) -> dict:
    upstream = "bench/upstream.py" if args.upstream == "fast" else "tests/fakes/upstream.py"
    print()
    print(
        f"== {backend}: {args.orders:,} orders beside {data.size.orders:,} existing; upstream "
        f"{upstream} on loopback; forward batch {args.forward_batch}, poll batch "
        f"{args.poll_batch}; loop {args.loop}; bare {args.bare_seconds:g} s × 2; {CLIENT} "
        f"{aiohttp.__version__} =="
    )
    print(_row(tuple(name for name, _, _ in COLUMNS)))
    for phase in phases:
        print(_row(_table_row(phase)))
    for phase in phases:
        print(
            f"{phase.name}: {phase.runs} runs, {phase.stages.calls.get('DB claim', 0)} claims "
            f"of ≤{phase.batch}; wall time, summed over batches in flight together: "
            f"{phase.stages.describe()}"
        )
        for bare in [*phase.bare, *([phase.raw] if phase.raw else [])]:
            what = "add" if bare.action == "add" else f"{bare.per_call}-id multi-status"
            print(
                f"  bare {bare.client:5} ({bare.concurrency} in flight): "
                f"{bare.calls_per_second:,.0f} {what} calls/s; CPU µs/call: client "
                f"{_us(bare.cpu_us('worker'))}, upstream {_us(bare.cpu_us('upstream'))}"
            )
    for note in checks.notes:
        print(f"check: {note}")
    for problem in checks.problems:
        print(f"CHECK FAILED: {problem}")
    for line in args.what_if:
        print(line)
    print(
        "1-core cap: 1 s over the worker's CPU per item: its rate with a core to itself "
        "(the worker is one process)"
    )
    print(
        f"code measured: {api._code_version()}; CPU µs/item: worker process (threads included)"
        " / upstream process / PostgreSQL backends of the database, from /proc"
    )
    print(
        f"load average (1/5/15 min): {_load(load[0])} at start, {_load(load[1])} at end; "
        f"{os.cpu_count()} CPUs"
    )
    return {
        "backend": backend,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": api._code_version(),
        "settings": {
            "orders": args.orders,
            "existing_orders": data.size.orders,
            "upstream": upstream,
            "forward_batch": args.forward_batch,
            "poll_batch": args.poll_batch,
            "send_concurrency": SEND_CONCURRENCY,
            "call_concurrency": CALL_CONCURRENCY,
            "ids_per_call": IDS_PER_CALL,
            "bare_seconds": args.bare_seconds,
            "loop": args.loop,
            "mix": {k: v for k, v in MIX.items()},
            "profiled": args.profile,
            "what_if": args.what_if,
            "http_client": f"{CLIENT} {aiohttp.__version__}",
        },
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_start_end": load,
        },
        "results": [phase.as_dict() for phase in phases],
        "checks": {"passed": checks.notes, "failed": checks.problems},
        "upstream_calls": extra["calls"],
        "mix_expected": extra["mix_expected"],
    }


def _load(values: tuple) -> str:
    return "/".join(f"{v:.1f}" for v in values)


def print_profiles(report_: dict, top: int) -> None:
    for result in report_["results"]:
        for path in result["profiles"]:
            file = PROJECT_DIR / path
            if not file.exists() or not file.stat().st_size:
                print(f"(no profile in {path})")
                continue
            print(f"\n-- profile {path}")
            profile_summary.summarise(profile_summary.read_stacks(file), top)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Worker speed, beside the upstream's bare capacity."
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--orders", type=int, default=10_000, help="queued orders to forward")
    parser.add_argument(
        "--existing-orders", type=int, default=dataset.Size().orders, help="the data set's orders"
    )
    parser.add_argument("--forward-batch", type=int, default=setting_default("forward_batch"))
    parser.add_argument("--poll-batch", type=int, default=setting_default("poll_batch"))
    parser.add_argument("--bare-seconds", type=float, default=5.0, help="each bare run")
    parser.add_argument("--upstream", choices=tuple(UPSTREAMS), default="fast")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--send-concurrency",
        type=int,
        default=SEND_CONCURRENCY,
        help="what-if: override forwarding.SEND_CONCURRENCY (adds in flight) for the run",
    )
    parser.add_argument(
        "--call-concurrency",
        type=int,
        default=CALL_CONCURRENCY,
        help="what-if: override polling.CALL_CONCURRENCY (status calls in flight) for the run",
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the worker and the upstream per phase"
    )
    parser.add_argument("--profile-top", type=int, default=25)
    args = parser.parse_args()
    if args.orders < IDS_PER_CALL:
        parser.error(f"--orders must be at least {IDS_PER_CALL}")
    if args.profile and not PY_SPY.exists():
        parser.error(f"--profile needs py-spy: {Path(sys.executable).parent}/pip install py-spy")
    return args


def override_concurrency(args: argparse.Namespace) -> list[str]:
    """--send-concurrency / --call-concurrency: the worker's and the bare runs' alike."""
    global SEND_CONCURRENCY, CALL_CONCURRENCY
    changed = []
    for module, name, value in (
        (forwarding, "SEND_CONCURRENCY", args.send_concurrency),
        (polling, "CALL_CONCURRENCY", args.call_concurrency),
    ):
        if getattr(module, name, None) != value:
            changed.append(f"WHAT-IF: {module.__name__}.{name} = {value} for this run")
            setattr(module, name, value)
    SEND_CONCURRENCY, CALL_CONCURRENCY = args.send_concurrency, args.call_concurrency
    return changed


def main() -> None:
    args = parse_args()
    args.what_if = override_concurrency(args)
    for line in args.what_if:
        print(line)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    failed = False
    for backend in backends:
        result = bench_backend(backend, args)
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"worker-{backend}.json"
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print(f"results: {path.relative_to(PROJECT_DIR)}")
        if args.profile:
            print_profiles(result, args.profile_top)
        print()
        failed |= bool(result["checks"]["failed"])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
