"""No page wider than the window: customer pages on a phone and a desktop, admin pages on a
tablet, in both languages, with data long enough to push a careless page sideways.

Each page is saved as artifacts/screenshots/<db>/width-<language>-<size>-<page>.png.
"""

import re

import pytest
from e2e.signing import signed_in
from pages.page_client import customer_with_password, operator_account, unique
from playwright.async_api import Page, expect

from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.money import parse, to_micros
from smmpanel.orders.placement import place_order
from smmpanel.support.tickets import NewTicket, open_ticket

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}
LANGUAGES = ["en", "zh_TW"]
# A page's screenshot is named by its path with "one" for an id: each run replaces the last.
ID_IN_PATH = re.compile(r"/\d+")

CUSTOMER_PAGES = [
    "/",
    "/services",
    "/updates",
    "/dashboard",
    "/order/new",
    "/order/mass",
    "/orders",
    "/funds",
    "/api",
    "/tickets",
    "/account",
    "/account/two-factor",
    "/news",
]
SIGNED_OUT_PAGES = ["/signin", "/signup", "/password/forgot"]
ADMIN_PAGES = [
    "/admin",
    "/admin/orders",
    "/admin/customers",
    "/admin/catalog",
    "/admin/providers",
    "/admin/payments",
    "/admin/tickets",
    "/admin/settings",
    "/admin/operators",
    "/admin/outbox",
    "/admin/audit",
    "/admin/customers/new",
    "/admin/catalog/categories",
    "/admin/catalog/services/new",
    "/admin/catalog/transfer",
    "/admin/orders/doubts",
    "/admin/refills",
    "/admin/cancels",
    "/admin/payment-methods",
    "/admin/canned-replies",
    "/admin/pages",
    "/admin/me",
    "/admin/two-factor",
]

# A real buyer's link can be long and unbroken; names can be long too.
LONG_LINK = "https://www.instagram.com/p/" + "CxYz0123456789abcdefghij" * 8
LONG_NAME = (
    "Instagram Followers — Real Looking Profiles, Worldwide, Instant Start, "
    "30 Days Refill Guarantee, Speed 10K/Day, Non Drop, HighQualityPremiumAccounts"
)


async def seeded_customer(db) -> tuple[int, str, int, int]:
    """A customer with a long-named service's order for a 200-character link and a ticket
    with a long title; (customer id, name, order id, ticket id)."""
    customer_id, name = await customer_with_password(db, balance="100")
    async with db.write() as conn:
        category_id = await category_id_for(conn, "Width tests with a long category name")
        service_id = await create_service(
            conn,
            category_id,
            name=f"{LONG_NAME} {unique('w')}",
            type="Default",
            rate=to_micros(parse("1.2345")),
            min_quantity=10,
            max_quantity=100_000,
        )
    link = (LONG_LINK + unique("x"))[:200]
    assert len(link) == 200
    fields = {"service": str(service_id), "link": link, "quantity": "1000"}
    async with db.write() as conn:
        order_id = await place_order(conn, customer_id, fields)
    ticket = NewTicket(
        subject="order",
        title="Where is my order? " + "ThisTitleHasNoSpacesAtAll" * 5,
        message=LONG_LINK,
        order_ids=str(order_id),
    )
    async with db.write() as conn:
        ticket_id = await open_ticket(conn, customer_id, ticket, base_url="http://127.0.0.1")
    return customer_id, name, order_id, ticket_id


async def overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    return await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


async def widths_over(
    page: Page, paths: list[str], size: dict, language: str, screenshot
) -> dict[str, int]:
    """Visits each path at the window size; the paths wider than the window, by how much."""
    await page.set_viewport_size(size)
    too_wide: dict[str, int] = {}
    for path in paths:
        response = await page.goto(path)
        assert response is not None and response.status == 200, (path, language)
        html_lang = await page.locator("html").get_attribute("lang")
        assert html_lang == language.replace("_", "-"), (path, html_lang)
        name = ID_IN_PATH.sub("/one", path).strip("/").replace("/", "-") or "home"
        await screenshot(page, f"width-{language.replace('_', '-')}-{size['width']}-{name}")
        excess = await overflow(page)
        if excess > 0:
            too_wide[path] = excess
    return too_wide


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_customer_pages_fit_the_window(new_visitor, db, screenshot, language, size):
    _, name, order_id, ticket_id = await seeded_customer(db)
    visitor = await new_visitor()
    await visitor.goto(f"/language/{language}?next=/")
    too_wide = await widths_over(visitor, SIGNED_OUT_PAGES, size, language, screenshot)

    customer = await new_visitor()
    await signed_in(customer, name, language)
    paths = [*CUSTOMER_PAGES, f"/orders/{order_id}", f"/tickets/{ticket_id}"]
    too_wide |= await widths_over(customer, paths, size, language, screenshot)
    assert too_wide == {}


@pytest.mark.parametrize("language", LANGUAGES)
async def test_admin_pages_fit_a_tablet(new_visitor, db, screenshot, language):
    customer_id, _, order_id, ticket_id = await seeded_customer(db)
    operator = await new_visitor()
    await signed_in(operator, await operator_account(db), language, "/admin/signin")
    paths = [
        *ADMIN_PAGES,
        f"/admin/orders/{order_id}",
        f"/admin/customers/{customer_id}",
        f"/admin/tickets/{ticket_id}",
    ]
    assert await widths_over(operator, paths, TABLET, language, screenshot) == {}


async def test_the_current_page_is_marked_in_the_menu_that_folds_on_a_phone(
    new_visitor, db, screenshot
):
    _, name, order_id, _ = await seeded_customer(db)
    customer = await new_visitor()
    await signed_in(customer, name, "en")
    await customer.goto(f"/orders/{order_id}")
    current = customer.locator("header a[aria-current='page']")
    await expect(current).to_have_text(["Orders"])

    await customer.set_viewport_size(PHONE)
    await customer.goto("/orders")
    await expect(current).to_be_hidden()
    await customer.get_by_text("Menu", exact=True).click()
    await expect(current).to_be_visible()
    await expect(customer.get_by_role("link", name="Funds")).to_be_visible()
    assert await overflow(customer) <= 0
    await screenshot(customer, "width-en-390-menu-open")


async def test_the_operators_current_page_is_marked_in_the_menu(new_visitor, db):
    operator = await new_visitor()
    await signed_in(operator, await operator_account(db), "en", "/admin/signin")
    await operator.goto("/admin/catalog")
    await expect(operator.locator("header a[aria-current='page']")).to_have_text(["Catalogue"])
    await operator.goto("/admin")
    await expect(operator.locator("header a[aria-current='page']")).to_have_text(["Dashboard"])
