"""A form sent once its session has ended: after signing in again, its page shows what was
typed (never a password or a token) and nothing is sent on the customer's behalf; on both
databases through the real panel."""

import base64
import uuid

from page_client import PASSWORD, PageClient, csrf_token, customer_with_password
from sqlalchemy import func, select

from smmpanel.orders.models import orders
from smmpanel.pagekit.kept_forms import KEPT_FORM_COOKIE
from smmpanel.pagekit.pages import SESSION_COOKIE
from smmpanel.pagekit.sessions import end_session
from smmpanel.support.models import tickets


async def signed_in(panel, db) -> tuple[PageClient, int, str]:
    customer_id, name = await customer_with_password(db)
    client = PageClient(panel.url)
    assert (await client.sign_in(name)).status_code == 303
    return client, customer_id, name


async def session_ends(client: PageClient, db) -> None:
    async with db.write() as conn:
        await end_session(conn, client.http.cookies[SESSION_COOKIE])


async def tickets_titled(db, title: str) -> int:
    async with db.read() as conn:
        return await conn.scalar(select(func.count()).where(tickets.c.title == title))


def kept_text(token: str) -> str:
    payload = token.partition(".")[0]
    return base64.urlsafe_b64decode(payload + "==").decode()


async def test_a_ticket_typed_after_the_session_ended_is_shown_again_after_signing_in(panel, db):
    client, _, name = await signed_in(panel, db)
    try:
        token = csrf_token(await client.page("/tickets"))
        await session_ends(client, db)
        title = f"lost-{uuid.uuid4().hex[:8]}"
        typed = {"subject": "payment", "title": title, "message": "Line one\nline <two>"}
        secrets = {"csrf_token": token, "new_password": "hunter2-secret"}

        response = await client.http.post("/tickets", data={**typed, **secrets})

        assert response.status_code == 303
        assert response.headers["location"] == "/signin?next=%2Ftickets"
        kept = response.cookies[KEPT_FORM_COOKIE]
        assert title in kept_text(kept)
        assert token not in kept_text(kept) and "hunter2" not in kept_text(kept)
        signed_in_again = await client.submit(
            "/signin", {"name": name, "password": PASSWORD, "next": "/tickets"}, page="/signin"
        )
        assert signed_in_again.headers["location"] == "/tickets"
        page = await client.follow(signed_in_again)
        assert f'value="{title}"' in page and "Line one\nline &lt;two&gt;</textarea>" in page
        assert '<option value="payment" selected>' in page
        assert await tickets_titled(db, title) == 0, "nothing is sent on the customer's behalf"
        assert f'value="{title}"' not in await client.page("/tickets"), "shown once"
    finally:
        await client.close()


async def test_a_form_sent_to_an_action_goes_back_to_the_page_it_is_on(panel, db):
    client, _, name = await signed_in(panel, db)
    try:
        token = csrf_token(await client.page("/account"))
        await session_ends(client, db)
        email = f"kept-{uuid.uuid4().hex[:8]}@example.com"
        response = await client.http.post(
            "/account/email",
            data={"csrf_token": token, "email": email, "current_password": PASSWORD},
        )
        assert response.headers["location"] == "/signin?next=%2Faccount"
        assert PASSWORD not in kept_text(response.cookies[KEPT_FORM_COOKIE])
        assert email in kept_text(response.cookies[KEPT_FORM_COOKIE])
    finally:
        await client.close()


async def test_only_the_browser_that_typed_it_sees_it(panel, db):
    client, _, _ = await signed_in(panel, db)
    other, _, _ = await signed_in(panel, db)
    try:
        token = csrf_token(await client.page("/tickets"))
        await session_ends(client, db)
        title = f"mine-{uuid.uuid4().hex[:8]}"
        response = await client.http.post(
            "/tickets", data={"csrf_token": token, "subject": "other", "title": title}
        )
        other.http.cookies.set(KEPT_FORM_COOKIE, response.cookies[KEPT_FORM_COOKIE])
        assert title not in await other.page("/tickets")

        from_elsewhere = PageClient(panel.url)  # another site's form: none of our cookies
        try:
            response = await from_elsewhere.http.post("/tickets", data={"title": title})
            assert response.headers["location"] == "/signin?next=%2Ftickets"
            assert KEPT_FORM_COOKIE not in response.cookies
        finally:
            await from_elsewhere.close()
    finally:
        await client.close()
        await other.close()


async def test_an_order_typed_after_the_session_ended_comes_back_on_its_service(panel, db, shop):
    chosen = await shop.service("Default")
    await shop.service("Default")  # a later service of the category: not the one shown first
    client, customer_id, name = await signed_in(panel, db)
    try:
        page = f"/order/new?service={chosen}"
        token = csrf_token(await client.page(page))
        await session_ends(client, db)
        link = f"https://example.com/kept-{uuid.uuid4().hex[:8]}"
        typed = {"service": str(chosen), "link": link, "quantity": "250"}

        response = await client.http.post("/order/new", data={"csrf_token": token, **typed})

        assert response.headers["location"] == "/signin?next=%2Forder%2Fnew"
        signed_in_again = await client.submit(
            "/signin", {"name": name, "password": PASSWORD, "next": "/order/new"}, page="/signin"
        )
        form = await client.follow(signed_in_again)
        assert f'value="{link}"' in form and 'value="250"' in form
        assert f'<option value="{chosen}" selected' in form
        async with db.read() as conn:
            placed = select(func.count()).where(orders.c.customer_id == customer_id)
            assert await conn.scalar(placed) == 0, "nothing is ordered on the customer's behalf"
    finally:
        await client.close()
