"""Support tickets through the pages, on both databases: customers open, reply, close and see only
their own tickets; the text is bounded, escaped and throttled; operators work the queue (filters,
reply, assign, close, reopen), keep canned replies, and a reply queues the customer's e-mail."""

import re
import uuid

import pytest
from harness import panel_of_its_own
from page_client import PASSWORD, PageClient, customer_with_password, text_of, unique
from sqlalchemy import func, insert, select, update

from smmpanel.accounts.models import customers
from smmpanel.accounts.operators import create_operator
from smmpanel.accounts.passwords import hash_password
from smmpanel.db.base import utcnow
from smmpanel.orders.placement import place_order
from smmpanel.outbox.models import outbox
from smmpanel.support.models import canned_replies, ticket_messages, tickets
from smmpanel.support.queries import PAGE_SIZE
from smmpanel.support.tickets import MESSAGES_PER_MINUTE, TICKETS_PER_HOUR

TICKET_PAGE = re.compile(r"^/tickets/(\d+)$")


async def open_ticket(client: PageClient, **fields: str):
    values = {"subject": "order", "title": unique("title"), "message": "Help, please."}
    return await client.submit("/tickets", {**values, **fields}, page="/tickets")


async def opened(client: PageClient, **fields: str) -> int:
    """A ticket opened through the page; its id."""
    response = await open_ticket(client, **fields)
    assert response.status_code == 303, text_of(response.text)[:500]
    found = TICKET_PAGE.match(response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


async def tickets_of(db, customer_id: int) -> int:
    async with db.read() as conn:
        query = select(func.count()).where(tickets.c.customer_id == customer_id)
        return await conn.scalar(query)


async def ticket_row(db, ticket_id: int):
    async with db.read() as conn:
        return (await conn.execute(select(tickets).where(tickets.c.id == ticket_id))).one()


async def an_order(db, shop, customer_id: int) -> int:
    service_id = await shop.service()
    fields = {"service": str(service_id), "link": f"https://example.com/{unique('p')}"}
    async with db.write() as conn:
        return await place_order(conn, customer_id, {**fields, "quantity": "100"})


async def signed_in_customer(panel, db, email: str | None = None) -> tuple[PageClient, int, str]:
    customer_id, name = await customer_with_password(db, balance="10")
    if email:
        async with db.write() as conn:
            await conn.execute(
                update(customers).where(customers.c.id == customer_id).values(email=email)
            )
    client = PageClient(panel.url)
    assert (await client.sign_in(name)).status_code == 303
    return client, customer_id, name


async def reply_as_operator(operator: PageClient, ticket_id: int, message: str):
    page = f"/admin/tickets/{ticket_id}"
    return await operator.submit(f"{page}/reply", {"message": message}, page=page)


def nav_badge(html: str, link_id: str) -> str:
    found = re.search(rf'id="{link_id}">[^<]*(?:<span class="badge"[^>]*>(\d+)</span>)?', html)
    assert found, f"no {link_id} link"
    return found.group(1) or "0"


# ---- customers


async def test_a_customer_opens_a_ticket_and_reads_its_thread_escaped_with_line_breaks(
    customer, db, shop
):
    client, customer_id = customer
    order_id = await an_order(db, shop, customer_id)
    ticket_id = await opened(
        client,
        subject="refill",
        title="Refill <b>please</b>",
        message="First line\n<script>alert(1)</script>\nThird line",
        order_ids=f"#{order_id}",
    )
    html = await client.page(f"/tickets/{ticket_id}")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "First line<br>&lt;script&gt;" in html
    assert "Refill &lt;b&gt;please&lt;/b&gt;" in html
    assert f'href="/orders/{order_id}"' in html
    assert "Open" in text_of(html) and "A refill" in text_of(html)
    listing = text_of(await client.page("/tickets"))
    assert "Refill <b>please</b>" in listing
    # A position past the year 9999 is no position: the first page.
    assert "Refill <b>please</b>" in text_of(
        await client.page("/tickets", before="999999999999999999-1")
    )
    row = await ticket_row(db, ticket_id)
    assert (row.status, row.order_ids, row.operator_unread) == ("open", str(order_id), True)


async def test_another_customers_ticket_answers_404_and_takes_no_reply(customer, panel, db):
    client, _ = customer
    title = unique("mine")
    ticket_id = await opened(client, title=title)
    stranger, _, _ = await signed_in_customer(panel, db)
    try:
        assert (await stranger.get(f"/tickets/{ticket_id}")).status_code == 404
        reply = await stranger.submit(
            f"/tickets/{ticket_id}/reply", {"message": "hi"}, page="/tickets"
        )
        close = await stranger.submit(f"/tickets/{ticket_id}/close", {}, page="/tickets")
    finally:
        await stranger.close()
    assert (reply.status_code, close.status_code) == (404, 404)
    assert title not in await stranger_listing(panel, db)
    async with db.read() as conn:
        count = select(func.count()).where(ticket_messages.c.ticket_id == ticket_id)
        assert await conn.scalar(count) == 1
    assert (await ticket_row(db, ticket_id)).status == "open"


async def stranger_listing(panel, db) -> str:
    client, _, _ = await signed_in_customer(panel, db)
    try:
        return await client.page("/tickets")
    finally:
        await client.close()


async def test_an_order_of_another_customer_is_refused_by_its_id(customer, db, shop):
    client, customer_id = customer
    other_id, _ = await customer_with_password(db, balance="10")
    theirs = await an_order(db, shop, other_id)
    mine = await an_order(db, shop, customer_id)
    response = await open_ticket(client, order_ids=f"{mine}, {theirs}")
    assert response.status_code == 400
    assert f"You have no order {theirs}." in text_of(response.text)
    response = await open_ticket(client, order_ids="12abc")
    assert response.status_code == 400
    assert "“12abc” is not an order id" in text_of(response.text)
    assert await tickets_of(db, customer_id) == 0


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ({"title": "x" * 151}, "Title is 151 characters long; at most 150 fit."),
        ({"message": "y" * 5001}, "Message is 5001 characters long; at most 5000 fit."),
        ({"title": "  "}, "Title: this field is required."),
        ({"subject": "money"}, "Choose what the ticket is about."),
    ],
)
async def test_a_ticket_with_bad_text_is_refused_and_the_form_kept(customer, db, fields, refusal):
    client, customer_id = customer
    response = await open_ticket(client, **fields)
    assert response.status_code == 400
    assert refusal in text_of(response.text)
    assert await tickets_of(db, customer_id) == 0


async def test_an_over_long_reply_is_refused(customer, db):
    client, _ = customer
    ticket_id = await opened(client)
    page = f"/tickets/{ticket_id}"
    response = await client.submit(f"{page}/reply", {"message": "z" * 5001}, page=page)
    assert response.status_code == 400
    assert "Message is 5001 characters long" in text_of(response.text)


async def test_tickets_per_hour_and_messages_per_minute_are_throttled(panel, db):
    client, customer_id, _ = await signed_in_customer(panel, db)
    try:
        for _ in range(TICKETS_PER_HOUR):
            await opened(client)
        response = await open_ticket(client)
        assert response.status_code == 400
        assert f"You opened {TICKETS_PER_HOUR} tickets in the last hour" in text_of(response.text)
        assert await tickets_of(db, customer_id) == TICKETS_PER_HOUR
    finally:
        await client.close()

    client, _, _ = await signed_in_customer(panel, db)
    try:
        ticket_id = await opened(client)
        page = f"/tickets/{ticket_id}"
        for number in range(MESSAGES_PER_MINUTE - 1):
            sent = await client.submit(f"{page}/reply", {"message": f"more {number}"}, page=page)
            assert sent.status_code == 303
        refused = await client.submit(f"{page}/reply", {"message": "one more"}, page=page)
        assert refused.status_code == 400
        words = f"You sent {MESSAGES_PER_MINUTE} messages in the last minute"
        assert words in text_of(refused.text)
        assert "one more" in refused.text  # the form keeps what was typed
    finally:
        await client.close()


async def test_the_customer_closes_and_a_reply_opens_it_again(customer, db):
    client, _ = customer
    ticket_id = await opened(client)
    page = f"/tickets/{ticket_id}"
    closed = await client.follow(await client.submit(f"{page}/close", {}, page=page))
    assert "The ticket is closed." in text_of(closed)
    assert (await ticket_row(db, ticket_id)).status == "closed"
    again = await client.submit(f"{page}/close", {}, page=page)
    assert again.status_code == 400 and "closed already" in text_of(again.text)
    await client.submit(f"{page}/reply", {"message": "Still broken"}, page=page)
    assert (await ticket_row(db, ticket_id)).status == "open"


# ---- operators


async def test_an_operator_reply_answers_the_ticket_queues_the_mail_and_counts_unread(
    panel, db, operator
):
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    client, _, name = await signed_in_customer(panel, db, email=email)
    try:
        ticket_id = await opened(client, title="Where is my order?")
        operators_unread = int(nav_badge(await operator.page("/admin"), "nav-tickets"))
        assert operators_unread >= 1
        html = await operator.page(f"/admin/tickets/{ticket_id}")
        assert "Where is my order?" in text_of(html)
        after = int(nav_badge(html, "nav-tickets"))
        assert after == operators_unread - 1
        assert nav_badge(await client.page("/tickets"), "nav-support") == "0"

        response = await reply_as_operator(operator, ticket_id, "It is on its way.\nSoon.")
        assert response.status_code == 303
        assert (await ticket_row(db, ticket_id)).status == "answered"
        async with db.read() as conn:
            mails = (await conn.execute(select(outbox).where(outbox.c.recipient == email))).all()
        assert len(mails) == 1
        assert mails[0].kind == "ticket_reply"
        assert f"/tickets/{ticket_id}" in mails[0].body and name in mails[0].body

        listing = await client.page("/tickets")
        assert nav_badge(listing, "nav-support") == "1"
        assert "new reply" in text_of(listing)
        thread = await client.page(f"/tickets/{ticket_id}")
        assert "It is on its way.<br>Soon." in thread
        assert nav_badge(thread, "nav-support") == "0"
        assert nav_badge(await client.page("/dashboard"), "nav-support") == "0"

        page = f"/tickets/{ticket_id}"
        await client.submit(f"{page}/reply", {"message": "Thanks"}, page=page)
        row = await ticket_row(db, ticket_id)
        assert (row.status, row.operator_unread, row.customer_unread) == ("open", True, False)
    finally:
        await client.close()


async def test_a_reply_to_a_customer_without_e_mail_queues_nothing(customer, db, operator):
    client, customer_id = customer
    ticket_id = await opened(client)
    async with db.read() as conn:
        before = await conn.scalar(select(func.count()).select_from(outbox))
    assert (await reply_as_operator(operator, ticket_id, "Done")).status_code == 303
    async with db.read() as conn:
        assert await conn.scalar(select(func.count()).select_from(outbox)) == before


async def test_the_queue_filters_by_status_assignment_and_search(panel, db, operator):
    client, _, name = await signed_in_customer(panel, db)
    try:
        first = await opened(client, title="first ticket")
        second = await opened(client, title="second ticket")
    finally:
        await client.close()
    page = f"/admin/tickets/{first}"
    taken = await operator.submit(f"{page}/assign", {"to": "me"}, page=page)
    assert "The ticket is yours." in text_of(await operator.follow(taken))
    await reply_as_operator(operator, first, "answer")

    def ids(html: str) -> set[int]:
        return {int(found) for found in re.findall(r'href="/admin/tickets/(\d+)"', html)}

    assert {first, second} <= ids(await operator.page("/admin/tickets", q=name))
    assert ids(await operator.page("/admin/tickets", q=name, status="answered")) == {first}
    assert ids(await operator.page("/admin/tickets", q=name, status="open")) == {second}
    assert ids(await operator.page("/admin/tickets", q=name, assigned="me")) == {first}
    assert ids(await operator.page("/admin/tickets", q=name, assigned="none")) == {second}
    assert second in ids(await operator.page("/admin/tickets", q=str(second)))
    listing = await operator.page("/admin/tickets", q=name)
    assert listing.index(f"/admin/tickets/{first}") < listing.index(f"/admin/tickets/{second}")
    for before in ("a-b", "999999999999999999-1", "-"):
        odd = await operator.get("/admin/tickets", status="<x>", assigned="'", before=before)
        assert odd.status_code == 200


async def test_assign_unassign_close_and_reopen(customer, db, operator, shop):
    client, customer_id = customer
    order_id = await an_order(db, shop, customer_id)
    ticket_id = await opened(client, order_ids=str(order_id))
    page = f"/admin/tickets/{ticket_id}"
    html = await operator.page(page)
    assert f'href="/admin/orders/{order_id}"' in html
    await operator.submit(f"{page}/assign", {"to": "me"}, page=page)
    assert (await ticket_row(db, ticket_id)).operator_id is not None
    await operator.submit(f"{page}/assign", {}, page=page)
    assert (await ticket_row(db, ticket_id)).operator_id is None
    closed = await operator.submit(f"{page}/close", {}, page=page)
    assert "The ticket is closed." in text_of(await operator.follow(closed))
    assert (await ticket_row(db, ticket_id)).status == "closed"
    assert (await operator.submit(f"{page}/close", {}, page=page)).status_code == 400
    reopened = await operator.submit(f"{page}/reopen", {}, page=page)
    assert "open again" in text_of(await operator.follow(reopened))
    assert (await ticket_row(db, ticket_id)).status == "open"
    assert (await operator.get("/admin/tickets/999999999")).status_code == 404
    missing = await operator.submit(
        "/admin/tickets/999999999/reply", {"message": "x"}, page="/admin/tickets"
    )
    assert missing.status_code == 404


async def test_canned_replies_are_added_changed_picked_and_removed(customer, db, operator):
    client, _ = customer
    ticket_id = await opened(client)
    title = unique("canned")
    fields = {"title": title, "body_en": "Thanks for waiting.", "body_zh_tw": "感謝您的耐心等候。"}
    added = await operator.submit("/admin/canned-replies", fields, page="/admin/canned-replies")
    assert "The canned reply is added." in text_of(await operator.follow(added))
    async with db.read() as conn:
        reply_id = await conn.scalar(
            select(canned_replies.c.id).where(canned_replies.c.title == title)
        )

    page = f"/admin/tickets/{ticket_id}"
    picked = await operator.page(page, canned_reply=f"{reply_id}-zh_TW")
    assert re.search(r"<textarea name=\"message\"[^>]*>感謝您的耐心等候。</textarea>", picked)
    picked = await operator.page(page, canned_reply=f"{reply_id}-en")
    assert re.search(r"<textarea name=\"message\"[^>]*>Thanks for waiting.</textarea>", picked)

    edit = f"/admin/canned-replies/{reply_id}"
    changed = {**fields, "body_en": "Thank you for waiting."}
    saved = await operator.submit(edit, changed, page=edit)
    assert "The canned reply is saved." in text_of(await operator.follow(saved))
    empty = await operator.submit(edit, {**fields, "body_zh_tw": ""}, page=edit)
    assert empty.status_code == 400
    assert "Text in Traditional Chinese: this field is required." in text_of(empty.text)
    async with db.read() as conn:
        row = (
            await conn.execute(select(canned_replies).where(canned_replies.c.id == reply_id))
        ).one()
    assert (row.body_en, row.body_zh_tw) == ("Thank you for waiting.", "感謝您的耐心等候。")

    removed = await operator.submit(f"{edit}/delete", {}, page=edit)
    assert "The canned reply is removed." in text_of(await operator.follow(removed))
    assert (await operator.get(edit)).status_code == 404
    assert (
        await operator.submit(f"{edit}/delete", {}, page="/admin/canned-replies")
    ).status_code == 404


async def test_a_support_operator_works_tickets_and_a_finance_one_may_not(customer, panel, db):
    client, _ = customer
    ticket_id = await opened(client)
    support = PageClient(panel.url)
    finance = PageClient(panel.url)
    try:
        assert (
            await support.operator_sign_in(await operator_account_of(db, "support"))
        ).status_code == 303
        assert (
            await finance.operator_sign_in(await operator_account_of(db, "finance"))
        ).status_code == 303
        assert (await reply_as_operator(support, ticket_id, "On it")).status_code == 303
        assert (await support.get("/admin/canned-replies")).status_code == 200
        assert (await finance.get(f"/admin/tickets/{ticket_id}")).status_code == 403
        assert (await finance.get("/admin/canned-replies")).status_code == 403
    finally:
        await support.close()
        await finance.close()


async def operator_account_of(db, role: str) -> str:
    name = unique(role)
    password_hash = await hash_password(PASSWORD)
    async with db.write() as conn:
        await create_operator(conn, name, password_hash, role=role)
    return name


async def test_a_new_ticket_queues_one_alert_for_the_operators(backend, tmp_path):
    env = {"SMMPANEL_ALERT_EMAIL": "ops@example.com"}
    async with panel_of_its_own(backend, tmp_path, env=env) as (panel, db):
        client, _, name = await signed_in_customer(panel, db)
        try:
            ticket_id = await opened(client, title="Alert me")
        finally:
            await client.close()
        async with db.read() as conn:
            alerts = (await conn.execute(select(outbox).where(outbox.c.alert))).all()
    assert len(alerts) == 1
    assert alerts[0].recipient == "ops@example.com"
    assert f"/admin/tickets/{ticket_id}" in alerts[0].body
    assert name in alerts[0].body


async def test_long_lists_page_by_key_with_ties_on_the_time(panel, db, operator):
    client, customer_id, name = await signed_in_customer(panel, db)
    same_time = utcnow()
    values = {"customer_id": customer_id, "subject": "other", "status": "open"}
    async with db.write() as conn:
        for number in range(PAGE_SIZE + 3):
            await conn.execute(
                insert(tickets).values(
                    **values, title=f"paged {number}", created_at=same_time, updated_at=same_time
                )
            )

    async def every_page(client: PageClient, path: str, **params: str) -> list[list[int]]:
        pages, html = [], await client.page(path, **params)
        while True:
            pages.append([int(found) for found in re.findall(rf'href="{path}/(\d+)">\d', html)])
            older = re.search(r'href="([^"]+)" rel="next"', html)
            if older is None:
                return pages
            html = await client.page(older.group(1).replace("&amp;", "&"))

    try:
        mine = await every_page(client, "/tickets")
    finally:
        await client.close()
    queue = await every_page(operator, "/admin/tickets", q=name)
    for pages in (mine, queue):
        assert [len(page) for page in pages] == [PAGE_SIZE, 3]
        flat = [ticket_id for page in pages for ticket_id in page]
        assert flat == sorted(flat, reverse=True) and len(set(flat)) == PAGE_SIZE + 3
