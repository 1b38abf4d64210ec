"""A support ticket in real browsers, in English and in Traditional Chinese, on both databases:
a customer opens it, an operator answers it from the queue, the customer sees the unread count
and reads the answer. Screenshots of each step."""

import re

import pytest
from e2e.signing import signed_in
from pages.page_client import customer_with_password, operator_account, unique
from playwright.async_api import expect

TICKET_PAGE = re.compile(r"/tickets/(\d+)$")
# What each language calls the ticket's statuses on the pages.
WORDS = {
    "en": {"open": "Open", "answered": "Replied", "new_reply": "new reply"},
    "zh_TW": {"open": "待回覆", "answered": "已回覆", "new_reply": "新回覆"},
}


@pytest.mark.parametrize("language", ["en", "zh_TW"])
async def test_a_customer_asks_an_operator_answers_and_the_customer_reads_it(
    new_visitor, db, screenshot, language
):
    words = WORDS[language]
    shot = f"tickets-{language.replace('_', '-')}"
    _, customer_name = await customer_with_password(db, balance="10")
    customer = await new_visitor()
    await signed_in(customer, customer_name, language)

    title = unique("Where is my order")
    await customer.locator("#nav-support").click()
    await customer.locator("select[name=subject]").select_option("order")
    await customer.locator("input[name=title]").fill(title)
    await customer.locator("#new-ticket-form textarea[name=message]").fill(
        "My order has not started.\nCould you look at it?"
    )
    await customer.locator("#new-ticket-form button[type=submit]").click()
    await expect(customer).to_have_url(TICKET_PAGE)
    ticket_id = int(TICKET_PAGE.search(customer.url).group(1))
    await expect(customer.locator("#ticket-status")).to_have_text(words["open"])
    await expect(customer.locator("#messages")).to_contain_text("Could you look at it?")
    await screenshot(customer, f"{shot}-1-customer-opened")

    operator = await new_visitor()
    await signed_in(operator, await operator_account(db), language, "/admin/signin")
    await operator.locator("#nav-tickets").click()
    await operator.locator("input[name=q]").fill(customer_name)
    await operator.locator("form[role=search] button[type=submit]").click()
    row = operator.locator("#tickets tr", has_text=title)
    await expect(row).to_contain_text(words["open"])
    await screenshot(operator, f"{shot}-2-operator-queue")
    await row.get_by_role("link", name=title).click()
    await expect(operator).to_have_url(re.compile(f"/admin/tickets/{ticket_id}$"))
    await operator.locator("#reply-form textarea[name=message]").fill(
        "It starts within the hour.\nSorry for the wait."
    )
    await operator.locator("#reply-form button[type=submit]").click()
    await expect(operator.locator("#ticket-status")).to_have_text(words["answered"])
    await screenshot(operator, f"{shot}-3-operator-answered")

    await customer.goto("/dashboard")
    await expect(customer.locator("#nav-support .badge")).to_have_text("1")
    await customer.locator("#nav-support").click()
    await expect(customer.locator("#tickets tr", has_text=title)).to_contain_text(
        words["new_reply"]
    )
    await screenshot(customer, f"{shot}-4-customer-list")
    await customer.get_by_role("link", name=title).click()
    await expect(customer.locator("#messages .from-support")).to_contain_text(
        "It starts within the hour."
    )
    await expect(customer.locator("#ticket-status")).to_have_text(words["answered"])
    await expect(customer.locator("#nav-support .badge")).to_have_count(0)
    await screenshot(customer, f"{shot}-5-customer-read")
