"""The customer's language for e-mails (kept when they switch language, or choose one on
/account), asking about an order from its page, and a provider's balance alert threshold."""

import uuid

from page_client import text_of, unique
from sqlalchemy import select
from test_tickets import an_order, opened, reply_as_operator, signed_in_customer

from smmpanel.accounts.models import customers
from smmpanel.accounts.operator_audit import operator_audit
from smmpanel.outbox.models import outbox
from smmpanel.providers.models import providers
from smmpanel.providers.service import add_provider


async def language_of(db, customer_id: int) -> str | None:
    async with db.read() as conn:
        return await conn.scalar(select(customers.c.language).where(customers.c.id == customer_id))


async def test_a_customer_who_chose_zh_tw_gets_the_ticket_reply_in_traditional_chinese(
    panel, db, operator
):
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    client, customer_id, _ = await signed_in_customer(panel, db, email=email)
    try:
        assert await language_of(db, customer_id) is None
        switched = await client.get("/language/zh_TW", next="/tickets")
        assert switched.status_code in (302, 303)
        assert await language_of(db, customer_id) == "zh_TW"
        ticket_id = await opened(client, title="我的訂單呢")
    finally:
        await client.close()
    assert (await reply_as_operator(operator, ticket_id, "On its way.")).status_code == 303
    async with db.read() as conn:
        subjects = list(
            await conn.scalars(select(outbox.c.subject).where(outbox.c.recipient == email))
        )
    assert len(subjects) == 1
    assert f"您的工單 #{ticket_id} 有新回覆：我的訂單呢" in subjects[0]


async def test_the_language_chosen_on_the_account_page_is_kept_for_mails(customer, db):
    client, customer_id = customer
    fields = {"language": "zh_TW", "time_zone": ""}
    assert (await client.submit("/account/preferences", fields, page="/account")).is_redirect
    assert await language_of(db, customer_id) == "zh_TW"
    fields = {"language": "en", "time_zone": ""}
    assert (await client.submit("/account/preferences", fields, page="/account")).is_redirect
    assert await language_of(db, customer_id) == "en"
    refused = await client.submit(
        "/account/preferences", {"language": "xx", "time_zone": ""}, page="/account"
    )
    assert refused.status_code == 400
    assert await language_of(db, customer_id) == "en"


async def test_asking_about_an_order_fills_in_the_new_tickets_order_and_subject(customer, db, shop):
    client, customer_id = customer
    order_id = await an_order(db, shop, customer_id)
    order_page = await client.page(f"/orders/{order_id}")
    assert f'href="/tickets?order={order_id}#new-ticket"' in order_page
    assert "Ask about this order" in text_of(order_page)
    form = await client.page("/tickets", order=str(order_id))
    assert f'name="order_ids" inputmode="numeric" autocomplete="off" value="{order_id}"' in form
    assert '<option value="order" selected>' in form
    plain = await client.page("/tickets", order="not-an-id")
    assert 'autocomplete="off" value=""' in plain and " selected>" not in plain
    ticket_id = await opened(client, order_ids=str(order_id), title=unique("about"))
    assert f'href="/orders/{order_id}"' in await client.page(f"/tickets/{ticket_id}")


async def test_a_providers_balance_alert_threshold_is_edited_on_its_page(operator, db):
    async with db.write() as conn:
        provider_id = await add_provider(conn, unique("up"), "https://up.example/api/v2", "key", 5)
    page = f"/admin/providers/{provider_id}"
    fields = {"api_url": "https://up.example/api/v2", "timeout_seconds": "5", "sync_hours": "6"}

    async def threshold() -> int | None:
        async with db.read() as conn:
            query = select(providers.c.balance_alert_below).where(providers.c.id == provider_id)
            return await conn.scalar(query)

    saved = await operator.submit(page, {**fields, "balance_alert_below": "12.5"}, page=page)
    assert saved.status_code == 303
    assert await threshold() == 12_500_000
    assert 'name="balance_alert_below" value="12.50"' in await operator.follow(saved)
    async with db.read() as conn:
        detail = await conn.scalar(
            select(operator_audit.c.detail)
            .where(operator_audit.c.subject == f"provider:{provider_id}")
            .order_by(operator_audit.c.id.desc())
        )
    assert "alert below=12.50" in detail

    for bad in ("-1", "ten", "1.1234567"):
        refused = await operator.submit(page, {**fields, "balance_alert_below": bad}, page=page)
        assert refused.status_code == 400, bad
        assert "Alert when the balance there is below" in text_of(refused.text)
    assert await threshold() == 12_500_000

    await operator.submit(page, {**fields, "balance_alert_below": ""}, page=page)
    assert await threshold() is None
