"""The messages the panel's events queue, in the same transaction as the event: an operator
alert when an order falls into doubt or a payment is held for review, a mail to the customer
when an order of theirs is canceled or delivered in part (unless they turned those off or have
no address) and a receipt when a payment is credited."""

import uuid
from collections.abc import Callable
from datetime import timedelta

from conftest import FakeTelegram
from harness import payment_method
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers
from smmpanel.accounts.service import create_customer
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.config import Settings
from smmpanel.db import Database
from smmpanel.db.base import utcnow
from smmpanel.orders.lifecycle import Progress, settle_finished, update_order
from smmpanel.orders.models import orders
from smmpanel.orders.placement import place_order
from smmpanel.orders.statuses import CANCELED, FORWARD_SENDING, PARTIAL, PENDING
from smmpanel.outbox.channels import configured_senders
from smmpanel.outbox.models import outbox
from smmpanel.outbox.sending import RetryPolicy, send_due
from smmpanel.payments.gateways import PAID as NOTICE_PAID
from smmpanel.payments.gateways import Notice
from smmpanel.payments.methods import add_method, method_by_id
from smmpanel.payments.service import apply_notice, approve, open_payment, payment_by_id
from smmpanel.providers.forwarding import sweep_stale_sending
from smmpanel.providers.service import add_provider

POLICY = RetryPolicy(max_attempts=3, first_wait=timedelta(seconds=30), alerts_per_minute=20)


async def new_order(
    conn: AsyncConnection, email: str | None = None, mail_order_updates: bool = True
) -> int:
    name = f"reader-{uuid.uuid4().hex[:10]}"
    customer_id = await create_customer(conn, name, 100_000_000, email=email)
    await conn.execute(
        update(customers)
        .where(customers.c.id == customer_id)
        .values(mail_order_updates=mail_order_updates)
    )
    service_id = await create_service(
        conn,
        await category_id_for(conn, "Outbox tests"),
        name=f"Service {uuid.uuid4().hex[:6]}",
        type="Default",
        rate=1_000_000,
        min_quantity=10,
        max_quantity=10_000,
    )
    link = f"https://instagram.com/p/{uuid.uuid4().hex[:12]}"
    return await place_order(
        conn, customer_id, {"service": str(service_id), "link": link, "quantity": "1000"}
    )


async def queued(db: Database) -> dict[str, tuple[str, str, str]]:
    """The queued messages by dedup key: (recipient, subject, body)."""
    async with db.read() as conn:
        rows = await conn.execute(
            select(outbox.c.dedup_key, outbox.c.recipient, outbox.c.subject, outbox.c.body)
        )
        return {row.dedup_key: (row.recipient, row.subject, row.body) for row in rows}


async def test_an_order_put_in_doubt_alerts_the_operators_once(
    outbox_db: Database, telegram: FakeTelegram, alert_settings: Callable[..., Settings]
) -> None:
    async with outbox_db.write() as conn:
        order_id = await new_order(conn)
        provider_id = await add_provider(conn, "Upstream", "https://up.example/api/v2", "k")
        await conn.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(
                provider_id=provider_id,
                forward_state=FORWARD_SENDING,
                sending_since=utcnow() - timedelta(hours=1),
            )
        )

    assert await sweep_stale_sending(outbox_db, timedelta(seconds=60)) == 1
    assert await sweep_stale_sending(outbox_db, timedelta(seconds=60)) == 0

    (key,) = await queued(outbox_db)
    assert key == f"alert:order_doubt:{order_id}:telegram"
    await send_due(outbox_db, configured_senders(alert_settings()), POLICY)
    (told,) = telegram.received
    assert f"Order #{order_id} in doubt" in told["text"]
    assert f"/admin/orders/{order_id}" in told["text"]


async def test_an_order_canceled_or_partial_mails_the_customer_who_wants_it(
    outbox_db: Database,
) -> None:
    async with outbox_db.write() as conn:
        canceled = await new_order(conn, email="gus@example.com")
        partial = await new_order(conn, email="hal@example.com")
        settled_in_bulk = await new_order(conn, email="ivy@example.com")
        turned_off = await new_order(conn, email="jo@example.com", mail_order_updates=False)
        no_address = await new_order(conn)
    async with outbox_db.write() as conn:
        await update_order(conn, canceled, status=CANCELED)
        await update_order(conn, partial, status=PARTIAL, remains=400)
        await update_order(conn, turned_off, status=CANCELED)
        await update_order(conn, no_address, status=CANCELED)
        left = await settle_finished(
            conn, [Progress(settled_in_bulk, seen_status=PENDING, status=PARTIAL, remains=250)]
        )
    assert left == []

    mails = await queued(outbox_db)
    assert set(mails) == {
        f"order_canceled:{canceled}",
        f"order_partial:{partial}",
        f"order_partial:{settled_in_bulk}",
    }
    to, subject, body = mails[f"order_canceled:{canceled}"]
    assert to == "gus@example.com"
    assert subject.endswith(f"Order #{canceled} canceled")
    assert f"/orders/{canceled}" in body
    to, subject, body = mails[f"order_partial:{partial}"]
    assert to == "hal@example.com" and "400 were not delivered" in body
    assert "250 were not delivered" in mails[f"order_partial:{settled_in_bulk}"][2]


async def test_a_payment_held_for_review_alerts_and_a_paid_one_mails_a_receipt(
    outbox_db: Database, telegram: FakeTelegram, alert_settings: Callable[..., Settings]
) -> None:
    async with outbox_db.write() as conn:
        customer_id = await create_customer(conn, f"payer-{uuid.uuid4().hex[:8]}", email="lu@x.io")
        method = await method_by_id(conn, await add_method(conn, **payment_method()))
        held = await open_payment(conn, customer_id, method, 1_000_000_000, timedelta(days=1))
        paid = await open_payment(conn, customer_id, method, 300_000_000, timedelta(days=1))
        short = Notice("g", NOTICE_PAID, amount=900_000_000, currency="TWD")
        outcome = await apply_notice(
            conn, await payment_by_id(conn, held), short, merchant=None, live=False
        )
        assert outcome.startswith("review")
        await approve(conn, paid)

    messages = await queued(outbox_db)
    assert set(messages) == {
        f"alert:payment_review:{held}:telegram",
        f"deposit_receipt:{paid}",
    }
    assert f"/admin/payments/{held}" in messages[f"alert:payment_review:{held}:telegram"][2]
    to, subject, body = messages[f"deposit_receipt:{paid}"]
    assert to == "lu@x.io" and "300.00" in subject and f"/funds/payments/{paid}" in body
