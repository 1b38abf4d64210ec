"""kill -9 while orders stream in: nothing paid is lost, nothing unpaid is created.

A panel with several worker processes on SQLite takes a steady stream of `add` requests. First
one worker is killed mid-stream (the supervisor starts another), then the whole panel at once,
as a power cut would. Afterwards the database must be intact and its books exact: every order
that exists was charged once, every order a client was told about exists, and the balance is the
opening funds minus the charges of exactly the orders that exist.
"""

import asyncio
import contextlib
import os
import signal
import sqlite3
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
from sqlalchemy import select

from smmpanel.accounts.audit import audit
from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.db import Database
from smmpanel.money import to_micros
from smmpanel.orders.models import orders

from .conftest import (
    WORKERS,
    PanelProcess,
    Shop,
    WatchedPanel,
    client_connections,
    fresh_database,
    many_connections_client,
    wait_for,
)

OPENING = Decimal("1000")
RATE = "0.7"
IN_FLIGHT = 12


@dataclass
class Stream:
    """A client sending adds with distinct links, IN_FLIGHT at a time, until told to stop."""

    panel: PanelProcess
    key: str
    service: int
    sent: dict[str, int] = field(default_factory=dict)  # link -> quantity
    confirmed: dict[int, str] = field(default_factory=dict)  # order id -> link
    refused: list[dict] = field(default_factory=list)
    lost_in_flight: int = 0  # requests sent whose reply died with the process
    refused_connection: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, http: httpx.AsyncClient) -> None:
        await asyncio.gather(*(self._sender(http, n) for n in range(IN_FLIGHT)))

    async def _sender(self, http: httpx.AsyncClient, n: int) -> None:
        count = 0
        while not self.stop.is_set():
            count += 1
            link = f"https://example.com/crash/{n}/{count}/{uuid.uuid4().hex[:6]}"
            quantity = 100 + (n * 37 + count) % 900  # charges differ from order to order
            self.sent[link] = quantity
            fields = {"key": self.key, "action": "add", "service": self.service}
            try:
                response = await http.post(
                    self.panel.api_url, data={**fields, "link": link, "quantity": quantity}
                )
            except httpx.ConnectError:
                self.refused_connection += 1
                await asyncio.sleep(0.05)
                continue
            except httpx.HTTPError:
                self.lost_in_flight += 1
                continue
            reply = response.json() if response.status_code == 200 else None
            if reply is not None and reply.get("status") == "success":
                self.confirmed[reply["order"]] = link
            else:
                self.refused.append({"http": response.status_code, "reply": response.text})

    async def until_confirmed(self, count: int, timeout: float = 60.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.confirmed) < count:
                assert not self.refused, self.refused[:3]
                await asyncio.sleep(0.01)


async def read_books(url: str, customer_id: int) -> dict:
    db = Database(url, pool_size=1)
    try:
        async with db.read() as conn:
            balance = await conn.scalar(
                select(customers.c.balance).where(customers.c.id == customer_id)
            )
            order_rows = (
                await conn.execute(
                    select(orders.c.id, orders.c.link, orders.c.quantity, orders.c.charge).where(
                        orders.c.customer_id == customer_id
                    )
                )
            ).all()
            charges = (
                await conn.execute(
                    select(ledger_entries.c.order_id, ledger_entries.c.amount).where(
                        ledger_entries.c.customer_id == customer_id,
                        ledger_entries.c.kind == "charge",
                    )
                )
            ).all()
            problems = await audit(conn)
    finally:
        await db.dispose()
    return {"balance": balance, "orders": order_rows, "charges": charges, "audit": problems}


def replaced_worker(panel: WatchedPanel, dead: int) -> bool:
    workers = panel.worker_pids()
    return len(workers) == WORKERS and dead not in workers


def integrity(path: str) -> str:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


async def test_kill_9_during_a_stream_of_adds_loses_and_invents_nothing(tmp_path) -> None:
    url = await fresh_database("sqlite", tmp_path)
    db = Database(url, pool_size=2)
    customer_id, key = await Shop(db).customer(str(OPENING))
    service = await Shop(db).service(rate=RATE, min_quantity=10, max_quantity=10_000)
    await db.dispose()
    panel = await asyncio.to_thread(WatchedPanel, url, workers=WORKERS)
    stream = Stream(panel, key, service)
    try:
        async with many_connections_client() as http:
            sending = asyncio.create_task(stream.run(http))
            await stream.until_confirmed(30)
            victim = max(
                panel.worker_pids(), key=lambda pid: client_connections(pid, panel.port)
            )  # the worker serving the most clients
            os.kill(victim, signal.SIGKILL)  # a writer dies, perhaps inside its transaction
            await stream.until_confirmed(len(stream.confirmed) + 30)
            replaced = await asyncio.to_thread(wait_for, lambda: replaced_worker(panel, victim), 60)
            await stream.until_confirmed(len(stream.confirmed) + 30)
            lost_to_one_worker = stream.lost_in_flight
            panel.kill_all()  # then all of them at once
            stream.stop.set()
            await sending
    finally:
        if panel.process.poll() is None:
            panel.kill_all()

    assert replaced, "the supervisor did not replace the killed worker"
    assert lost_to_one_worker > 0, "the killed worker was serving no client"
    assert stream.lost_in_flight > lost_to_one_worker, "none in flight when the panel died"
    assert integrity(url.removeprefix("sqlite:///")) == "ok"
    books = await read_books(url, customer_id)
    assert books["audit"] == []
    by_id = {row.id: row for row in books["orders"]}
    # Nothing created: every order is one the stream sent, once, for what it asked.
    assert len({row.link for row in books["orders"]}) == len(books["orders"])
    assert all(stream.sent.get(row.link) == row.quantity for row in books["orders"])
    # Nothing lost: every confirmed order exists, with the link it was confirmed for.
    assert all(by_id[oid].link == link for oid, link in stream.confirmed.items())
    # Every order that exists was charged exactly once, for its charge.
    assert sorted(books["charges"]) == sorted((row.id, -row.charge) for row in books["orders"])
    spent = sum(row.charge for row in books["orders"])
    assert books["balance"] == to_micros(OPENING) - spent
    assert stream.refused == []

    # The database is usable again: a fresh panel takes the next order on the same books.
    panel = await asyncio.to_thread(PanelProcess, url)
    try:
        async with httpx.AsyncClient(timeout=30.0) as http:
            fields = {"key": key, "action": "add", "service": service, "quantity": 1000}
            reply = (
                await http.post(panel.api_url, data={**fields, "link": "https://x.com/after"})
            ).json()
    finally:
        panel.stop()
    assert reply.get("status") == "success", reply
    after = await read_books(url, customer_id)
    assert after["audit"] == []
    assert after["balance"] == books["balance"] - to_micros(Decimal(RATE))
