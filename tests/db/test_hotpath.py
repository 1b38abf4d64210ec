"""The hot path's own PostgreSQL connections: bounded, shared by waiting requests, replaced
when lost."""

import asyncio

import pytest

from smmpanel.db.hotpath import HotReader


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
