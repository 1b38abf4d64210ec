"""add placed below SQLAlchemy (db/placing.py): the same rows, the same refusals, and on SQLite
the ordinary way when another writer holds the lock."""

import asyncio
import re
import sqlite3
from decimal import Decimal

import pytest
from api_helpers import new_link
from sqlalchemy import make_url, select

from smmpanel.accounts.models import ledger_entries
from smmpanel.orders.models import orders

ACTIVE_LINK = "You have active order with this link. Please wait until order being completed."
NO_FUNDS = {"error": "Not enough funds on balance"}
# How SQLAlchemy writes a timestamp to SQLite: rows of both ways must compare and sort alike.
SQLITE_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")


async def test_an_active_link_is_refused_as_such_when_funds_are_short_too(api, shop, place):
    _, key = await shop.customer("0.1")
    service = await shop.service(rate="1")
    link = new_link()
    await place(key, service, link=link, quantity="100")
    assert await api.balance(key) == Decimal("0")
    again = await api.call(key=key, action="add", service=service, link=link, quantity="100")
    assert again == {"error": ACTIVE_LINK}
    other_link = await api.call(
        key=key, action="add", service=service, link=new_link(), quantity="100"
    )
    assert other_link == NO_FUNDS


async def test_the_order_and_its_ledger_row_are_written_as_the_rest_of_the_panel_writes_them(
    api, shop, place, db, check_books
):
    customer_id, key = await shop.customer("5")
    service = await shop.service(rate="2.5")
    order_id = await place(key, service, link=new_link(), quantity="1000")
    async with db.read() as conn:
        order = (await conn.execute(select(orders).where(orders.c.id == order_id))).one()
        [entry] = (
            await conn.execute(select(ledger_entries).where(ledger_entries.c.order_id == order_id))
        ).all()
    assert (order.customer_id, order.charge, order.status) == (customer_id, 2_500_000, "Pending")
    assert (entry.customer_id, entry.amount, entry.kind, entry.cause, entry.reason) == (
        customer_id,
        -2_500_000,
        "charge",
        "charge",
        f"order {order_id}",
    )
    assert entry.created_at == order.created_at
    await check_books()


async def test_sqlite_timestamps_are_stored_in_sqlalchemys_text(
    backend, api, shop, place, db, database_url
):
    if backend != "sqlite":
        pytest.skip("SQLite stores timestamps as text")
    _, key = await shop.customer("5")
    order_id = await place(key, await shop.service(rate="1"), link=new_link(), quantity="100")
    with sqlite3.connect(make_url(database_url).database) as raw:
        created, updated = raw.execute(
            "SELECT created_at, updated_at FROM orders WHERE id = ?", (order_id,)
        ).fetchone()
        [ledger_created] = raw.execute(
            "SELECT created_at FROM ledger_entries WHERE order_id = ?", (order_id,)
        ).fetchone()
    assert SQLITE_TIMESTAMP.fullmatch(created) and created == updated == ledger_created


async def test_an_add_waits_while_another_process_holds_sqlites_write_lock(
    backend, api, shop, orders_of, database_url, check_books
):
    if backend != "sqlite":
        pytest.skip("PostgreSQL has no database-wide write lock")
    customer_id, key = await shop.customer("1")
    service = await shop.service(rate="1")
    holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        add = asyncio.create_task(
            api.call(key=key, action="add", service=service, link=new_link(), quantity="100")
        )
        await asyncio.sleep(1.0)
        assert not add.done(), "the add went through while another process held the lock"
        holder.execute("COMMIT")
        reply = await asyncio.wait_for(add, timeout=30)
    finally:
        holder.close()
    assert reply["status"] == "success"
    assert await orders_of(customer_id) == [reply["order"]]
    assert await api.balance(key) == Decimal("0.9")
    await check_books()
