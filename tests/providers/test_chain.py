"""Two of our panels in a chain over real HTTP: A resells B's service, B's operator delivers.

A (`smmpanel serve` with its worker) forwards its customers' orders to B (`serve --no-worker`,
manual fulfilment) with the key of a customer account A holds at B. B's operator moves the
orders on B's command line (the cancel, refill and drip-feed scenarios call the same use cases
in-process, which is quicker); A's polling brings each status home and refunds A's customer
exactly what B refunded A, in proportion. Both panels' books must be right at the end.

Drip-feed both ways: run at A (one child order per run, each forwarded), and run at B (B's
service takes drip-feed itself: A forwards one order with its runs and interval).
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from forwarding_fixtures import (
    ServingPanel,
    discard_database,
    eventually,
    fresh_database,
    harness,
    new_link,
    pro_rata,
    smmpanel_command,
)
from sqlalchemy import func, select, update

from smmpanel.accounts.models import ledger_entries
from smmpanel.accounts.service import create_api_key, create_customer
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.db import Database
from smmpanel.db.base import utcnow
from smmpanel.money import parse, to_micros
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.models import cancel_requests, orders, refills
from smmpanel.orders.requests import resolve_cancel, update_refill
from smmpanel.providers.service import add_provider

FOLLOW_DEADLINE = 20.0  # seconds for A to follow a change made at B
A_OPENING, B_OPENING = Decimal("50"), Decimal("100")
A_RATE, B_RATE = "3.7", "2.5"
A_WORKER = {
    "SMMPANEL_POLL_FASTEST_SECONDS": "1",
    "SMMPANEL_POLL_SLOWEST_SECONDS": "2",
    "SMMPANEL_WORKER_TICK_SECONDS": "0.2",
}


@dataclass
class Panel:
    url: str  # its database
    db: Database
    api_url: str
    home: Path

    def cli(self, *args: object) -> str:
        done = smmpanel_command(self.url, self.home, *args)
        assert done.returncode == 0, f"smmpanel {args}: {done.stderr}"
        return done.stdout

    async def run(self, *args: object) -> str:
        return await asyncio.to_thread(self.cli, *args)

    async def operator(self, use_case, *args: object, **options: object) -> None:  # type: ignore[no-untyped-def]
        """What the operator's command line does, in-process: one use case, one transaction."""
        async with self.db.write() as conn:
            await use_case(conn, *args, **options)

    async def rows(self, statement) -> list:  # type: ignore[no-untyped-def]
        async with self.db.read() as conn:
            return list((await conn.execute(statement)).all())

    async def refunded(self, order_id: int) -> int:
        async with self.db.read() as conn:
            total = await conn.scalar(
                select(func.coalesce(func.sum(ledger_entries.c.amount), 0)).where(
                    ledger_entries.c.order_id == order_id, ledger_entries.c.kind == "refund"
                )
            )
        return int(total)

    async def customer(self, name: str, opening: Decimal) -> str:
        """A new customer with this balance; their API key."""
        async with self.db.write() as conn:
            customer_id = await create_customer(
                conn, f"{name}-{uuid.uuid4().hex[:6]}", to_micros(opening)
            )
            return await create_api_key(conn, customer_id)

    async def service(self, rate: str, **fields: object) -> int:
        async with self.db.write() as conn:
            return await create_service(
                conn,
                await category_id_for(conn, "Chain"),
                name=f"Followers {uuid.uuid4().hex[:6]}",
                type="Default",
                rate=to_micros(parse(rate)),
                min_quantity=10,
                max_quantity=10_000,
                **fields,
            )


@dataclass
class Chain:
    a: Panel
    b: Panel
    a_process: ServingPanel
    a_service: int
    a_dripfeed_service: int  # drip-feed run at A, one child order per run
    a_upstream_dripfeed_service: int  # drip-feed run at B: runs and interval forwarded
    b_key: str  # A's own key at B
    http: httpx.AsyncClient

    async def call(self, panel: Panel, **fields: object) -> object:
        response = await self.http.post(panel.api_url, data=fields)
        assert response.status_code == 200, response.text
        return response.json()

    async def buyer(self) -> str:
        """A new customer of A, so that each scenario's balance is its own."""
        return await self.a.customer("buyer", A_OPENING)

    async def order_at_a(self, key: str, quantity: int, link: str, **fields: object) -> int:
        fields = {"service": self.a_service, "link": link, "quantity": quantity, **fields}
        reply = await self.call(self.a, key=key, action="add", **fields)
        assert reply.get("status") == "success", reply
        return reply["order"]

    async def statuses(self, panel: Panel, key: str, ids: list) -> dict:
        return await self.call(panel, key=key, action="status", orders=",".join(map(str, ids)))

    async def charge(self, panel: Panel, key: str, order_id: int) -> int:
        reply = await self.call(panel, key=key, action="status", order=order_id)
        return to_micros(Decimal(reply["charge"]))

    async def balance(self, panel: Panel, key: str) -> int:
        reply = await self.call(panel, key=key, action="balance")
        return to_micros(Decimal(reply["balance"]))

    async def sent_to_b(self, a_ids: list[int]) -> list[int]:
        """B's ids of A's orders, once A has sent them all."""

        async def sent() -> list[int] | None:
            rows = await self.a.rows(select(orders).where(orders.c.id.in_(a_ids)))
            found = {row.id: row for row in rows}
            if all(found[i].forward_state == "sent" for i in a_ids):
                return [int(found[i].upstream_order_id) for i in a_ids]
            return None

        return await eventually(sent, FOLLOW_DEADLINE, "A to send its orders to B")

    async def follows(self, key: str, a_ids: list[int], statuses: list[str]) -> dict:
        """A's status replies, once A's orders show these statuses."""
        seen: list = []

        async def matches() -> dict | None:
            replies = await self.statuses(self.a, key, a_ids)
            seen[:] = [replies[str(i)]["status"] for i in a_ids]
            return replies if seen == statuses else None

        try:
            return await eventually(matches, FOLLOW_DEADLINE, f"A's orders to be {statuses}")
        except pytest.fail.Exception:
            log = self.a_process.log_path.read_text(errors="replace")[-3000:]
            pytest.fail(f"A's orders stayed {seen}, not {statuses}; A's log ends: {log}")

    async def make_due(self, table, row_id: int) -> None:  # type: ignore[no-untyped-def]
        """Bring a row's next action at A forward to now, as minutes passing would."""
        async with self.a.db.write() as conn:
            await conn.execute(
                update(table)
                .where(table.c.id == row_id)
                .values(next_action_at=utcnow() - timedelta(seconds=1))
            )


@contextlib.asynccontextmanager
async def _panel_database(backend: str, home: Path) -> AsyncIterator[tuple[str, Database]]:
    url = await fresh_database(backend, home)
    db = Database(url, pool_size=2)
    try:
        yield url, db
    finally:
        await db.dispose()
        await discard_database(backend, url)


@pytest_asyncio.fixture(scope="module")
async def chain(backend: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Chain]:
    """A and B, each on its own new database; both books audited when the module ends."""
    home = tmp_path_factory.mktemp(f"chain-{backend}")
    async with (
        _panel_database(backend, home) as (a_url, a_db),
        _panel_database(backend, home) as (b_url, b_db),
        httpx.AsyncClient(timeout=30) as http,
    ):
        started = await asyncio.gather(
            asyncio.to_thread(harness.PanelProcess, b_url),
            asyncio.to_thread(ServingPanel, a_url, home / "panel-a.log", A_WORKER),
            return_exceptions=True,
        )
        b_process, a_process = started
        try:
            for outcome in started:
                if isinstance(outcome, BaseException):
                    raise outcome
            b = Panel(b_url, b_db, b_process.api_url, home)
            a = Panel(a_url, a_db, a_process.api_url, home)
            chain = await _set_up(a, b, a_process, http)
            yield chain
            assert a_process.failures() == [], "A's log shows failures"
            audits = await asyncio.gather(a.run("audit"), b.run("audit"))
            assert all("books are right" in audit for audit in audits), audits
        finally:
            for process in started:
                if not isinstance(process, BaseException):
                    process.stop()


async def _set_up(a: Panel, b: Panel, a_process: ServingPanel, http: httpx.AsyncClient) -> Chain:
    """B sells a service to A's account there; A resells it, plain and as a drip-feed."""
    b_key = await b.customer("panel-a", B_OPENING)
    async with a.db.write() as conn:
        provider_id = await add_provider(conn, "panel-b", b.api_url, b_key, 5)

    async def resold(b_service: int) -> dict:
        """What makes one of A's services resell this service of B's (one each)."""
        return {
            "fulfilment": "provider",
            "provider_id": provider_id,
            "provider_service_id": str(b_service),
        }

    plain = await resold(await b.service(B_RATE, cancel=True, refill=True))
    a_service = await a.service(A_RATE, cancel=True, refill=True, **plain)
    a_dripfeed_service = await a.service(
        A_RATE, dripfeed=True, **await resold(await b.service(B_RATE))
    )
    a_upstream_dripfeed_service = await a.service(
        A_RATE,
        dripfeed=True,
        upstream_dripfeed=True,
        **await resold(await b.service(B_RATE, dripfeed=True)),
    )
    return Chain(
        a,
        b,
        a_process,
        a_service,
        a_dripfeed_service,
        a_upstream_dripfeed_service,
        b_key,
        http,
    )


async def test_b_operators_changes_come_home_to_a_with_exact_refunds(chain: Chain):
    key = await chain.buyer()
    quantities = [1000, 777, 500]
    a_before, b_before = (
        await chain.balance(chain.a, key),
        await chain.balance(chain.b, chain.b_key),
    )
    links = [new_link() for _ in quantities]
    a_ids = [
        await chain.order_at_a(key, quantity, link)
        for quantity, link in zip(quantities, links, strict=True)
    ]
    b_ids = await chain.sent_to_b(a_ids)

    # B took each order once, for A's account, with A's links and quantities.
    b_replies = await chain.statuses(chain.b, chain.b_key, b_ids)
    a_replies = await chain.statuses(chain.a, key, a_ids)
    assert [b_replies[str(i)]["status"] for i in b_ids] == ["Pending"] * 3
    rows = await chain.b.rows(select(orders).where(orders.c.link.in_(links)))
    assert {r.id: (r.link, r.quantity) for r in rows} == {
        b_id: (link, quantity)
        for b_id, link, quantity in zip(b_ids, links, quantities, strict=True)
    }

    def settled(replies: dict, ids: list[int]) -> int:
        """What the three orders cost in the end: charges less refunds, in millionths."""
        charges = [to_micros(Decimal(replies[str(i)]["charge"])) for i in ids]
        return charges[0] + (charges[1] - pro_rata(charges[1], 333, 777))

    expected = (a_before - settled(a_replies, a_ids), b_before - settled(b_replies, b_ids))

    async def balances() -> tuple[int, int]:
        return await chain.balance(chain.a, key), await chain.balance(chain.b, chain.b_key)

    # B's operator starts one order, stops one early and cancels one: A follows each.
    await asyncio.gather(
        chain.b.run("order", "update", b_ids[0], "--status", "In progress", "--start-count", 120),
        chain.b.run("order", "update", b_ids[1], "--status", "Partial", "--remains", 333),
        chain.b.run("order", "update", b_ids[2], "--status", "Canceled"),
    )
    replies = await chain.follows(key, a_ids, ["In progress", "Partial", "Canceled"])
    assert replies[str(a_ids[0])]["start_count"] == "120"
    assert replies[str(a_ids[1])]["remains"] == "333"
    assert await balances() == expected

    # Then completes the first; A's polls since then refunded nothing twice.
    await chain.b.run("order", "update", b_ids[0], "--status", "Completed")
    replies = await chain.follows(key, a_ids, ["Completed", "Partial", "Canceled"])
    assert replies[str(a_ids[0])]["remains"] == "0"
    assert await balances() == expected


async def test_cancel_refill_and_dripfeed_travel_the_chain(chain: Chain):
    """Four scenarios at once (each with its own customer): they mostly wait on A's worker."""
    await asyncio.gather(
        _cancel_travels_to_b_and_the_refund_comes_back(chain),
        _refill_travels_to_b_and_its_status_comes_back(chain),
        _dripfeed_runs_go_to_b_one_by_one_and_settle_the_parent(chain),
        _dripfeed_run_at_b_is_one_order_with_its_runs_and_interval(chain),
    )


async def _cancel_travels_to_b_and_the_refund_comes_back(chain: Chain) -> None:
    key = await chain.buyer()
    a_id = await chain.order_at_a(key, 600, new_link())
    [b_id] = await chain.sent_to_b([a_id])

    reply = await chain.call(chain.a, key=key, action="cancel", orders=a_id)
    assert reply == [{"order": a_id, "cancel": 1}]

    async def asked_at_b() -> int | None:
        rows = await chain.b.rows(
            select(cancel_requests.c.id).where(
                cancel_requests.c.order_id == b_id, cancel_requests.c.status == "Pending"
            )
        )
        return rows[0].id if rows else None

    b_cancel = await eventually(asked_at_b, FOLLOW_DEADLINE, "A to carry the cancel to B")
    # B's operator accepts it with 150 of 600 not delivered: Partial at B, then at A.
    await chain.b.operator(resolve_cancel, b_cancel, accept=True, remains=150)
    replies = await chain.follows(key, [a_id], ["Partial"])
    assert replies[str(a_id)]["remains"] == "150"

    a_charge = await chain.charge(chain.a, key, a_id)
    b_charge = await chain.charge(chain.b, chain.b_key, b_id)
    assert await chain.balance(chain.a, key) == (
        to_micros(A_OPENING) - a_charge + pro_rata(a_charge, 150, 600)
    )
    assert await chain.b.refunded(b_id) == pro_rata(b_charge, 150, 600)
    [a_request] = await chain.a.rows(
        select(cancel_requests.c.status).where(cancel_requests.c.order_id == a_id)
    )
    assert a_request.status == "Accepted"


async def _refill_travels_to_b_and_its_status_comes_back(chain: Chain) -> None:
    key = await chain.buyer()
    a_id = await chain.order_at_a(key, 400, new_link())
    [b_id] = await chain.sent_to_b([a_id])
    await chain.b.operator(update_order, b_id, status="Completed")
    await chain.follows(key, [a_id], ["Completed"])
    balance = await chain.balance(chain.a, key)

    reply = await chain.call(chain.a, key=key, action="refill", order=a_id)
    a_refill = reply["refill"]

    async def carried() -> int | None:
        [row] = await chain.a.rows(select(refills).where(refills.c.id == a_refill))
        return int(row.upstream_refill_id) if row.upstream_refill_id else None

    b_refill = await eventually(carried, FOLLOW_DEADLINE, "A to carry the refill to B")
    [at_b] = await chain.b.rows(select(refills).where(refills.c.id == b_refill))
    assert (at_b.order_id, at_b.status) == (b_id, "Pending")

    await chain.b.operator(update_refill, b_refill, "Completed")
    await chain.make_due(refills, a_refill)  # A asks after a refill every few minutes

    async def completed_at_a() -> bool:
        reply = await chain.call(chain.a, key=key, action="refill_status", refill=a_refill)
        return reply == {"status": "Completed"}

    await eventually(completed_at_a, FOLLOW_DEADLINE, "A's refill to follow B's")
    assert await chain.balance(chain.a, key) == balance  # a refill moves no money


async def _dripfeed_runs_go_to_b_one_by_one_and_settle_the_parent(chain: Chain) -> None:
    key = await chain.buyer()
    link = new_link()
    fields = {"service": chain.a_dripfeed_service, "runs": 2, "interval": 1}
    parent = await chain.order_at_a(key, 100, link, **fields)
    charge = await chain.charge(chain.a, key, parent)

    async def run_sent(run: int) -> int | None:
        rows = await chain.a.rows(
            select(orders.c.forward_state, orders.c.upstream_order_id)
            .where(orders.c.parent_id == parent)
            .order_by(orders.c.id)
        )
        if len(rows) >= run and rows[run - 1].forward_state == "sent":
            return int(rows[run - 1].upstream_order_id)
        return None

    # Run 1 goes at once; B delivers it in full before run 2 is due (B, like any panel of
    # ours, refuses a second active order for the same link).
    b_first = await eventually(lambda: run_sent(1), FOLLOW_DEADLINE, "run 1 to reach B")
    await chain.b.operator(update_order, b_first, status="Completed")
    await chain.make_due(orders, parent)  # run 2 is due a minute later
    b_second = await eventually(lambda: run_sent(2), FOLLOW_DEADLINE, "run 2 to reach B")
    # B delivers 60 of run 2's 100: the parent ends Partial with 40 of 200 undelivered.
    await chain.b.operator(update_order, b_second, status="Partial", remains=40)

    replies = await chain.follows(key, [parent], ["Partial"])
    assert (replies[str(parent)]["remains"], replies[str(parent)]["runs"]) == ("40", "2")
    assert await chain.balance(chain.a, key) == (
        to_micros(A_OPENING) - charge + pro_rata(charge, 40, 200)
    )
    at_b = await chain.b.rows(select(orders.c.id).where(orders.c.link == link))
    assert sorted(r.id for r in at_b) == sorted([b_first, b_second])


async def _dripfeed_run_at_b_is_one_order_with_its_runs_and_interval(chain: Chain) -> None:
    key = await chain.buyer()
    link = new_link()
    fields = {"service": chain.a_upstream_dripfeed_service, "runs": 3, "interval": 15}
    a_id = await chain.order_at_a(key, 100, link, **fields)
    charge = await chain.charge(chain.a, key, a_id)
    [b_id] = await chain.sent_to_b([a_id])

    # B got one order carrying the runs and interval, and charged A for all 300 units.
    [at_b] = await chain.b.rows(select(orders).where(orders.c.link == link))
    assert (at_b.id, at_b.quantity, at_b.runs, at_b.interval) == (b_id, 100, 3, 15)
    b_charge = await chain.charge(chain.b, chain.b_key, b_id)
    assert b_charge == to_micros(parse(B_RATE) * 300 / 1000)
    assert await chain.a.rows(select(orders.c.id).where(orders.c.parent_id == a_id)) == []

    # B delivers 180 of the 300 over its runs: Partial there, then at A, each refunded pro rata.
    await chain.b.operator(update_order, b_id, status="In progress", start_count=50)
    await chain.follows(key, [a_id], ["In progress"])
    await chain.b.operator(update_order, b_id, status="Partial", remains=120)
    replies = await chain.follows(key, [a_id], ["Partial"])
    assert (replies[str(a_id)]["remains"], replies[str(a_id)]["runs"]) == ("120", "3")
    assert await chain.balance(chain.a, key) == (
        to_micros(A_OPENING) - charge + pro_rata(charge, 120, 300)
    )
    assert await chain.b.refunded(b_id) == pro_rata(b_charge, 120, 300)
