"""Test harness: every API test runs against a real panel process, on SQLite and PostgreSQL.

PostgreSQL comes from SMMPANEL_TEST_POSTGRES_URL (default: the local server). Where it does not
answer, its tests are skipped, unless CI or SMMPANEL_TEST_REQUIRE_POSTGRES is set: then they fail.
"""

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import pytest
from alembic import command
from alembic.config import Config

from smmpanel.accounts.service import create_api_key, create_customer
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.db import Database
from smmpanel.db.migrate import alembic_config, upgrade
from smmpanel.money import parse, to_micros

POSTGRES_URL = os.environ.get(
    "SMMPANEL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = bool(os.environ.get("CI") or os.environ.get("SMMPANEL_TEST_REQUIRE_POSTGRES"))
BACKENDS = ["sqlite", "postgresql"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _postgres_answers() -> bool:
    try:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


async def create_postgres_database() -> str:
    """A new empty database on the test server; its URL."""
    if not await _postgres_answers():
        message = f"PostgreSQL does not answer at {POSTGRES_URL}"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " (required here: start it, or unset CI)")
        pytest.skip(message)
    name = f"smmpanel_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(POSTGRES_URL)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


async def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(POSTGRES_URL)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def new_database_url(backend: str, tmp_dir: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / f'panel-{uuid.uuid4().hex[:8]}.db'}"
    return await create_postgres_database()


@contextlib.asynccontextmanager
async def database_at(
    backend: str, tmp_dir: Path, revision: str
) -> AsyncIterator[tuple[Config, Database]]:
    """A new database migrated up to `revision`, for a migration's test: alembic's config to
    move it on, and a one-connection `Database` on it. Both go when the block ends."""
    url = await new_database_url(backend, tmp_dir)
    config = alembic_config(url)
    try:
        await asyncio.to_thread(command.upgrade, config, revision)
        db = Database(url, pool_size=1)
        try:
            yield config, db
        finally:
            await db.dispose()
    finally:
        if backend == "postgresql":
            await drop_postgres_database(url)


async def migrated(backend: str, tmp_dir: Path) -> str:
    """A new database at the newest revision: a copy of this process's template of the backend,
    which the migrations built (a copy takes a tenth of the time of running them again)."""
    template = _templates.get(backend) or await _new_template(backend)
    if backend == "sqlite":
        path = tmp_dir / f"panel-{uuid.uuid4().hex[:8]}.db"
        await asyncio.to_thread(shutil.copyfile, template, path)
        return f"sqlite:///{path}"
    name = f"smmpanel_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


# Per process (each xdist worker has its own): backend -> a migrated SQLite file, or the name
# of a migrated PostgreSQL database, that no connection stays open on (CREATE DATABASE ...
# TEMPLATE refuses a template in use). Dropped at the end of the session (drop_templates).
_templates: dict[str, str] = {}


async def _new_template(backend: str) -> str:
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="smmpanel-template-"))
        url = f"sqlite:///{folder / 'template.db'}"
        await asyncio.to_thread(upgrade, url)
        _templates[backend] = str(folder / "template.db")
    else:
        url = await create_postgres_database()
        try:
            await asyncio.to_thread(upgrade, url)
        except BaseException:
            await drop_postgres_database(url)
            raise
        _templates[backend] = url.rsplit("/", 1)[1]
    return _templates[backend]


def drop_templates() -> None:
    """Remove this process's templates; called once the session is over."""
    sqlite_template = _templates.pop("sqlite", None)
    if sqlite_template:
        shutil.rmtree(Path(sqlite_template).parent, ignore_errors=True)
    postgres_template = _templates.pop("postgresql", None)
    if postgres_template:
        base = POSTGRES_URL.rsplit("/", 1)[0]
        asyncio.run(drop_postgres_database(f"{base}/{postgres_template}"))


class PanelProcess:
    """A `smmpanel serve` process on loopback, and an HTTP client for it."""

    def __init__(self, database_url: str, *, workers: int = 1, env: dict | None = None) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_url = f"{self.url}/api/v2"
        environment = {
            **os.environ,
            "SMMPANEL_DATABASE_URL": database_url,
            "SMMPANEL_API_RATE_LIMIT": "0",
            "SMMPANEL_API_ADDRESS_RATE_LIMIT": "0",
            # Every browser of the tests signs up from 127.0.0.1.
            "SMMPANEL_SIGN_UPS_PER_ADDRESS_PER_HOUR": "1000000",
            "SMMPANEL_LOG_LEVEL": "WARNING",
            # A test sends a few requests at a time; PostgreSQL (max_connections 100) is shared
            # by the test workers and the money fleets, which keep the production pool size.
            "SMMPANEL_DB_POOL_SIZE": "4",
            **(env or {}),
        }
        command = [
            sys.executable,
            "-m",
            "smmpanel",
            "serve",
            "--port",
            str(self.port),
            "--no-worker",
        ]
        command += ["--workers", str(workers)]
        self.process = subprocess.Popen(
            command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self._wait_until_ready()

    def _wait_until_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"panel exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                httpx.get(self.url + "/", timeout=1.0)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("panel did not start in time")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Shop:
    """Sets up customers and services directly through the domain services."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def customer(self, balance: str = "0") -> tuple[int, str]:
        async with self.db.write() as conn:
            customer_id = await create_customer(
                conn, f"customer-{uuid.uuid4().hex[:10]}", to_micros(parse(balance))
            )
            return customer_id, await create_api_key(conn, customer_id)

    async def service(
        self,
        type: str = "Default",
        rate: str = "1",
        min_quantity: int = 10,
        max_quantity: int = 10_000,
        **flags: object,
    ) -> int:
        async with self.db.write() as conn:
            category_id = await category_id_for(conn, "Tests")
            return await create_service(
                conn,
                category_id,
                name=f"{type} service {uuid.uuid4().hex[:6]}",
                type=type,
                rate=to_micros(parse(rate)),
                min_quantity=min_quantity,
                max_quantity=max_quantity,
                **flags,
            )


class ApiClient:
    def __init__(self, panel: PanelProcess, client: httpx.AsyncClient) -> None:
        self.panel = panel
        self.http = client

    async def call(self, **fields: object) -> object:
        response = await self.http.post(self.panel.api_url, data=fields)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        return response.json()

    async def balance(self, key: str) -> Decimal:
        reply = await self.call(key=key, action="balance")
        return Decimal(reply["balance"])


@contextlib.asynccontextmanager
async def panel_of_its_own(
    backend: str, folder: Path, *, workers: int = 1, env: dict | None = None
) -> AsyncIterator[tuple[PanelProcess, Database]]:
    """A panel process on a database of its own, for tests whose data would show on the shared
    panel's pages (payment methods) or change its behaviour (throttles), and a small pool on
    that database. Both go, and the database too, when the block ends."""
    url = await migrated(backend, folder)
    process = PanelProcess(url, workers=workers, env=env)
    database = Database(url, pool_size=2)
    try:
        yield process, database
    finally:
        process.stop()
        await database.dispose()
        if backend == "postgresql":
            await drop_postgres_database(url)


def payment_method(**changes: object) -> dict[str, object]:
    """The values of a payment method for payments.methods.add_method: a manual one in TWD at
    rate 1, 100 to 100,000, no fee, no bonus, a name of its own; `changes` override them."""
    values: dict[str, object] = {
        "name": f"method-{uuid.uuid4().hex[:8]}",
        "gateway": "manual",
        "currency": "TWD",
        "rate": to_micros(Decimal(1)),
        "min_amount": to_micros(Decimal(100)),
        "max_amount": to_micros(Decimal(100_000)),
        "fee_percent": 0,
        "fee_fixed": 0,
        "bonus_percent": 0,
        "bonus_from": 0,
        "settings": {},
    }
    return values | changes
