"""Money under concurrency: simultaneous requests on several panel processes and connections.

Every test fires its requests at once (one `asyncio.gather` over a client with a connection per
request) at a panel with several worker processes, then checks the database itself: the number of
orders, the ledger rows, the balance, and the audit of the books.
"""

import asyncio
import json
import subprocess
import sys
import uuid
from collections import Counter
from decimal import Decimal

from sqlalchemy import select

from smmpanel.accounts.audit import audit
from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.accounts.service import adjust_funds
from smmpanel.errors import Refusal
from smmpanel.money import parse, to_micros
from smmpanel.orders.counts import customer_status_counts, fold_changes
from smmpanel.orders.lifecycle import OrderChange, update_order
from smmpanel.orders.models import cancel_requests, orders
from smmpanel.orders.requests import resolve_cancel

from .conftest import Fleet

NOT_ENOUGH_FUNDS = "Not enough funds on balance"
ACTIVE_ORDER_EXISTS = (
    "You have active order with this link. Please wait until order being completed."
)


async def books(fleet: Fleet, customer_id: int) -> dict:
    """The customer's balance, orders and ledger rows, straight from the database."""
    async with fleet.db.read() as conn:
        balance = await conn.scalar(
            select(customers.c.balance).where(customers.c.id == customer_id)
        )
        order_rows = (
            await conn.execute(
                select(orders.c.id, orders.c.link, orders.c.charge, orders.c.status).where(
                    orders.c.customer_id == customer_id
                )
            )
        ).all()
        ledger = (
            await conn.execute(
                select(ledger_entries.c.kind, ledger_entries.c.amount, ledger_entries.c.order_id)
                .where(ledger_entries.c.customer_id == customer_id)
                .order_by(ledger_entries.c.id)
            )
        ).all()
        problems = await audit(conn)
    return {
        "balance": balance,
        "orders": {row.id: row for row in order_rows},
        "charges": [row for row in ledger if row.kind == "charge"],
        "refunds": [row for row in ledger if row.kind == "refund"],
        "audit": problems,
    }


def link(tag: str, i: int | str = "") -> str:
    return f"https://example.com/{tag}/{uuid.uuid4().hex[:8]}/{i}"


def add_requests(key: str, service: int, tag: str, count: int) -> list[dict]:
    """`count` adds of 1000 of the service, each to a new link."""
    return [
        {"key": key, "service": service, "link": link(tag, i), "quantity": 1000}
        for i in range(count)
    ]


async def fire(fleet: Fleet, requests: list[dict]) -> list[dict]:
    """All requests at once, each on its own connection; the replies in the same order."""
    clients = fleet.clients
    return list(
        await asyncio.gather(
            *(fleet.add(clients[n % len(clients)], **fields) for n, fields in enumerate(requests))
        )
    )


async def connect_to_several_workers(fleet: Fleet, key: str) -> None:
    serving = await fleet.connect(key)
    assert len(serving) >= 2, "the connections did not spread over several worker processes"


def successes(replies: list[dict]) -> list[int]:
    return [reply["order"] for reply in replies if reply.get("status") == "success"]


async def test_fifty_adds_against_funds_for_twenty_make_twenty_orders(fleet: Fleet) -> None:
    # 0.37 a thousand, 1000 each: 0.370000 per order; the balance covers exactly 20 of them.
    customer_id, key = await fleet.shop.customer("7.4")
    service = await fleet.shop.service(rate="0.37", min_quantity=10, max_quantity=10_000)
    requests = add_requests(key, service, "twenty", 50)
    await connect_to_several_workers(fleet, key)

    replies = await fire(fleet, requests)

    placed = successes(replies)
    assert len(placed) == 20 and len(set(placed)) == 20
    refused = [reply for reply in replies if reply.get("status") != "success"]
    assert refused == [{"error": NOT_ENOUGH_FUNDS}] * 30
    state = await books(fleet, customer_id)
    assert state["balance"] == 0
    assert sorted(state["orders"]) == sorted(placed)
    assert sorted(row.order_id for row in state["charges"]) == sorted(placed)
    assert all(row.amount == -370_000 for row in state["charges"])
    assert state["audit"] == []


async def test_fifty_adds_with_one_idempotency_key_make_one_order_and_one_charge(
    fleet: Fleet,
) -> None:
    customer_id, key = await fleet.shop.customer("100")
    service = await fleet.shop.service(rate="2", min_quantity=10, max_quantity=10_000)
    idempotency_key = uuid.uuid4().hex
    # Distinct links: only the idempotency key can make these the same order.
    requests = [
        {
            "key": key,
            "service": service,
            "link": link("idem", i),
            "quantity": 500,
            "idempotency_key": idempotency_key,
        }
        for i in range(50)
    ]
    await connect_to_several_workers(fleet, key)

    replies = await fire(fleet, requests)

    assert all(reply.get("status") == "success" for reply in replies), replies
    assert len({reply["order"] for reply in replies}) == 1
    state = await books(fleet, customer_id)
    assert list(state["orders"]) == [replies[0]["order"]]
    assert [(row.order_id, row.amount) for row in state["charges"]] == [
        (replies[0]["order"], -1_000_000)
    ]
    assert state["balance"] == to_micros(Decimal("99"))
    assert state["audit"] == []


async def test_fifty_adds_of_one_link_on_one_service_make_one_order(fleet: Fleet) -> None:
    customer_id, key = await fleet.shop.customer("100")
    service = await fleet.shop.service(rate="1", min_quantity=10, max_quantity=10_000)
    same_link = link("same")
    requests = [
        {"key": key, "service": service, "link": same_link, "quantity": 100} for _ in range(50)
    ]
    await connect_to_several_workers(fleet, key)

    replies = await fire(fleet, requests)

    placed = successes(replies)
    assert len(placed) == 1
    assert [reply for reply in replies if "error" in reply] == [{"error": ACTIVE_ORDER_EXISTS}] * 49
    state = await books(fleet, customer_id)
    assert list(state["orders"]) == placed
    assert len(state["charges"]) == 1
    assert state["balance"] == to_micros(Decimal("99.9"))
    assert state["audit"] == []


async def place_orders(
    fleet: Fleet, count: int, opening: str = "50", **flags: object
) -> tuple[int, str, list[int]]:
    """A new customer's `count` orders of a new service with these flags: (customer id, their
    key, the orders)."""
    customer_id, key = await fleet.shop.customer(opening)
    service = await fleet.shop.service(
        rate="1.234567", min_quantity=10, max_quantity=10_000, **flags
    )
    replies = await fire(
        fleet,
        [
            {"key": key, "service": service, "link": link("cancel", i), "quantity": 700 + i}
            for i in range(count)
        ],
    )
    placed = successes(replies)
    assert len(placed) == count, replies
    return customer_id, key, placed


async def change_status(
    fleet: Fleet, order_id: int, status: str, remains: int | None = None
) -> OrderChange | Refusal:
    """One operator change in its own transaction; the Refusal if it is refused."""
    try:
        async with fleet.db.write() as conn:
            return await update_order(conn, order_id, status=status, remains=remains)
    except Refusal as refused:
        return refused


async def test_concurrent_cancels_of_an_order_refund_it_once(fleet: Fleet) -> None:
    customer_id, _, placed = await place_orders(fleet, 5)
    before = await books(fleet, customer_id)

    changes = await asyncio.gather(
        *(change_status(fleet, order_id, "Canceled") for order_id in placed for _ in range(10))
    )

    assert not [change for change in changes if isinstance(change, Exception)]
    state = await books(fleet, customer_id)
    charges = {order_id: state["orders"][order_id].charge for order_id in placed}
    for order_id in placed:
        refunded_by = [c.refunded for c in changes if c.order_id == order_id and c.refunded]
        assert refunded_by == [charges[order_id]]
    assert sorted((row.order_id, row.amount) for row in state["refunds"]) == sorted(charges.items())
    assert state["balance"] == before["balance"] + sum(charges.values()) == to_micros(parse("50"))
    assert state["audit"] == []


async def test_concurrent_partial_and_cancel_refund_the_charge_at_most(fleet: Fleet) -> None:
    customer_id, _, placed = await place_orders(fleet, 5)

    await asyncio.gather(
        *(
            change_status(fleet, order_id, status, remains)
            for order_id in placed
            for status, remains in [("Partial", 123), ("Canceled", None)] * 5
        )
    )

    state = await books(fleet, customer_id)
    for order_id in placed:
        refunds = [row.amount for row in state["refunds"] if row.order_id == order_id]
        # Partial then Canceled refunds the rest; Canceled then Partial is refused: either way
        # the whole charge comes back, and never more.
        assert sum(refunds) == state["orders"][order_id].charge
        assert 1 <= len(refunds) <= 2
    assert state["balance"] == to_micros(parse("50"))
    assert state["audit"] == []


RACES = 40


async def api_cancel(fleet: Fleet, key: str, order_id: int) -> object:
    response = await fleet.clients[0].post(
        fleet.panel.api_url, data={"key": key, "action": "cancel", "orders": order_id}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def accept_cancel(fleet: Fleet, cancel_id: int) -> OrderChange | Refusal:
    """The operator accepts a cancel request in its own transaction; the Refusal if refused."""
    try:
        async with fleet.db.write() as conn:
            return await resolve_cancel(conn, cancel_id, accept=True)
    except Refusal as refused:
        return refused


async def test_a_cancel_request_racing_completion_never_outlives_the_order(fleet: Fleet) -> None:
    customer_id, key, placed = await place_orders(fleet, RACES, cancel=True)
    charged = (await books(fleet, customer_id))["balance"]

    for order_id in placed:  # an API cancel at the moment the operator completes the order
        await asyncio.gather(
            api_cancel(fleet, key, order_id), change_status(fleet, order_id, "Completed")
        )

    async with fleet.db.read() as conn:
        requests = (
            await conn.execute(
                select(cancel_requests.c.id, cancel_requests.c.status, orders.c.status)
                .join(orders, orders.c.id == cancel_requests.c.order_id)
                .where(orders.c.id.in_(placed))
            )
        ).all()
    stale = [row for row in requests if row[1] == "Pending"]
    assert stale == [], f"{len(stale)} of {RACES} Completed orders keep a Pending cancel request"
    # However late the operator answers, a completed order is neither canceled nor refunded.
    accepted = [await accept_cancel(fleet, row.id) for row in requests]
    assert [change for change in accepted if not isinstance(change, Refusal)] == []
    state = await books(fleet, customer_id)
    assert state["refunds"] == [] and state["balance"] == charged
    assert {row.status for row in state["orders"].values()} == {"Completed"}
    assert state["audit"] == []


async def deposit(fleet: Fleet, customer_id: int, amount: str) -> None:
    async with fleet.db.write() as conn:
        await adjust_funds(conn, customer_id, to_micros(parse(amount)), "top-up")


async def test_adds_deposits_and_refunds_at_once_keep_the_books(fleet: Fleet) -> None:
    # 0.5 an order. After 4 orders: 3.00 left, then 10 deposits of 0.25 and 4 refunds of 0.50
    # race 40 new orders: at least 6 and at most 15 of them can be paid.
    customer_id, key = await fleet.shop.customer("5")
    service = await fleet.shop.service(rate="0.5", min_quantity=10, max_quantity=10_000)
    first = successes(await fire(fleet, add_requests(key, service, "mixed", 4)))
    assert len(first) == 4
    adds = add_requests(key, service, "mixed-more", 40)

    results = await asyncio.gather(
        fire(fleet, adds),
        *(deposit(fleet, customer_id, "0.25") for _ in range(10)),
        *(change_status(fleet, order_id, "Canceled") for order_id in first),
    )

    placed = successes(results[0])
    assert 6 <= len(placed) <= 15
    assert all(reply == {"error": NOT_ENOUGH_FUNDS} for reply in results[0] if "error" in reply)
    state = await books(fleet, customer_id)
    assert sorted(state["orders"]) == sorted(first + placed)
    # opening + deposits - every charge + the refunds of the first four
    paid_for = Decimal("0.5") * (len(first) + len(placed))
    refunded = Decimal("0.5") * len(first)
    expected = Decimal("5") + 10 * Decimal("0.25") - paid_for + refunded
    assert state["balance"] == to_micros(expected)
    assert len(state["refunds"]) == len(first)
    assert state["audit"] == []


# Cancels the given orders in its own process, once every process has said it is ready.
CANCEL_IN_A_PROCESS = """
import asyncio, json, sys
from smmpanel.db import Database
from smmpanel.orders.lifecycle import update_order

async def main(url, order_ids):
    db = Database(url, pool_size=2)
    print("ready", flush=True)
    sys.stdin.readline()
    refunded = {}
    for order_id in order_ids:
        async with db.write() as conn:
            refunded[order_id] = (await update_order(conn, order_id, status="Canceled")).refunded
    await db.dispose()
    print(json.dumps(refunded), flush=True)

asyncio.run(main(sys.argv[1], [int(arg) for arg in sys.argv[2:]]))
"""


def cancel_from_processes(database_url: str, order_ids: list[int], processes: int) -> list[dict]:
    """Each process cancels every order (each in its own order); their refunds by order."""
    started = []
    for n in range(processes):
        ids = order_ids[n % len(order_ids) :] + order_ids[: n % len(order_ids)]
        started.append(
            subprocess.Popen(
                [sys.executable, "-c", CANCEL_IN_A_PROCESS, database_url, *map(str, ids)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    for process in started:
        assert process.stdout.readline().strip() == "ready"
    for process in started:
        process.stdin.write("go\n")
        process.stdin.flush()
    results = []
    for process in started:
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        results.append({int(k): v for k, v in json.loads(out).items()})
    return results


async def test_cancels_from_several_processes_refund_once(fleet: Fleet) -> None:
    customer_id, _, placed = await place_orders(fleet, 6)

    results = await asyncio.to_thread(cancel_from_processes, fleet.database_url, placed, 4)

    state = await books(fleet, customer_id)
    for order_id in placed:
        refunded_by = [result[order_id] for result in results if result[order_id]]
        assert refunded_by == [state["orders"][order_id].charge]
    assert len(state["refunds"]) == len(placed)
    assert state["balance"] == to_micros(parse("50"))
    assert state["audit"] == []


async def test_adds_moves_and_folds_at_once_keep_the_order_counts_exact(fleet: Fleet) -> None:
    customer_id, key = await fleet.shop.customer("100")
    service = await fleet.shop.service(rate="0.5", min_quantity=10, max_quantity=10_000)
    first = successes(await fire(fleet, add_requests(key, service, "counted", 9)))
    folding = asyncio.Event()
    folder = asyncio.create_task(fold_until(folding, fleet))
    await asyncio.gather(
        fire(fleet, add_requests(key, service, "counted-more", 30)),
        *(
            change_status(fleet, order_id, status)
            for order_id, status in zip(
                first, ["In progress", "Completed", "Canceled"] * 3, strict=True
            )
        ),
    )
    folding.set()
    assert await folder > 0

    state = await books(fleet, customer_id)
    async with fleet.db.read() as conn:
        kept = dict(await customer_status_counts(conn, customer_id))
    assert kept == Counter(row.status for row in state["orders"].values())
    assert sum(kept.values()) == 39


async def fold_until(done: asyncio.Event, fleet: Fleet) -> int:
    """Folds the order count changes, again and again, until `done`; the changes folded."""
    folded = 0
    while not done.is_set():
        async with fleet.db.write() as conn:
            folded += await fold_changes(conn)
        await asyncio.sleep(0.005)
    return folded
