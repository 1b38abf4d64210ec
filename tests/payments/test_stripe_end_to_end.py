"""Stripe Checkout end to end: a customer on a panel process starts a payment, localstripe
holds the session, and the signed `checkout.session.completed` event localstripe itself posts
to the panel's webhook credits it, once, however often it is replayed. On SQLite and
PostgreSQL, each panel on a database of its own."""

# The fixtures imported from stripe_fixtures are parameters of the tests below.
# ruff: noqa: F811

import asyncio
import hmac
import re
import time
import uuid
from collections.abc import AsyncIterator
from hashlib import sha256

import httpx
import pytest_asyncio
from harness import PanelProcess, panel_of_its_own, payment_method
from pages.page_client import PageClient, customer_with_password
from sqlalchemy import select
from stripe_fixtures import (  # noqa: F401 - fixtures
    SECRET_KEY,
    WEBHOOK_SECRET,
    LocalStripe,
    localstripe,
)

from smmpanel.accounts.audit import audit
from smmpanel.accounts.service import balance_of
from smmpanel.db import Database
from smmpanel.money import parse, to_micros
from smmpanel.payments.methods import add_method
from smmpanel.payments.models import payment_notices
from smmpanel.payments.service import payment_rows


def micros(amount: str) -> int:
    return to_micros(parse(amount))


@pytest_asyncio.fixture(scope="module")
async def stripe_panel(
    backend, tmp_path_factory, localstripe: LocalStripe
) -> AsyncIterator[tuple[PanelProcess, Database, str]]:
    async with panel_of_its_own(backend, tmp_path_factory.mktemp("stripe")) as (process, database):
        async with database.write() as conn:
            method_id = await add_method(
                conn,
                **payment_method(
                    gateway="stripe",
                    currency="USD",
                    min_amount=micros("1"),
                    max_amount=micros("1000"),
                    settings={
                        "secret_key": SECRET_KEY,
                        "webhook_secret": WEBHOOK_SECRET,
                        "base_url": localstripe.url,
                    },
                ),
            )
        hook = f"panel-{uuid.uuid4().hex[:8]}"
        async with httpx.AsyncClient() as http:
            registered = await http.post(
                f"{localstripe.url}/_config/webhooks/{hook}",
                json={
                    "url": f"{process.url}/payments/stripe/webhook",
                    "secret": WEBHOOK_SECRET,
                    "events": ["checkout.session.completed"],
                },
            )
            registered.raise_for_status()
        yield process, database, str(method_id)


async def paying_customer(stripe_panel, amount: str) -> tuple[PageClient, int, str]:  # type: ignore[no-untyped-def]
    """A customer who chose Stripe: (client, customer id, the Checkout Session's id)."""
    process, database, method_id = stripe_panel
    customer_id, name = await customer_with_password(database)
    client = PageClient(process.url)
    assert (await client.sign_in(name)).status_code == 303
    response = await client.submit(
        "/funds/pay", {"method": method_id, "amount": amount}, page="/funds"
    )
    assert response.status_code == 200
    assert re.search(r'id="gateway-link" href="[^"]+"', response.text)
    async with database.read() as conn:
        (payment,) = await payment_rows(conn, customer_id=customer_id)
    return client, customer_id, payment.gateway_id


async def eventually_paid(database: Database, customer_id: int) -> None:
    for _ in range(300):
        async with database.read() as conn:
            (payment,) = await payment_rows(conn, customer_id=customer_id)
        if payment.status == "paid":
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"payment {payment.id} is still {payment.status}")


async def test_the_event_localstripe_posts_credits_the_payment_once(
    stripe_panel, localstripe: LocalStripe
):
    _process, database, _method = stripe_panel
    client, customer_id, session_id = await paying_customer(stripe_panel, "12.50")
    assert localstripe.session(session_id)["amount_total"] == 1250

    localstripe.pay(session_id)

    await eventually_paid(database, customer_id)
    async with database.read() as conn:
        assert await balance_of(conn, customer_id) == micros("12.50")
        assert await audit(conn) == []
    await client.close()


async def test_a_replayed_event_is_answered_and_credits_nothing_more(
    stripe_panel, localstripe: LocalStripe
):
    process, database, _method = stripe_panel
    client, customer_id, session_id = await paying_customer(stripe_panel, "30")
    localstripe.pay(session_id)
    await eventually_paid(database, customer_id)
    async with database.read() as conn:
        (payment,) = await payment_rows(conn, customer_id=customer_id)
        body, headers = await _first_notice(conn, payment.id)

    async with httpx.AsyncClient() as http:
        replies = await asyncio.gather(
            *(
                http.post(f"{process.url}/payments/stripe/webhook", content=body, headers=headers)
                for _ in range(20)
            )
        )

    assert {reply.status_code for reply in replies} == {200}
    async with database.read() as conn:
        assert await balance_of(conn, customer_id) == micros("30")
    await client.close()


async def _first_notice(conn, payment_id: int) -> tuple[bytes, dict[str, str]]:  # type: ignore[no-untyped-def]
    """The event the panel took, re-signed now (a replay within Stripe's five minutes)."""
    body = await conn.scalar(
        select(payment_notices.c.body)
        .where(payment_notices.c.payment_id == payment_id)
        .order_by(payment_notices.c.id)
        .limit(1)
    )
    stamp = str(int(time.time()))
    signature = hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.{body}".encode(), sha256).hexdigest()
    return body.encode(), {
        "stripe-signature": f"t={stamp},v1={signature}",
        "content-type": "application/json",
    }
