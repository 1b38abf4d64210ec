"""A customer who forgot their password, in Chromium: from the sign-in page to a reset link
(read from the outbox, where the panel queues the e-mail), a new password, and signing in."""

import re

from pages.page_client import PASSWORD, customer_with_password
from playwright.async_api import expect
from sqlalchemy import select, update

from smmpanel.accounts.models import customers
from smmpanel.outbox.models import outbox

NEW_PASSWORD = "a passphrase from the mail"
RESET_LINK = re.compile(r"https?://\S+(/password/reset/[A-Za-z0-9_-]+)")


async def reset_link_sent_to(db, address: str) -> str:
    async with db.read() as conn:
        query = select(outbox.c.body).where(outbox.c.recipient == address)
        [body] = (await conn.execute(query)).scalars().all()
    found = RESET_LINK.search(body)
    assert found, body
    return found.group(1)


async def test_a_customer_resets_a_forgotten_password_through_the_link(new_visitor, db, screenshot):
    customer_id, name = await customer_with_password(db)
    address = f"{name}@example.test"
    async with db.write() as conn:
        await conn.execute(
            update(customers).where(customers.c.id == customer_id).values(email=address)
        )
    page = await new_visitor()
    await page.goto("/signin")
    await page.get_by_role("link", name="Forgot your password?").click()
    await page.get_by_label("Name or e-mail").fill(address)
    await page.get_by_role("button", name="Send me a link").click()
    await expect(page.get_by_role("status")).to_contain_text("a link is on its way")
    await screenshot(page, "password_forgot")

    await page.goto(await reset_link_sent_to(db, address))
    await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await page.get_by_label("New password again").fill(NEW_PASSWORD)
    await screenshot(page, "password_reset")
    await page.get_by_role("button", name="Set the new password").click()
    await expect(page).to_have_url(re.compile("/signin$"))
    await expect(page.get_by_role("status")).to_contain_text("Your password is changed")

    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("Wrong name or password")
    await page.get_by_label("Password").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile("/dashboard$"))

    await page.get_by_role("link", name="Account", exact=True).click()
    await expect(page.get_by_role("heading", name="Account", exact=True)).to_be_visible()
    await screenshot(page, "account")
