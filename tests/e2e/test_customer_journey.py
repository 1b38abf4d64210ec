"""A customer and an operator in real browsers, through the pages, on both databases."""

import re

from pages.page_client import PASSWORD, customer_with_password, operator_account, unique
from playwright.async_api import Page, expect
from sqlalchemy import select

from smmpanel.accounts.models import customers
from smmpanel.orders.placement import place_order

ORDER_PAGE = re.compile(r"/orders/(\d+)$")


async def sign_up(page: Page) -> str:
    name = unique("browser")
    await page.goto("/signup")
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_label("Password again").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("status")).to_contain_text("Your account is ready")
    return name


async def sign_in(page: Page, name: str, path: str = "/signin") -> None:
    await page.goto(path)
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).not_to_have_url(re.compile("/signin"))


async def accept_dialogs(page: Page) -> list[str]:
    """Accepts every dialog the page opens (Playwright dismisses them); their messages."""
    messages: list[str] = []

    async def accept(dialog) -> None:
        messages.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    return messages


async def signed_in_operator(new_visitor, db) -> Page:
    page = await new_visitor()
    await sign_in(page, await operator_account(db), "/admin/signin")
    return page


async def signed_in_customer(new_visitor, db, balance: str) -> tuple[Page, int]:
    customer_id, name = await customer_with_password(db, balance=balance)
    page = await new_visitor()
    await sign_in(page, name)
    return page, customer_id


async def customer_id_named(db, name: str) -> int:
    async with db.read() as conn:
        return await conn.scalar(select(customers.c.id).where(customers.c.name == name))


async def change_funds(operator: Page, customer_id: int, amount: str, reason: str) -> None:
    await operator.goto(f"/admin/customers/{customer_id}")
    await operator.get_by_label("Amount").fill(amount)
    await operator.get_by_label("Reason").fill(reason)
    await operator.get_by_role("button", name="Change funds").click()
    await expect(operator.get_by_role("status")).to_contain_text("Funds changed")


async def set_order_status(operator: Page, order_id: int, status: str, remains: str = "") -> None:
    await operator.goto(f"/admin/orders/{order_id}")
    await operator.get_by_label("Status").select_option(status)
    await operator.get_by_label("Remains").fill(remains)
    await operator.get_by_role("button", name="Save the change").click()
    await expect(operator.locator("td.status").first).to_have_text(status)


def balance_card(page: Page):
    return page.locator(".card", has_text="Balance").locator(".figure")


def order_row(page: Page, order_id: int):
    link = page.get_by_role("link", name=str(order_id), exact=True)
    return page.get_by_role("row").filter(has=link)


async def placed_by_hand(db, customer_id: int, service_id: int) -> int:
    """An order placed directly, for flows about what happens after placing."""
    fields = {"service": str(service_id), "link": f"https://example.com/{unique('p')}"}
    async with db.write() as conn:
        return await place_order(conn, customer_id, {**fields, "quantity": "100"})


async def test_funds_an_order_and_a_partial_refund_from_sign_up_to_the_ledger(
    new_visitor, db, shop
):
    service_id = await shop.service(rate="2.50")
    customer = await new_visitor()
    customer_id = await customer_id_named(db, await sign_up(customer))
    operator = await signed_in_operator(new_visitor, db)
    await change_funds(operator, customer_id, "20", "Bank transfer 42")

    await customer.goto("/dashboard")
    await expect(balance_card(customer)).to_contain_text("20.00")
    await customer.goto("/order/new")
    await customer.get_by_label("Category").select_option(label="Tests")
    await customer.get_by_label("Service").select_option(str(service_id))
    await customer.get_by_label("Link", exact=True).fill(f"https://example.com/{unique('post')}")
    await customer.get_by_label("Quantity").fill("1000")
    await expect(customer.locator("#charge")).to_have_text("USD\u00a02.50")
    await customer.get_by_role("button", name="Place order").click()
    await expect(customer).to_have_url(ORDER_PAGE)
    order_id = int(ORDER_PAGE.search(customer.url).group(1))
    await customer.goto("/orders")
    await expect(order_row(customer, order_id)).to_contain_text("Pending")

    await set_order_status(operator, order_id, "Partial", remains="400")

    await customer.goto("/dashboard")
    await expect(balance_card(customer)).to_contain_text("18.50")
    await customer.goto("/funds")
    ledger = customer.get_by_role("row")
    await expect(ledger.filter(has_text="Deposit")).to_contain_text("+USD 20.00")
    await expect(ledger.filter(has_text="Bank transfer 42")).to_have_count(1)
    await expect(ledger.filter(has_text="Order charge")).to_contain_text("-USD 2.50")
    refund = ledger.filter(has_text="Refund")
    await expect(refund).to_contain_text("+USD 1.00")
    await expect(refund).to_contain_text(f"Order {order_id}, refund of what was not delivered")


async def test_a_mass_order_places_the_good_line_and_explains_the_bad_one(new_visitor, db, shop):
    service_id = await shop.service(rate="1", min_quantity=10)
    customer, _ = await signed_in_customer(new_visitor, db, balance="10")
    good = f"{service_id}|https://example.com/{unique('good')}|100"
    bad = f"{service_id}|https://example.com/{unique('bad')}|5"

    await customer.goto("/order/mass")
    await customer.get_by_role("textbox").fill(f"{good}\n{bad}")
    await customer.get_by_role("button", name="Place orders").click()

    results = customer.get_by_role("row")
    await expect(results.filter(has_text=good)).to_contain_text("placed")
    await expect(results.filter(has_text=bad)).to_contain_text("Quantity less than minimal 10")
    await customer.goto("/dashboard")
    await expect(balance_card(customer)).to_contain_text("9.90")


async def test_a_refill_and_a_cancel_are_requested_from_the_order_page(new_visitor, db, shop):
    service_id = await shop.service(rate="1", refill=True, cancel=True)
    customer, customer_id = await signed_in_customer(new_visitor, db, balance="10")
    to_refill = await placed_by_hand(db, customer_id, service_id)
    to_cancel = await placed_by_hand(db, customer_id, service_id)
    operator = await signed_in_operator(new_visitor, db)
    await set_order_status(operator, to_refill, "Completed")

    await customer.goto(f"/orders/{to_refill}")
    await customer.get_by_role("button", name="Request a refill").click()
    await expect(customer.get_by_role("status")).to_contain_text("requested")
    await expect(customer.get_by_role("heading", name="Refills")).to_be_visible()
    await expect(customer.get_by_role("button", name="Request a refill")).to_have_count(0)

    await customer.goto(f"/orders/{to_cancel}")
    questions = await accept_dialogs(customer)
    await customer.get_by_role("button", name="Request a cancel").click()
    await expect(customer.get_by_role("status")).to_contain_text("Cancel requested")
    await expect(customer.get_by_role("heading", name="Cancel requests")).to_be_visible()
    await expect(customer.get_by_role("button", name="Request a cancel")).to_have_count(0)
    assert questions == [
        "Ask to cancel this order? The operator decides; what was not delivered is refunded."
    ]

    await operator.goto("/admin/refills")
    await expect(order_row(operator, to_refill)).to_be_visible()
    await operator.goto("/admin/cancels")
    await expect(order_row(operator, to_cancel)).to_be_visible()


async def test_a_new_api_key_is_shown_once_with_a_copy_button(new_visitor, db):
    customer, _ = await signed_in_customer(new_visitor, db, balance="1")
    await customer.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await customer.goto("/api")
    await customer.get_by_label("Key name (optional)").fill("my site")
    await customer.get_by_role("button", name="Create a new API key").click()
    key = await customer.locator("#new-key-value").inner_text()
    await customer.get_by_role("button", name="Copy").click()
    await expect(customer.locator("#copy-key")).to_have_text("Copied")
    assert await customer.evaluate("navigator.clipboard.readText()") == key
    await customer.reload()
    await expect(customer.get_by_role("row", name=re.compile("my site"))).to_be_visible()
    await expect(customer.locator("#new-key-value")).to_have_count(0)
    questions = await accept_dialogs(customer)
    await customer.get_by_role("button", name="Revoke").click()
    await expect(customer.get_by_role("status")).to_contain_text("Key revoked")
    assert questions and questions[0].startswith("Revoke this key?")


CUSTOMER_PAGES = {
    "dashboard": "/dashboard",
    "new-order": "/order/new",
    "orders": "/orders",
    "funds": "/funds",
    "api": "/api",
}
OPERATOR_PAGES = {
    "admin-dashboard": "/admin",
    "admin-customers": "/admin/customers",
    "admin-orders": "/admin/orders",
    "admin-catalogue": "/admin/catalog",
    "admin-providers": "/admin/providers",
    "admin-settings": "/admin/settings",
}


async def visit_and_save(page: Page, path: str, name: str, screenshot) -> None:
    response = await page.goto(path)
    assert response.status == 200, (path, response.status)
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await screenshot(page, name)


async def switch_to_chinese(customer: Page) -> None:
    await customer.goto("/dashboard")
    await customer.get_by_role("link", name="繁體中文").click()
    await expect(customer.locator("html")).to_have_attribute("lang", "zh-TW")
    await expect(customer.get_by_role("heading", level=1)).to_have_text("總覽")
    await expect(customer.locator(".card", has_text="餘額")).to_contain_text("49.88")
    await customer.goto("/order/new")
    await expect(customer.get_by_role("heading", level=1)).to_have_text("新訂單")
    await expect(customer.get_by_role("button", name="下單")).to_be_visible()


async def test_the_main_pages_in_english_and_in_chinese_saved_as_screenshots(
    new_visitor, db, shop, screenshot
):
    service_id = await shop.service(rate="1.20", refill=True, cancel=True)
    customer, customer_id = await signed_in_customer(new_visitor, db, balance="50")
    order_id = await placed_by_hand(db, customer_id, service_id)
    pages = {**CUSTOMER_PAGES, "order-detail": f"/orders/{order_id}"}
    for name, path in pages.items():
        await visit_and_save(customer, path, name, screenshot)
    await switch_to_chinese(customer)
    for name, path in pages.items():
        await visit_and_save(customer, path, f"{name}.zh-TW", screenshot)

    operator = await signed_in_operator(new_visitor, db)
    admin_pages = {
        **OPERATOR_PAGES,
        "admin-order-detail": f"/admin/orders/{order_id}",
        "admin-customer-detail": f"/admin/customers/{customer_id}",
    }
    for name, path in admin_pages.items():
        await visit_and_save(operator, path, name, screenshot)
