"""The order list's bulk actions (status, cancel and refund, send again after a doubt, start
count), each order changed on its own by the single-order functions, and the dashboard's
status counts linking to the filtered list; on both databases through the real panel."""

import re

from page_client import PageClient, text_of
from sqlalchemy import select
from test_admin_dashboard import worker_counts
from test_admin_orders import an_order, balance, in_doubt_order, order_row, place, refunds_of
from test_admin_roles import signed_in

from smmpanel.accounts.audit import audit
from smmpanel.accounts.operator_audit import operator_audit
from smmpanel.orders.statuses import (
    CANCELED,
    COMPLETED,
    FORWARD_QUEUED,
    FORWARD_WITHDRAWN,
    IN_PROGRESS,
    PENDING,
    PROCESSING,
)

BULK = "/admin/orders/bulk"


async def bulk(operator: PageClient, action: str, order_ids: list[int], **fields: object):
    back = f"/admin/orders?q={order_ids[0]}" if order_ids else "/admin/orders"
    items: list[tuple[str, object]] = [("order", order_id) for order_id in order_ids]
    items += [("action", action), ("back", back), *fields.items()]
    return await operator.submit(BULK, items, page="/admin/orders")


async def audit_details(db, order_id: int) -> list[tuple[str, str]]:
    async with db.read() as conn:
        query = (
            select(operator_audit.c.action, operator_audit.c.detail)
            .where(operator_audit.c.subject == f"order:{order_id}")
            .order_by(operator_audit.c.id)
        )
        return [tuple(row) for row in (await conn.execute(query)).all()]


async def books_are_right(db) -> None:
    async with db.read() as conn:
        assert await audit(conn) == []


async def three_orders(db, shop) -> tuple[int, list[int]]:
    customer_id, first = await an_order(db, shop)
    service_id = (await order_row(db, first)).service_id
    return customer_id, [
        first,
        await place(db, customer_id, service_id, 2000),
        await place(db, customer_id, service_id, 3000),
    ]


async def test_bulk_cancel_refunds_each_order_once_even_when_posted_twice(operator, db, shop):
    customer_id, order_ids = await three_orders(db, shop)
    charges = [(await order_row(db, order_id)).charge for order_id in order_ids]
    before = await balance(db, customer_id)

    response = await bulk(operator, "cancel", order_ids)

    assert response.headers["location"] == f"/admin/orders?q={order_ids[0]}"
    page = text_of(await operator.follow(response))
    assert "3 orders changed." in page and "Refunded" in page
    assert await balance(db, customer_id) == before + sum(charges)
    for order_id, charge in zip(order_ids, charges, strict=True):
        assert (await order_row(db, order_id)).status == CANCELED
        assert await refunds_of(db, order_id) == [(charge, "refund:cancel")]
        assert await audit_details(db, order_id) == [("order.change", "status=Canceled (bulk)")]

    again = text_of(await operator.follow(await bulk(operator, "cancel", order_ids)))

    assert "0 orders changed." in again and f"#{order_ids[1]}: Already Canceled" in again
    assert await balance(db, customer_id) == before + sum(charges)
    for order_id, charge in zip(order_ids, charges, strict=True):
        assert await refunds_of(db, order_id) == [(charge, "refund:cancel")]
        assert len(await audit_details(db, order_id)) == 1
    await books_are_right(db)


async def test_a_mixed_selection_changes_the_valid_orders_and_names_the_others(operator, db, shop):
    customer_id, (pending, completed, canceled) = await three_orders(db, shop)
    assert (await bulk(operator, "status", [completed], status=COMPLETED)).status_code == 303
    assert (await bulk(operator, "cancel", [canceled])).status_code == 303
    missing = 9_000_000_000_000
    before = await balance(db, customer_id)

    response = await bulk(
        operator, "status", [pending, completed, canceled, missing], status=PENDING
    )

    page = text_of(await operator.follow(response))
    assert "0 orders changed." in page
    assert f"#{pending}: Already Pending" in page
    assert f"#{completed}: It is Completed and cannot become Pending" in page
    assert f"#{missing}: No such order" in page

    response = await bulk(operator, "cancel", [pending, completed, canceled, missing])

    page = text_of(await operator.follow(response))
    assert "2 orders changed." in page and f"#{canceled}: Already Canceled" in page
    charges = [(await order_row(db, order_id)).charge for order_id in (pending, completed)]
    assert await balance(db, customer_id) == before + sum(charges)
    assert (await order_row(db, completed)).status == CANCELED
    await books_are_right(db)


async def test_bulk_status_follows_the_moves_the_order_page_allows(operator, db, shop):
    customer_id, (first, second, third) = await three_orders(db, shop)
    before = await balance(db, customer_id)

    moved = await bulk(operator, "status", [first, second], status=IN_PROGRESS)
    assert "2 orders changed." in text_of(await operator.follow(moved))
    assert (await order_row(db, first)).status == IN_PROGRESS
    assert await audit_details(db, first) == [("order.change", "status=In progress (bulk)")]

    await bulk(operator, "status", [third], status=COMPLETED)
    backwards = await bulk(operator, "status", [second, third], status=PROCESSING)
    page = text_of(await operator.follow(backwards))
    assert "1 order changed." in page
    assert f"#{third}: It is Completed and cannot become Processing" in page
    assert [(await order_row(db, i)).status for i in (second, third)] == [PROCESSING, COMPLETED]

    for status in ("Partial", "Canceled", "Finished", ""):
        refused = await bulk(operator, "status", [first], status=status)
        assert refused.status_code == 400
        assert "Choose the status to set from the list" in text_of(refused.text)
    subscription_only = await bulk(operator, "status", [first], status="Active")
    assert "It is In progress and cannot become Active" in text_of(
        await operator.follow(subscription_only)
    )
    assert await balance(db, customer_id) == before
    assert (await order_row(db, first)).status == IN_PROGRESS


async def test_send_again_only_the_orders_in_doubt(operator, db, shop):
    customer_id, by_hand = await an_order(db, shop)
    doubtful, _provider = await in_doubt_order(db, shop, customer_id)
    doubtful_too, _provider = await in_doubt_order(db, shop, customer_id)
    before = await balance(db, customer_id)

    response = await bulk(operator, "resend", [doubtful, by_hand, doubtful_too])

    page = text_of(await operator.follow(response))
    assert "2 orders changed." in page and f"#{by_hand}: Not in doubt" in page
    assert (await order_row(db, doubtful)).forward_state == FORWARD_QUEUED
    assert (await order_row(db, doubtful_too)).forward_state == FORWARD_QUEUED
    assert (await order_row(db, by_hand)).forward_state is None
    assert await audit_details(db, doubtful) == [("order.resolve", "resend (bulk)")]
    assert await audit_details(db, by_hand) == []
    assert await balance(db, customer_id) == before
    again = text_of(await operator.follow(await bulk(operator, "resend", [doubtful])))
    assert f"#{doubtful}: Not in doubt" in again


async def test_cancel_of_an_order_in_doubt_is_the_operators_decision(operator, db, shop):
    customer_id, _order = await an_order(db, shop)
    doubtful, _provider = await in_doubt_order(db, shop, customer_id)
    charge = (await order_row(db, doubtful)).charge
    before = await balance(db, customer_id)

    assert (await bulk(operator, "cancel", [doubtful])).status_code == 303

    order = await order_row(db, doubtful)
    assert (order.status, order.forward_state) == (CANCELED, FORWARD_WITHDRAWN)
    assert order.last_error == "canceled by the operator"
    assert await balance(db, customer_id) == before + charge
    assert await refunds_of(db, doubtful) == [(charge, "refund:cancel")]
    assert await audit_details(db, doubtful) == [("order.resolve", "cancel (bulk)")]
    await books_are_right(db)


async def test_bulk_start_count(operator, db, shop):
    customer_id, (first, second, third) = await three_orders(db, shop)
    await bulk(operator, "start_count", [third], start_count="77")

    response = await bulk(operator, "start_count", [first, second, third], start_count="77")

    page = text_of(await operator.follow(response))
    assert "2 orders changed." in page and f"#{third}: Its start count already is 77" in page
    for order_id in (first, second, third):
        order = await order_row(db, order_id)
        assert (order.start_count, order.status) == (77, PENDING)
    assert await audit_details(db, first) == [("order.change", "start_count=77 (bulk)")]
    for typed in ("", "-3", "many"):
        refused = await bulk(operator, "start_count", [first], start_count=typed)
        assert refused.status_code == 400
        assert "start count" in text_of(refused.text).lower()
    assert (await order_row(db, first)).start_count == 77


async def test_bad_forms_change_nothing_and_say_why(operator, db, shop):
    _customer, order_id = await an_order(db, shop)

    nothing_checked = await bulk(operator, "cancel", [])
    no_action = await bulk(operator, "explode", [order_id])
    foreign_back = await operator.submit(
        BULK,
        [("order", order_id), ("action", "nope"), ("back", "https://evil.example/admin/orders")],
        page="/admin/orders",
    )

    assert nothing_checked.status_code == 400
    assert "Check at least one order" in text_of(nothing_checked.text)
    assert no_action.status_code == 400
    assert "Choose what to do with the checked orders" in text_of(no_action.text)
    assert foreign_back.status_code == 400 and "evil.example" not in foreign_back.text
    assert (await order_row(db, order_id)).status == PENDING
    assert await audit_details(db, order_id) == []


async def test_the_list_offers_the_bulk_form_and_support_may_not_use_it(panel, db, shop):
    admin, _admin_id = await signed_in(panel, db, "admin")
    support, _support_id = await signed_in(panel, db, "support")
    customer_id, order_id = await an_order(db, shop)
    before = await balance(db, customer_id)
    try:
        listed = await admin.page("/admin/orders", q=str(order_id))
        assert f'name="order" value="{order_id}" form="bulk"' in listed
        assert 'action="/admin/orders/bulk"' in listed and "/static/orders.js" in listed
        seen = await support.page("/admin/orders", q=str(order_id))
        assert 'form="bulk"' not in seen and "/admin/orders/bulk" not in seen

        refused = await bulk(support, "cancel", [order_id])

        assert refused.status_code == 403
        assert (await order_row(db, order_id)).status == PENDING
        assert await balance(db, customer_id) == before
    finally:
        await admin.close()
        await support.close()


async def test_the_dashboard_status_counts_link_to_the_filtered_list(panel, operator, db, shop):
    await an_order(db, shop)
    await worker_counts(db)
    finance, _finance_id = await signed_in(panel, db, "finance")
    try:
        unlinked = await finance.page("/admin")
    finally:
        await finance.close()

    dashboard = await operator.page("/admin")

    link = re.search(r'<td>Pending</td><td class="number"><a href="([^"]+)">', dashboard)
    assert link and link.group(1) == "/admin/orders?status=Pending"
    listed = await operator.page(link.group(1))
    assert '<option value="Pending" selected>' in listed
    statuses = set(re.findall(r'<td class="status">([^<]+)</td>', listed))
    assert statuses == {PENDING}
    assert "<td>Pending</td>" in unlinked and "/admin/orders?status=" not in unlinked


async def test_the_bulk_form_speaks_chinese(operator, db, shop):
    _customer, order_id = await an_order(db, shop)
    await operator.get("/language/zh_TW")
    try:
        listed = text_of(await operator.page("/admin/orders", q=str(order_id)))
        response = await bulk(operator, "status", [order_id], status=PENDING)
        again = text_of(await operator.follow(response))
    finally:
        await operator.get("/language/en")

    assert "變更勾選的訂單" in listed and "全部取消並退款" not in listed
    assert "已變更 0 筆訂單。" in again and f"#{order_id}：已是等待中" in again
