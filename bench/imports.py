"""How long importing and syncing a provider's catalogue of 2,000 services takes.

Run by hand (never by pytest), from the project's root:

    .venv/bin/python bench/imports.py                       # both backends, 2,000 services
    .venv/bin/python bench/imports.py --backend sqlite --services 5000
    .venv/bin/python bench/imports.py --profile             # py-spy, into bench/results/

For each backend it builds a fresh database (SQLite: a file in a temp dir; PostgreSQL: a new
database on 127.0.0.1:5432, dropped at the end), a TWD panel with an exchange rate for USD, and
a provider pointing at tests/fakes/upstream.py on loopback, which lists N services (USD, the
14 types, 40 categories). Then, in this process, as `smmpanel provider import` and the worker's
sync call them:

- import, new: import_services of every listed service into an empty catalogue;
- import, again: every upstream rate changed, imported again with another markup (N updates);
- sync: every rate changed again, then sync_provider (N updates, N change-log rows);
- catalogue file: `catalog export`, every name edited, `catalog import` of it (N updates;
  export and reading the file included).

Each phase prints wall seconds, CPU of this process and of the PostgreSQL backends (ms per
1,000 services), and the target: ≤ 2 s for N = 2,000. The load average is printed at the start
and the end of each backend; the machine is shared, so read the CPU figures first.
"""

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import api
import asyncpg
import httpx
import loadgen

from smmpanel.catalog.transfer import dump, export_catalog, import_catalog, read_catalog
from smmpanel.catalog.types import TYPE_NAMES
from smmpanel.db import Database
from smmpanel.db.migrate import upgrade
from smmpanel.panel.rates import set_rate
from smmpanel.panel.service import change_settings
from smmpanel.providers.catalog_sync import PriceRule, import_services, sync_provider
from smmpanel.providers.client import UpstreamClient
from smmpanel.providers.service import add_provider
from smmpanel.worker.context import upstream_http_client

PROJECT_DIR = api.BENCH_DIR.parent
FAKE_UPSTREAM = PROJECT_DIR / "tests" / "fakes" / "upstream.py"
UPSTREAM_KEY = "upstream-test-key"
TARGET_SECONDS = 2.0  # for 2,000 services
USD_IN_TWD = 31_500_000  # millionths of a TWD per USD
CATEGORIES = 40


@dataclass
class Phase:
    name: str
    services: int
    seconds: float
    cpu_bench: float
    cpu_database: float | None

    def row(self) -> str:
        per_thousand = 1000 * 1000 / self.services  # ms per 1,000 services
        database = "-" if self.cpu_database is None else f"{self.cpu_database * per_thousand:7.0f}"
        target = TARGET_SECONDS * self.services / 2000
        verdict = "PASS" if self.seconds <= target else "MISS"
        return (
            f"  {self.name:<15} {self.services:>6} {self.seconds:>8.2f} s"
            f" {self.cpu_bench * per_thousand:>9.0f} {database:>9}  ≤{target:.1f} s {verdict}"
        )


HEADER = (
    f"  {'phase':<15} {'count':>6} {'wall':>10} {'bench ms':>9} {'db ms':>9}  target"
    "\n  (CPU in ms per 1,000 services: this process, PostgreSQL's backends)"
)


def listing(count: int, version: int) -> list[dict]:
    """N upstream services as panels list them; `version` moves every rate."""
    entries = []
    for number in range(1, count + 1):
        rate = f"{(number % 997 + 1) * (1 + version / 10) / 100:.4f}"
        entries.append(
            {
                "service": number,
                "name": f"Followers {number} - real, fast",
                "category": f"Instagram - Category {number % CATEGORIES}",
                "type": TYPE_NAMES[number % len(TYPE_NAMES)] if number % 5 == 0 else "Default",
                "rate": rate,
                "min": str(10 * (number % 7 + 1)),
                "max": str(10_000 * (number % 11 + 1)),
                "desc": f"Service {number}: starts in 0-1 h, 5k/day",
                "dripfeed": number % 2,
                "refill": number % 3 == 0,
                "cancel": number % 4 == 0,
            }
        )
    return entries


@contextlib.contextmanager
def fake_upstream() -> Iterator[str]:
    """tests/fakes/upstream.py on loopback; its base URL."""
    port = api.free_port()
    process = subprocess.Popen(
        [sys.executable, str(FAKE_UPSTREAM), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(f"{url}/_state", timeout=1)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the fake upstream did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def offer(upstream_url: str, entries: list[dict]) -> None:
    httpx.post(f"{upstream_url}/_control", json={"services": entries}, timeout=30)


async def prepare(database_url: str, api_url: str) -> int:
    """A TWD panel converting USD, and the provider; its id."""
    db = Database(database_url, pool_size=1)
    try:
        async with db.write() as conn:
            await change_settings(conn, currency="TWD")
            await set_rate(conn, "USD", USD_IN_TWD)
            return await add_provider(conn, "bench upstream", api_url, UPSTREAM_KEY, 60)
    finally:
        await db.dispose()


class CpuMeter:
    """CPU seconds of this process, and of the PostgreSQL backends serving `dbname`."""

    def __init__(self, admin: asyncpg.Connection | None, dbname: str | None) -> None:
        self.admin, self.dbname = admin, dbname

    async def snapshot(self) -> tuple[float, dict[int, float]]:
        backends: dict[int, float] = {}
        if self.admin is not None:
            query = "SELECT pid FROM pg_stat_activity WHERE datname = $1"
            for record in await self.admin.fetch(query, self.dbname):
                backends[record["pid"]] = loadgen.cpu_seconds(record["pid"]) or 0.0
        return loadgen.cpu_seconds(os.getpid()) or 0.0, backends

    @staticmethod
    def database(before: dict[int, float], after: dict[int, float]) -> float:
        pids = set(before) | set(after)
        return sum(after.get(pid, before.get(pid, 0.0)) - before.get(pid, 0.0) for pid in pids)


async def timed(
    name: str, count: int, meter: CpuMeter, work: Callable[[], Awaitable[object]]
) -> Phase:
    cpu_before, backends_before = await meter.snapshot()
    started = time.perf_counter()
    await work()
    seconds = time.perf_counter() - started
    cpu_after, backends_after = await meter.snapshot()
    database = CpuMeter.database(backends_before, backends_after) if meter.admin else None
    return Phase(name, count, seconds, cpu_after - cpu_before, database)


async def run_phases(database_url: str, upstream_url: str, provider_id: int, count: int) -> list:
    admin, dbname = None, None
    if database_url.startswith("postgresql"):
        admin = await asyncpg.connect(api.POSTGRES_ADMIN_URL)
        dbname = database_url.rsplit("/", 1)[1]
    meter = CpuMeter(admin, dbname)
    db = Database(database_url, pool_size=2)
    phases = []
    try:
        async with upstream_http_client() as http:
            client = UpstreamClient(http)
            rule = PriceRule.from_json(json.dumps({"percent": "30", "decimals": 2}))
            offer(upstream_url, listing(count, 0))

            async def first() -> None:
                summary = await import_services(db, client, provider_id, rule)
                assert summary.created == count, (summary.created, summary.skipped[:3])

            phases.append(await timed("import, new", count, meter, first))
            offer(upstream_url, listing(count, 1))
            other = PriceRule.from_json(json.dumps({"percent": "40", "decimals": 2}))

            async def again() -> None:
                summary = await import_services(db, client, provider_id, other)
                assert summary.updated == count, (summary.updated, summary.skipped[:3])

            phases.append(await timed("import, again", count, meter, again))
            offer(upstream_url, listing(count, 2))

            async def sync() -> None:
                summary = await sync_provider(db, client, provider_id)
                assert summary.changed == count, (summary.changed, summary.skipped[:3])

            phases.append(await timed("sync", count, meter, sync))

            async def file_import() -> None:
                async with db.read() as conn:
                    text = dump(await export_catalog(conn))
                document = json.loads(text)
                for category in document["categories"]:
                    for service in category["services"]:
                        service["name"] += " (edited)"
                entries = read_catalog(json.dumps(document))
                async with db.write() as conn:
                    summary = await import_catalog(conn, entries)
                assert summary.updated == count, summary

            phases.append(await timed("catalogue file", count, meter, file_import))
    finally:
        await db.dispose()
        if admin is not None:
            await admin.close()
    return phases


def bench_backend(backend: str, count: int) -> list[Phase]:
    print(f"{backend}: load average {os.getloadavg()[0]:.2f} at the start")
    with tempfile.TemporaryDirectory() as tmp:
        database_url = api.create_database(backend, Path(tmp))
        try:
            upgrade(database_url)
            with fake_upstream() as upstream_url:
                provider_id = asyncio.run(prepare(database_url, f"{upstream_url}/api/v2"))
                phases = asyncio.run(run_phases(database_url, upstream_url, provider_id, count))
        finally:
            api.drop_database(backend, database_url)
    print(HEADER)
    for phase in phases:
        print(phase.row())
    print(f"{backend}: load average {os.getloadavg()[0]:.2f} at the end\n")
    return phases


def profiled(args: argparse.Namespace) -> None:
    """Run this benchmark again under py-spy, one profile per backend."""
    api.RESULTS_DIR.mkdir(exist_ok=True)
    for backend in args.backends:
        output = api.RESULTS_DIR / f"profile-imports-{backend}.txt"
        command = [str(api.PY_SPY), "record", "--format", "raw", "--rate", "200"]
        command += ["--output", str(output), "--", sys.executable, __file__]
        command += ["--backend", backend, "--services", str(args.services)]
        subprocess.run(command, check=True, stderr=subprocess.DEVNULL)
        print(f"profile: {output} (bench/profile_summary.py summarises it)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--profile", action="store_true", help="py-spy each backend's run")
    args = parser.parse_args()
    args.backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    return args


def main() -> None:
    args = parse_args()
    if args.profile:
        profiled(args)
        return
    for backend in args.backends:
        bench_backend(backend, args.services)


if __name__ == "__main__":
    main()
