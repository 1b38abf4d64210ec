"""Cryptomus end to end: a customer on a panel process (its currency TWD) pays a USDT invoice
the fake Cryptomus created, and the fake's signed webhooks settle it: paid credits at the
method's rate once, paid_over credits what was paid, wrong_amount goes to review, a webhook
signed with another key changes nothing. On SQLite and PostgreSQL."""

# The fixtures imported from cryptomus_fixtures are parameters of the tests below.
# ruff: noqa: F811

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from cryptomus_fixtures import FakeCryptomus, shared_cryptomus  # noqa: F401 - fixtures
from fakes.cryptomus import webhook_body, webhook_fields
from harness import PanelProcess, panel_of_its_own, payment_method
from pages.page_client import PageClient, customer_with_password

from smmpanel.accounts.audit import audit
from smmpanel.accounts.service import balance_of
from smmpanel.db import Database
from smmpanel.money import parse, to_micros
from smmpanel.panel.service import change_settings
from smmpanel.payments.methods import add_method
from smmpanel.payments.service import Payment, payment_by_id, payment_rows


def micros(amount: str) -> int:
    return to_micros(parse(amount))


@pytest_asyncio.fixture(scope="module")
async def crypto_panel(
    backend, tmp_path_factory, shared_cryptomus: FakeCryptomus
) -> AsyncIterator[tuple[PanelProcess, Database, str]]:
    folder = tmp_path_factory.mktemp("cryptomus")
    async with panel_of_its_own(backend, folder) as (process, database):
        async with database.write() as conn:
            await change_settings(conn, currency="TWD")
            method_id = await add_method(
                conn,
                **payment_method(
                    gateway="cryptomus",
                    currency="USDT",
                    rate=micros("31.5"),
                    min_amount=micros("5"),
                    max_amount=micros("5000"),
                    settings=shared_cryptomus.settings(),
                ),
            )
        yield process, database, str(method_id)


async def invoice_for(crypto_panel, amount: str) -> tuple[int, Payment]:  # type: ignore[no-untyped-def]
    """A customer who chose USDT and was sent to the invoice: (customer id, the payment)."""
    process, database, method_id = crypto_panel
    customer_id, name = await customer_with_password(database)
    client = PageClient(process.url)
    assert (await client.sign_in(name)).status_code == 303
    response = await client.submit(
        "/funds/pay", {"method": method_id, "amount": amount}, page="/funds"
    )
    assert response.status_code == 200
    assert 'id="gateway-link"' in response.text
    await client.close()
    async with database.read() as conn:
        (row,) = await payment_rows(conn, customer_id=customer_id)
        return customer_id, await payment_by_id(conn, row.id)


async def settled(crypto_panel, customer_id: int, payment_id: int) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    _process, database, _method = crypto_panel
    async with database.read() as conn:
        assert await audit(conn) == []
        payment = await payment_by_id(conn, payment_id)
        return payment.status, await balance_of(conn, customer_id)


async def test_a_paid_invoice_credits_at_the_rate_once_however_often_it_is_sent(
    crypto_panel, shared_cryptomus: FakeCryptomus
):
    customer_id, payment = await invoice_for(crypto_panel, "10")
    assert shared_cryptomus.invoice(payment.gateway_id)["amount"] == "10.00000000"

    sent = await shared_cryptomus.notify(payment.gateway_id, status="paid")
    assert sent["status"] == 200
    process, _database, _method = crypto_panel
    async with httpx.AsyncClient() as http:
        replays = await asyncio.gather(
            *(
                http.post(f"{process.url}/payments/cryptomus/webhook", content=sent["sent"])
                for _ in range(20)
            )
        )

    assert {reply.status_code for reply in replays} == {200}
    assert await settled(crypto_panel, customer_id, payment.id) == ("paid", micros("315"))


async def test_paying_over_credits_what_was_paid_and_too_little_waits_for_review(
    crypto_panel, shared_cryptomus: FakeCryptomus
):
    over_customer, over = await invoice_for(crypto_panel, "10")
    short_customer, short = await invoice_for(crypto_panel, "10")

    await shared_cryptomus.notify(over.gateway_id, status="paid_over", payer_amount="12")
    await shared_cryptomus.notify(short.gateway_id, status="wrong_amount", payer_amount="7")

    assert await settled(crypto_panel, over_customer, over.id) == ("paid", micros("378"))
    assert await settled(crypto_panel, short_customer, short.id) == ("review", 0)


async def test_a_webhook_signed_with_another_key_changes_nothing(
    crypto_panel, shared_cryptomus: FakeCryptomus
):
    customer_id, payment = await invoice_for(crypto_panel, "10")
    forged = webhook_body(
        webhook_fields(payment.gateway_id, "10", "USDT", "paid"), key="not-the-payment-key"
    )
    process, _database, _method = crypto_panel

    async with httpx.AsyncClient() as http:
        reply = await http.post(f"{process.url}/payments/cryptomus/webhook", content=forged)

    assert reply.status_code == 400
    assert await settled(crypto_panel, customer_id, payment.id) == ("pending", 0)
