"""The operator's order pages: list, search and filters, detail and manual changes, orders in
doubt, refill and cancel requests, on both databases through the real panel process."""

import re
import uuid

from page_client import customer_with_password, text_of, unique
from sqlalchemy import select, update

from smmpanel.accounts.models import ledger_entries
from smmpanel.accounts.service import balance_of
from smmpanel.catalog.models import FULFIL_PROVIDER
from smmpanel.money import partial_refund_micros, render_balance
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.models import cancel_requests, order_polls, orders, refills
from smmpanel.orders.placement import place_order
from smmpanel.orders.requests import request_cancel, request_refill
from smmpanel.orders.statuses import (
    CANCELED,
    COMPLETED,
    FORWARD_IN_DOUBT,
    FORWARD_QUEUED,
    FORWARD_SENT,
    FORWARD_WITHDRAWN,
    PARTIAL,
    PENDING,
)
from smmpanel.pagekit.money_format import format_money
from smmpanel.providers.service import add_provider

RATE = "1.234567"  # per 1000: charges and refunds that do not divide evenly


def shown(micros: int) -> str:
    """An amount as a message writes it in English, as text_of reads it (no-break space)."""
    return format_money(micros, "amount", "en", "USD").replace("\u00a0", " ")


def new_link(marker: str = "") -> str:
    return f"https://instagram.com/p/{marker}{uuid.uuid4().hex[:12]}"


async def place(db, customer_id: int, service_id: int, quantity: int = 1000, link: str = "") -> int:
    fields = {"service": str(service_id), "link": link or new_link(), "quantity": str(quantity)}
    async with db.write() as conn:
        return await place_order(conn, customer_id, fields)


async def order_row(db, order_id: int):
    async with db.read() as conn:
        return (await conn.execute(select(orders).where(orders.c.id == order_id))).one()


async def balance(db, customer_id: int) -> int:
    async with db.read() as conn:
        return await balance_of(conn, customer_id)


async def refunds_of(db, order_id: int) -> list:
    async with db.read() as conn:
        query = select(ledger_entries.c.amount, ledger_entries.c.cause).where(
            ledger_entries.c.order_id == order_id, ledger_entries.c.kind == "refund"
        )
        return list((await conn.execute(query)).all())


async def change(operator, order_id: int, **fields: object):
    page = f"/admin/orders/{order_id}"
    return await operator.submit(page, fields, page=page)


async def an_order(db, shop, quantity: int = 1000, **service_flags: object):
    """A customer with 100.00, a service at RATE and one order of theirs: (customer, order)."""
    customer_id, _ = await customer_with_password(db, balance="100")
    service_id = await shop.service(rate=RATE, **service_flags)
    return customer_id, await place(db, customer_id, service_id, quantity)


# ---- manual changes


async def test_partial_through_the_page_refunds_exactly_the_pro_rata_share(operator, db, shop):
    customer_id, order_id = await an_order(db, shop)
    charge = (await order_row(db, order_id)).charge
    before = await balance(db, customer_id)

    response = await change(operator, order_id, status=PARTIAL, start_count="120", remains="333")

    refund = partial_refund_micros(charge, 333, 1000)
    assert refund == charge * 333 // 1000 and refund > 0
    page = text_of(await operator.follow(response))
    assert "status Pending → Partial" in page and "remains 0 → 333" in page
    assert f"Refunded {shown(refund)}." in page
    order = await order_row(db, order_id)
    assert (order.status, order.remains, order.start_count) == (PARTIAL, 333, 120)
    assert await balance(db, customer_id) == before + refund
    assert await refunds_of(db, order_id) == [(refund, "refund:partial")]


async def test_completed_sets_the_start_count_and_refunds_nothing(operator, db, shop):
    customer_id, order_id = await an_order(db, shop)
    before = await balance(db, customer_id)

    response = await change(operator, order_id, status=COMPLETED, start_count="5000")

    assert "Nothing refunded" in text_of(await operator.follow(response))
    order = await order_row(db, order_id)
    assert (order.status, order.start_count, order.remains) == (COMPLETED, 5000, 0)
    assert order.finished_at is not None
    assert await balance(db, customer_id) == before
    assert await refunds_of(db, order_id) == []


async def test_canceled_refunds_the_whole_charge_once_even_when_posted_twice(operator, db, shop):
    customer_id, order_id = await an_order(db, shop)
    charge = (await order_row(db, order_id)).charge
    before = await balance(db, customer_id)

    first = await change(operator, order_id, status=CANCELED)
    assert "Refunded" in text_of(await operator.follow(first))
    second = await change(operator, order_id, status=CANCELED)
    assert "Nothing changed" in text_of(await operator.follow(second))
    assert await balance(db, customer_id) == before + charge
    assert await refunds_of(db, order_id) == [(charge, "refund:cancel")]


async def test_bad_changes_are_refused_with_400_and_change_nothing(operator, db, shop):
    customer_id, order_id = await an_order(db, shop)
    before_order, before_balance = await order_row(db, order_id), await balance(db, customer_id)
    refused = [
        ({"status": PARTIAL, "remains": "1001"}, "cannot be more than 1000"),
        ({"status": PARTIAL}, "needs its remains"),
        ({"status": PARTIAL, "remains": "0"}, "needs its remains"),
        ({"status": PENDING, "remains": "12abc"}, "Remains must be a whole number"),
        ({"status": PENDING, "start_count": "-5"}, "Start count must be a whole number"),
        ({"status": PENDING, "start_count": "1e3"}, "Start count must be a whole number"),
        ({"status": PENDING, "start_count": "9" * 30}, "Start count must be a whole number"),
        ({"status": "Shipped"}, "Choose a status from the list"),
    ]
    for fields, reason in refused:
        response = await change(operator, order_id, **fields)
        assert response.status_code == 400, fields
        assert reason in text_of(response.text), (fields, text_of(response.text)[:600])
    # What was typed is shown again.
    assert 'value="12abc"' in (await change(operator, order_id, remains="12abc")).text
    assert await order_row(db, order_id) == before_order
    assert await balance(db, customer_id) == before_balance
    assert await refunds_of(db, order_id) == []


async def test_a_finished_order_cannot_go_back_and_keeps_its_money(operator, db, shop):
    customer_id, order_id = await an_order(db, shop)
    await change(operator, order_id, status=CANCELED)
    after_cancel = await balance(db, customer_id)

    response = await change(operator, order_id, status=PENDING)

    assert response.status_code == 400
    assert "cannot become Pending" in text_of(response.text)
    assert (await order_row(db, order_id)).status == CANCELED
    assert await balance(db, customer_id) == after_cancel


async def test_an_unknown_order_is_a_404_page(operator):
    for path in ("/admin/orders/987654321", "/admin/orders/" + "9" * 40):
        response = await operator.get(path)
        assert response.status_code == 404 and "Page not found" in response.text


async def test_changes_need_an_operator(browser, customer, db, shop):
    _, order_id = await an_order(db, shop)
    client, _ = customer
    for visitor in (browser, client):
        token_page = "/signin"
        response = await visitor.submit(
            f"/admin/orders/{order_id}", {"status": CANCELED}, page=token_page
        )
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/signin")
    assert (await order_row(db, order_id)).status == PENDING


async def test_the_detail_shows_the_order_its_ledger_and_requests(operator, db, shop):
    customer_id, order_id = await an_order(db, shop, refill=True, cancel=True)
    async with db.write() as conn:
        await request_cancel(conn, customer_id, order_id)
    await change(operator, order_id, status=PARTIAL, remains="100")
    async with db.write() as conn:
        refill_id = await request_refill(conn, customer_id, order_id)

    page = text_of(await operator.page(f"/admin/orders/{order_id}"))

    order = await order_row(db, order_id)
    refund = partial_refund_micros(order.charge, 100, 1000)
    assert f"Order {order_id}" in page and order.link in page
    assert "Refunded" in page and "By hand" in page
    assert f"Order {order_id}, refund of what was not delivered" in page
    assert render_balance(refund) in page
    assert "Refill requests" in page and re.search(rf"\b{refill_id}\b", page)
    assert "Accepted" in page  # the cancel request, answered by the Partial status


# ---- the list: search, filters, pages


async def test_search_finds_orders_by_id_link_customer_and_upstream_id(operator, db, shop):
    name = unique("Findable")
    customer_id, _ = await customer_with_password(db, balance="100", name=name)
    service_id = await shop.service(rate=RATE)
    marker = uuid.uuid4().hex[:10]
    by_link = await place(db, customer_id, service_id, link=new_link(marker))
    other = await place(db, customer_id, service_id)
    async with db.write() as conn:
        await conn.execute(
            update(orders).where(orders.c.id == other).values(upstream_order_id=f"up-{marker}")
        )

    def ids(html: str) -> set[int]:
        return {int(found) for found in re.findall(r'href="/admin/orders/(\d+)"', html)}

    assert by_link in ids(await operator.page("/admin/orders", q=str(by_link)))
    assert ids(await operator.page("/admin/orders", q=marker)) == {by_link}
    assert ids(await operator.page("/admin/orders", q=name.upper())) == {by_link, other}
    assert ids(await operator.page("/admin/orders", q=f"up-{marker}")) == {other}
    assert ids(await operator.page("/admin/orders", q="nothing-" + marker)) == set()
    assert f'href="/admin/customers/{customer_id}"' in await operator.page("/admin/orders", q=name)


async def test_filters_by_status_service_provider_and_forward_state(operator, db, shop):
    name = unique("filtered")
    customer_id, _ = await customer_with_password(db, balance="100", name=name)
    first, second = await shop.service(rate=RATE), await shop.service(rate=RATE)
    pending = await place(db, customer_id, first)
    completed = await place(db, customer_id, second)
    forwarded, provider_id = await in_doubt_order(db, shop, customer_id)
    async with db.write() as conn:
        await update_order(conn, completed, status=COMPLETED)

    async def found(**filters: str) -> set[int]:
        html = await operator.page("/admin/orders", q=name, **filters)
        return {int(i) for i in re.findall(r'href="/admin/orders/(\d+)"', html)}

    assert await found() == {pending, completed, forwarded}
    assert await found(status=COMPLETED) == {completed}
    assert await found(service=str(first)) == {pending}
    assert await found(provider="manual") == {pending, completed}
    assert await found(provider=str(provider_id)) == {forwarded}
    assert await found(forward=FORWARD_IN_DOUBT) == {forwarded}
    assert await found(forward=FORWARD_SENT) == set()
    for bad in ({"status": "Lost"}, {"service": "x1"}, {"forward": "away"}):
        response = await operator.get("/admin/orders", **bad)
        assert response.status_code == 400, bad
        assert "flash error" in response.text
    # A cursor that is not an id reads the newest page.
    assert (await operator.get("/admin/orders", before="-1", after="x")).status_code == 200


async def test_pages_of_fifty_keep_the_search_and_filters(operator, db, shop):
    customer_id, _ = await customer_with_password(db, balance="100")
    service_id = await shop.service(rate="0.1")
    marker = uuid.uuid4().hex[:10]
    placed = [
        await place(db, customer_id, service_id, quantity=10, link=new_link(marker))
        for _ in range(52)
    ]

    first = await operator.page("/admin/orders", q=marker, status=PENDING)
    next_link = link(first, "next")
    assert f"before={placed[2]}" in next_link
    assert f"q={marker}" in next_link and "status=Pending" in next_link
    second = await operator.page(next_link)
    assert order_ids(first) == set(placed[2:]) and order_ids(second) == set(placed[:2])
    assert 'rel="prev"' not in first and 'rel="next"' not in second
    assert order_ids(await operator.page(link(second, "prev"))) == set(placed[2:])


async def test_pages_by_status_read_older_orders_through_the_index(operator, db, shop):
    customer_id, _ = await customer_with_password(db, balance="100")
    service_id = await shop.service(rate="0.1")
    completed = []
    for _ in range(52):
        order_id = await place(db, customer_id, service_id, quantity=10)
        async with db.write() as conn:
            await update_order(conn, order_id, status=COMPLETED)
        completed.append(order_id)
    newest = await operator.page("/admin/orders", status=COMPLETED)
    assert order_ids(newest) == set(completed[2:])
    older = order_ids(await operator.page(link(newest, "next")))
    assert set(completed[:2]) <= older and not older & set(completed[2:])


async def test_an_order_id_typed_in_the_search_is_found_with_the_other_filters(operator, db, shop):
    customer_id, _ = await customer_with_password(db, balance="100")
    service_id = await shop.service(rate=RATE)
    order_id = await place(db, customer_id, service_id)
    html = await operator.page("/admin/orders", q=str(order_id), status=PENDING)
    assert order_id in order_ids(html)
    assert order_id not in order_ids(
        await operator.page("/admin/orders", q=str(order_id), status=COMPLETED)
    )


def order_ids(html: str) -> set[int]:
    return {int(found) for found in re.findall(r'href="/admin/orders/(\d+)"', html)}


def link(html: str, rel: str) -> str:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    assert found, f"no {rel} link"
    return found.group(1).replace("&amp;", "&")


async def test_markup_in_a_link_or_a_customer_name_is_shown_escaped(operator, db, shop):
    name = unique("<b>bold</b>")
    customer_id, _ = await customer_with_password(db, balance="100", name=name)
    service_id = await shop.service(rate=RATE)
    marker = uuid.uuid4().hex[:8]
    link = f"https://example.com/{marker}<script>alert(1)</script>"
    order_id = await place(db, customer_id, service_id, link=link)

    for html in (
        await operator.page("/admin/orders", q=marker),
        await operator.page(f"/admin/orders/{order_id}"),
    ):
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
        assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


async def test_the_list_counts_what_waits_for_the_operator(operator, db, shop):
    customer_id, _ = await customer_with_password(db, balance="100")
    await in_doubt_order(db, shop, customer_id)
    page = await operator.page("/admin/orders")
    for path in ("/admin/orders/doubts", "/admin/refills", "/admin/cancels"):
        assert f'href="{path}"' in page
    in_doubt = re.search(r'href="/admin/orders/doubts"><span class="figure">(\d+)', page)
    assert in_doubt and int(in_doubt.group(1)) >= 1


async def test_the_pages_speak_traditional_chinese(operator, db, shop):
    _, order_id = await an_order(db, shop)
    await operator.get("/language/zh_TW")
    listing = await operator.page("/admin/orders")
    detail = await operator.page(f"/admin/orders/{order_id}")
    await operator.get("/language/en")
    assert "筆待確認" in listing and "上游訂單編號" in listing
    assert "手動修改" in detail and "剩餘數量" in detail


# ---- orders in doubt


async def in_doubt_order(db, shop, customer_id: int) -> tuple[int, int]:
    """An order its provider may or may not have, as the sender leaves it: (order, provider)."""
    async with db.write() as conn:
        provider_id = await add_provider(
            conn, unique("upstream"), "http://127.0.0.1:9/api/v2", "key"
        )
    service_id = await shop.service(
        rate=RATE, fulfilment=FULFIL_PROVIDER, provider_id=provider_id, provider_service_id="7"
    )
    order_id = await place(db, customer_id, service_id)
    async with db.write() as conn:
        await conn.execute(
            update(orders)
            .where(orders.c.id == order_id)
            .values(forward_state=FORWARD_IN_DOUBT, last_error="timeout: no answer")
        )
    return order_id, provider_id


async def resolve(operator, order_id: int, resolution: str, upstream_order_id: str = ""):
    fields = {"resolution": resolution, "upstream_order_id": upstream_order_id}
    page = "/admin/orders/doubts"
    return await operator.submit(f"/admin/orders/{order_id}/resolve", fields, page=page)


def doubt_ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'action="/admin/orders/(\d+)/resolve"', html)}


async def test_an_order_in_doubt_canceled_from_the_list_is_refunded_and_leaves_it(
    operator, db, shop
):
    customer_id, _ = await customer_with_password(db, balance="100")
    order_id, _ = await in_doubt_order(db, shop, customer_id)
    charge = (await order_row(db, order_id)).charge
    before = await balance(db, customer_id)
    listed = await operator.page("/admin/orders/doubts")
    assert order_id in doubt_ids(listed) and "timeout: no answer" in listed

    response = await resolve(operator, order_id, "cancel")

    page = await operator.follow(response)
    assert f"Order {order_id} is canceled" in text_of(page)
    assert order_id not in doubt_ids(page)
    order = await order_row(db, order_id)
    assert (order.status, order.forward_state) == (CANCELED, FORWARD_WITHDRAWN)
    assert await balance(db, customer_id) == before + charge
    assert await refunds_of(db, order_id) == [(charge, "refund:cancel")]
    again = await resolve(operator, order_id, "cancel")
    assert again.status_code == 400 and "not in doubt" in text_of(again.text)
    assert await balance(db, customer_id) == before + charge


async def test_an_order_in_doubt_settled_as_sent_or_sent_again(operator, db, shop):
    customer_id, _ = await customer_with_password(db, balance="100")
    sent, _ = await in_doubt_order(db, shop, customer_id)
    resend, _ = await in_doubt_order(db, shop, customer_id)
    upstream_id = f"u{uuid.uuid4().hex[:8]}"

    for refused, reason in (
        (await resolve(operator, sent, "sent", ""), "Type the order's id"),
        (await resolve(operator, sent, "sent", "x" * 65), "at most 64 fit"),
        (await resolve(operator, sent, "maybe"), "Choose how to settle it"),
    ):
        assert refused.status_code == 400 and reason in text_of(refused.text)
    assert (await order_row(db, sent)).forward_state == FORWARD_IN_DOUBT

    assert (await resolve(operator, sent, "sent", upstream_id)).status_code == 303
    assert (await resolve(operator, resend, "resend")).status_code == 303

    followed = await order_row(db, sent)
    assert (followed.forward_state, followed.upstream_order_id) == (FORWARD_SENT, upstream_id)
    async with db.read() as conn:
        polled = await conn.scalar(
            select(order_polls.c.every).where(order_polls.c.order_id == sent)
        )
    assert polled == 0, "the sent one is polled from now on"
    assert "Next action" in text_of(await operator.page(f"/admin/orders/{sent}"))
    assert (await order_row(db, resend)).forward_state == FORWARD_QUEUED
    assert {sent, resend}.isdisjoint(doubt_ids(await operator.page("/admin/orders/doubts")))
    assert await refunds_of(db, sent) == await refunds_of(db, resend) == []


# ---- refill and cancel requests


async def test_a_refill_request_moves_through_its_statuses_on_the_refills_page(operator, db, shop):
    customer_id, order_id = await an_order(db, shop, refill=True)
    async with db.write() as conn:
        await update_order(conn, order_id, status=COMPLETED)
        refill_id = await request_refill(conn, customer_id, order_id)

    async def refill_status() -> str:
        async with db.read() as conn:
            return await conn.scalar(select(refills.c.status).where(refills.c.id == refill_id))

    async def set_status(status: str):
        return await operator.submit(
            f"/admin/refills/{refill_id}", {"status": status}, page="/admin/refills"
        )

    assert f'action="/admin/refills/{refill_id}"' in await operator.page("/admin/refills")
    bad = await set_status("Sideways")
    assert bad.status_code == 400 and "Choose a refill status" in text_of(bad.text)
    assert await refill_status() == "Pending"

    moved = await set_status("In progress")
    assert f"Refill {refill_id} is now In progress" in text_of(await operator.follow(moved))
    assert (await set_status("Completed")).status_code == 303
    assert await refill_status() == "Completed"

    closed = await set_status("Pending")
    assert closed.status_code == 400 and "closed refill cannot change" in text_of(closed.text)
    assert await refill_status() == "Completed"
    assert f'action="/admin/refills/{refill_id}"' not in await operator.page("/admin/refills")


async def test_cancel_requests_are_accepted_or_rejected_on_the_cancels_page(operator, db, shop):
    customer_id, _ = await customer_with_password(db, balance="100")
    service_id = await shop.service(rate=RATE, cancel=True)
    accepted, rejected, partial = [await place(db, customer_id, service_id) for _ in range(3)]
    async with db.write() as conn:
        for order_id in (accepted, rejected, partial):
            await request_cancel(conn, customer_id, order_id)
        query = select(cancel_requests.c.order_id, cancel_requests.c.id).where(
            cancel_requests.c.order_id.in_((accepted, rejected, partial))
        )
        request_of = dict((await conn.execute(query)).all())
    charge = (await order_row(db, accepted)).charge
    before = await balance(db, customer_id)

    async def answer(order_id: int, decision: str, remains: str = ""):
        fields = {"decision": decision, "remains": remains}
        action = f"/admin/cancels/{request_of[order_id]}"
        return await operator.submit(action, fields, page="/admin/cancels")

    listed = await operator.page("/admin/cancels")
    assert all(f'action="/admin/cancels/{request_of[o]}"' in listed for o in request_of)
    for refused, reason in (
        (await answer(rejected, "reject", "10"), "Remains go with accepting only"),
        (await answer(partial, "accept", "1001"), "cannot be more than 1000"),
        (await answer(partial, "maybe"), "Accept or reject"),
    ):
        assert refused.status_code == 400 and reason in text_of(refused.text)
    assert await balance(db, customer_id) == before

    done = await answer(accepted, "accept")
    assert "accepted" in text_of(await operator.follow(done))
    assert (await answer(rejected, "reject")).status_code == 303
    assert (await answer(partial, "accept", "400")).status_code == 303
    twice = await answer(accepted, "accept")
    assert twice.status_code == 400 and "answered already" in text_of(twice.text)

    assert (await order_row(db, accepted)).status == CANCELED
    assert (await order_row(db, rejected)).status == PENDING
    assert (await order_row(db, partial)).status == PARTIAL
    refund = charge + partial_refund_micros(charge, 400, 1000)
    assert await balance(db, customer_id) == before + refund
    async with db.read() as conn:
        query = select(cancel_requests.c.order_id, cancel_requests.c.status).where(
            cancel_requests.c.order_id.in_(request_of)
        )
        statuses = dict((await conn.execute(query)).all())
    assert statuses == {accepted: "Accepted", rejected: "Rejected", partial: "Accepted"}
