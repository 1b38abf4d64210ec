"""The /funds preview ("You pay ...", written by funds.js as an amount is typed) follows the
pages' money rules: the server gives the script how it writes each currency's amounts."""

import html
import json
import re
from collections.abc import AsyncIterator

import pytest_asyncio
from harness import PanelProcess, panel_of_its_own, payment_method
from page_client import PageClient, customer_with_password

from smmpanel.db import Database
from smmpanel.money import parse, to_micros
from smmpanel.pagekit.money_format import format_money
from smmpanel.payments.methods import add_method


@pytest_asyncio.fixture(scope="module")
async def till(backend, tmp_path_factory) -> AsyncIterator[tuple[PanelProcess, Database]]:
    async with panel_of_its_own(backend, tmp_path_factory.mktemp("preview")) as panel:
        process, db = panel
        async with db.write() as conn:
            await add_method(
                conn, **payment_method(currency="TWD", min_amount=to_micros(parse("1234.5")))
            )
        yield panel


def shapes_of(page: str) -> dict:
    found = re.search(r'data-money="([^"]*)"', page)
    assert found, "the preview has the money shapes"
    return json.loads(html.unescape(found.group(1)))


def written(shape: dict, whole: str, fraction: str) -> str:
    """An amount as funds.js writes it with this shape (groups of 3 here)."""
    groups = re.findall(r"\d{1,3}(?=(?:\d{3})*$)", whole)
    return (
        shape["prefix"]
        + shape["group"].join(groups)
        + shape["decimal"]
        + fraction
        + shape["suffix"]
    )


async def test_the_preview_writes_amounts_as_the_server_does(till):
    process, db = till
    _, name = await customer_with_password(db)
    client = PageClient(process.url)
    try:
        await client.sign_in(name)
        for language in ("en", "zh_TW"):
            await client.get(f"/language/{language}")
            page = await client.page("/funds")
            shapes = shapes_of(page)
            assert set(shapes) >= {"TWD", "USD"}, "each method's currency and the panel's"
            server = format_money(to_micros(parse("1234.5")), "amount", language, "TWD")
            assert server in html.unescape(page), "the minimum as the methods table shows it"
            assert written(shapes["TWD"], "1234", "50") == server
            assert shapes["TWD"]["grouping"] == [3, 3]
            assert "%(currency)s" not in page and "%(panel_currency)s" not in page
    finally:
        await client.close()
