"""An order in doubt settled on its own page (and who settled it), and a cancel request of a
forwarded order shown with what its upstream answered, on the operator's and the customer's
order pages; on both databases through the real panel, the upstream a fake one."""

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from page_client import customer_with_password, text_of, unique
from providers.forwarding_fixtures import FakeUpstream
from sqlalchemy import update
from test_admin_orders import RATE, balance, in_doubt_order, order_row, place, refunds_of

from smmpanel.catalog.models import FULFIL_PROVIDER
from smmpanel.orders.models import orders
from smmpanel.orders.statuses import CANCELED, FORWARD_IN_DOUBT, FORWARD_SENT, PENDING
from smmpanel.providers.client import UpstreamClient, upstream_session
from smmpanel.providers.requests_forwarding import forward_cancels
from smmpanel.providers.service import add_provider


async def settle(operator, order_id: int, resolution: str, back: str, upstream_id: str = ""):
    fields = {"resolution": resolution, "upstream_order_id": upstream_id, "back": back}
    page = f"/admin/orders/{order_id}"
    return await operator.submit(f"/admin/orders/{order_id}/resolve", fields, page=page)


async def test_a_doubt_is_settled_on_the_orders_page_and_names_the_operator(operator, db, shop):
    customer_id, _ = await customer_with_password(db, balance="100")
    order_id, _ = await in_doubt_order(db, shop, customer_id)
    own_page = f"/admin/orders/{order_id}"
    charge = (await order_row(db, order_id)).charge
    before = await balance(db, customer_id)
    page = await operator.page(own_page)
    assert f'action="/admin/orders/{order_id}/resolve"' in page
    assert f'name="back" value="{own_page}"' in page

    refused = await settle(operator, order_id, "sent", own_page, "")
    assert refused.status_code == 400 and "Type the order's id" in text_of(refused.text)
    assert f"<h1>Order {order_id}</h1>" in refused.text
    assert (await order_row(db, order_id)).forward_state == FORWARD_IN_DOUBT

    response = await settle(operator, order_id, "cancel", own_page)

    assert response.headers["location"] == own_page
    shown = text_of(await operator.follow(response))
    assert f"Order {order_id} is canceled" in shown
    assert "Changes by operators" in shown and "order.resolve cancel" in shown
    assert (await order_row(db, order_id)).status == CANCELED
    assert await refunds_of(db, order_id) == [(charge, "refund:cancel")]
    assert await balance(db, customer_id) == before + charge
    assert "Settle the doubt" not in shown


async def test_back_leads_only_to_the_orders_page_or_the_doubts_list(operator, db, shop):
    customer_id, _ = await customer_with_password(db, balance="100")
    first, _ = await in_doubt_order(db, shop, customer_id)
    second, _ = await in_doubt_order(db, shop, customer_id)
    for order_id, back in (
        (first, "https://evil.example/admin/orders/1"),
        (second, f"/admin/orders/{first}"),
    ):
        response = await settle(operator, order_id, "resend", back)
        assert response.headers["location"] == "/admin/orders/doubts"


# ---- cancel requests carried upstream


@pytest.fixture(scope="module")
def fake_upstream() -> Iterator[FakeUpstream]:
    upstream = FakeUpstream()
    yield upstream
    upstream.stop()


@pytest_asyncio.fixture
async def client() -> AsyncIterator[UpstreamClient]:
    async with upstream_session() as http:
        yield UpstreamClient(http)


async def sent_order(db, shop, api_url: str, customer_id: int) -> int:
    """An order its provider took, as the sender leaves it."""
    async with db.write() as conn:
        provider_id = await add_provider(conn, unique("upstream"), api_url, "upstream-test-key")
    service_id = await shop.service(
        rate=RATE,
        fulfilment=FULFIL_PROVIDER,
        provider_id=provider_id,
        provider_service_id="1",
        cancel=True,
    )
    order_id = await place(db, customer_id, service_id)
    async with db.write() as conn:
        await conn.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(forward_state=FORWARD_SENT, upstream_order_id=str(uuid.uuid4().int % 10**12))
        )
    return order_id


async def test_a_forwarded_cancel_shows_what_the_upstream_answered(
    customer, operator, db, shop, fake_upstream, client
):
    browser, customer_id = customer
    accepted = await sent_order(db, shop, fake_upstream.api_url, customer_id)
    refused = await sent_order(db, shop, fake_upstream.api_url, customer_id)
    asked = await browser.submit(f"/orders/{accepted}/cancel", {}, page=f"/orders/{accepted}")
    assert "Not sent to the provider yet" in text_of(await browser.follow(asked))

    fake_upstream.control(cancel="ok")
    await forward_cancels(db, client)
    await browser.submit(f"/orders/{refused}/cancel", {}, page=f"/orders/{refused}")
    fake_upstream.control(cancel="error")
    try:
        await forward_cancels(db, client)
    finally:
        fake_upstream.control(cancel="ok")

    mine = text_of(await browser.page(f"/orders/{accepted}"))
    assert "Sent to the provider, which accepted it" in mine and PENDING in mine
    theirs = text_of(await operator.page(f"/admin/orders/{accepted}"))
    assert "Sent to the provider, which accepted it" in theirs
    mine = text_of(await browser.page(f"/orders/{refused}"))
    assert "Sent to the provider, which refused it" in mine
    assert "Cancel is not available" not in mine, "the upstream's own words are the operator's"
    theirs = text_of(await operator.page(f"/admin/orders/{refused}"))
    assert "Sent to the provider, which refused it" in theirs
    assert "rejected upstream: Cancel is not available" in theirs
