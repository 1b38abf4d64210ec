"""The hot path's own PostgreSQL connections: bounded, shared by waiting requests, replaced
when lost; key look-ups asked for together sent as one statement."""

import asyncio
import uuid

import pytest

from smmpanel.accounts.service import hash_key, revoke_api_key
from smmpanel.db import hotpath
from smmpanel.db.hotpath import AUTHENTICATE_SQL, HotReader, for_many_keys
from smmpanel.orders.placement import place_order
from smmpanel.orders.queries import status_statement


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite is read in-line: no connections to lend")
    return database_url


async def backends_named(reader: HotReader, name: str) -> int:
    [(count,)] = await reader.fetch_all(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = ?", name
    )
    return count


async def test_many_requests_share_at_most_size_connections(postgres_url):
    reader = HotReader(postgres_url + "?application_name=hot_bounded", pool_size=2)
    try:
        replies = await asyncio.gather(
            *(reader.fetch_all("SELECT ?::int, pg_sleep(0.01)", n) for n in range(40))
        )
        assert [rows[0][0] for rows in replies] == list(range(40))
        assert await backends_named(reader, "hot_bounded") == 2
    finally:
        await reader.close()


async def test_a_refused_statement_keeps_the_connection_and_a_lost_one_is_replaced(postgres_url):
    reader = HotReader(postgres_url + "?application_name=hot_replaced", pool_size=1)
    try:
        with pytest.raises(Exception, match="division by zero"):
            await reader.fetch_all("SELECT 1 / 0")
        [(pid,)] = await reader.fetch_all("SELECT pg_backend_pid()")
        assert await reader.fetch_all("SELECT pg_backend_pid()") == [(pid,)]  # the same one

        with pytest.raises(Exception, match="connection was closed"):  # it ends its own
            await reader.fetch_all("SELECT pg_terminate_backend(pg_backend_pid())")
        [(new_pid,)] = await reader.fetch_all("SELECT pg_backend_pid()")
        assert new_pid != pid
        assert await backends_named(reader, "hot_replaced") == 1
    finally:
        await reader.close()


async def test_each_statement_is_planned_once_not_at_every_execution(postgres_url):
    reader = HotReader(postgres_url, pool_size=1)
    statement = "SELECT count(*) FROM orders WHERE id = ?"
    try:
        for order_id in range(8):
            await reader.fetch_all(statement, order_id)
        [(generic, custom)] = await reader.fetch_all(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = ?",
            statement.replace("?", "$1"),
        )
        assert (generic, custom) == (8, 0)
    finally:
        await reader.close()


async def executions(reader: HotReader, sql: str) -> int:
    """How often this reader's one connection ran `sql` (a statement it prepared)."""
    numbered = hotpath._numbered(sql)
    rows = await reader.fetch_all(
        "SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE statement = ?",
        numbered,
    )
    return rows[0][0] if rows else 0


async def test_key_look_ups_asked_together_are_one_statement_each_answered_its_own(
    postgres_url, shop, db
):
    customers = [await shop.customer("1") for _ in range(3)]
    revoked_id, revoked_key = await shop.customer("1")
    async with db.write() as conn:
        [(key_id,)] = await conn.exec_driver_sql(
            f"SELECT id FROM api_keys WHERE customer_id = {revoked_id}"
        )
        await revoke_api_key(conn, key_id)
    keys = [key for _, key in customers] + ["no such key", revoked_key, customers[0][1]]
    reader = HotReader(postgres_url, pool_size=1)
    try:
        answers = await asyncio.gather(
            *(reader.fetch_by_key(AUTHENTICATE_SQL, hash_key(key)) for key in keys)
        )
        found = [[row[0] for row in rows] for rows in answers]
        ids = [customer_id for customer_id, _ in customers]
        assert found == [[ids[0]], [ids[1]], [ids[2]], [], [], [ids[0]]]
        assert await executions(reader, for_many_keys(AUTHENTICATE_SQL)) == 1
        assert await reader.fetch_by_key(AUTHENTICATE_SQL, hash_key(keys[1])) == answers[1]
        assert await executions(reader, for_many_keys(AUTHENTICATE_SQL)) == 2
    finally:
        await reader.close()


async def test_more_look_ups_than_a_statement_takes_are_split(postgres_url, shop, monkeypatch):
    monkeypatch.setattr(hotpath, "MAX_KEYS_PER_STATEMENT", 2)
    customers = [await shop.customer("1") for _ in range(5)]
    reader = HotReader(postgres_url, pool_size=1)
    try:
        answers = await asyncio.gather(
            *(reader.fetch_by_key(AUTHENTICATE_SQL, hash_key(key)) for _, key in customers)
        )
        assert [rows[0][0] for rows in answers] == [customer_id for customer_id, _ in customers]
        assert await executions(reader, for_many_keys(AUTHENTICATE_SQL)) == 3
    finally:
        await reader.close()


async def test_a_failed_look_up_fails_every_request_that_shared_it_and_no_other(postgres_url, shop):
    (_, key), (_, other_key) = await shop.customer("1"), await shop.customer("1")
    failing = AUTHENTICATE_SQL.replace("c.balance", "c.balance / 0", 1)
    reader = HotReader(postgres_url, pool_size=1)
    try:
        answers = await asyncio.gather(
            reader.fetch_by_key(failing, hash_key(key)),
            reader.fetch_by_key(failing, hash_key("no such key")),
            reader.fetch_by_key(AUTHENTICATE_SQL, hash_key(other_key)),
            return_exceptions=True,
        )
        assert ["division by zero" in str(answer) for answer in answers] == [True, True, False]
        assert len(answers[2]) == 1
    finally:
        await reader.close()


async def test_a_request_that_leaves_while_waiting_leaves_the_others_their_answers(
    postgres_url, shop
):
    customers = [await shop.customer("1") for _ in range(3)]
    reader = HotReader(postgres_url, pool_size=1)
    try:
        asking = [
            asyncio.create_task(reader.fetch_by_key(AUTHENTICATE_SQL, hash_key(key)))
            for _, key in customers
        ]
        await asyncio.sleep(0)  # all three have asked
        asking[1].cancel()
        answers = await asyncio.gather(*asking, return_exceptions=True)
        assert isinstance(answers[1], asyncio.CancelledError)
        assert [answers[0][0][0], answers[2][0][0]] == [customers[0][0], customers[2][0]]
    finally:
        await reader.close()


async def test_one_keys_status_look_ups_together_each_get_their_own_orders(postgres_url, shop, db):
    """One statement reads the key's orders among all the ids its requests asked for; each
    gets those among its own, or the row of NULLs when none is the caller's. Another key's
    look-up has a statement of its own."""
    (customer, key), (other, other_key) = await shop.customer("1"), await shop.customer("1")
    service = await shop.service()
    orders = {}
    async with db.write() as conn:
        for owner, name in ((customer, "a"), (customer, "b"), (other, "c")):
            link = f"https://example.com/{uuid.uuid4().hex}"
            fields = {"service": str(service), "link": link, "quantity": "100"}
            orders[name] = await place_order(conn, owner, fields)
    reader = HotReader(postgres_url, pool_size=1)
    sql, _ = status_statement(reader, [1])
    asked = [
        (key, [orders["a"]]),
        (key, [orders["b"], orders["c"]]),  # c is the other customer's
        (key, [orders["c"]]),
        (other_key, [orders["c"], orders["a"]]),
    ]
    try:
        answers = await asyncio.gather(
            *(reader.fetch_by_key(sql, hash_key(k), order_ids) for k, order_ids in asked)
        )
        found = [[(row[0], row[4]) for row in rows] for rows in answers]
        assert found == [
            [(customer, orders["a"])],
            [(customer, orders["b"])],
            [(customer, None)],
            [(other, orders["c"])],
        ]
        assert await executions(reader, sql) == 2
    finally:
        await reader.close()


@pytest.mark.fast
def test_only_a_statement_that_checks_one_key_and_takes_nothing_else_is_asked_for_many():
    assert for_many_keys(AUTHENTICATE_SQL).endswith(
        "WHERE k.key_hash = ANY(?) AND k.revoked_at IS NULL AND c.status = 'active'"
    )
    with pytest.raises(ValueError, match="checks one key"):
        for_many_keys("SELECT 1")
    with pytest.raises(ValueError, match="checks one key"):
        for_many_keys(hotpath.CALLER_STATUS_SQL.format(among="o.id = ANY(?)"))
