"""What a shop's visitors and operators see of this release, in Chromium: the operator's
Markdown pages, a discount given on the customer's page and read back on /services, and a
service's Chinese name and type on a phone. Screenshots under artifacts/screenshots/<db>/."""

from e2e.signing import signed_in
from pages.page_client import customer_with_password, operator_account, unique
from playwright.async_api import Page, expect

from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.panel.content import PageText, add_page, set_published

PHONE = {"width": 390, "height": 844}
MARKDOWN = """# Refunds

Orders that do not start are **refunded in full**:

- to your balance
- within 24 hours

| Kind | Refill |
|---|---|
| Followers | 30 days |

Read the [API](/api) or <script>alert(1)</script> nothing else.
"""


async def fits(page: Page) -> bool:
    return await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


async def test_a_markdown_page_reads_in_both_languages_on_a_phone(new_visitor, db, screenshot):
    slug = unique("refunds")
    chinese = MARKDOWN.replace("Refunds", "退款")
    text = PageText(slug, "page", "Refunds", "退款說明", MARKDOWN, chinese)
    async with db.write() as conn:
        await set_published(conn, await add_page(conn, text), True)
    visitor = await new_visitor()
    await visitor.set_viewport_size(PHONE)
    for language, title in (("en", "Refunds"), ("zh_TW", "退款說明")):
        await visitor.goto(f"/language/{language}?next=/pages/{slug}")
        main = visitor.locator("main")
        await expect(main.locator("h1")).to_have_text(title)
        await expect(main.locator("h2")).to_have_count(1)
        await expect(main.locator("li")).to_have_count(2)
        await expect(main.locator("table td").first).to_have_text("Followers")
        link = main.get_by_role("link", name="API")
        assert await link.get_attribute("rel") == "nofollow noopener"
        assert await main.locator("script").count() == 0
        await expect(main).to_contain_text("<script>alert(1)</script>")  # shown as text
        assert await fits(visitor)
        await screenshot(visitor, f"shop-page-{language.replace('_', '-')}-390")


async def test_a_discount_set_by_the_operator_shows_on_the_customers_services(
    new_visitor, db, screenshot
):
    customer_id, customer_name = await customer_with_password(db, balance="100")
    name = unique("Discounted views")
    async with db.write() as conn:
        await create_service(
            conn,
            await category_id_for(conn, unique("Discounts")),
            name=name,
            type="Default",
            rate=2_000_000,
            min_quantity=10,
            max_quantity=1000,
        )
    operator = await new_visitor()
    await signed_in(operator, await operator_account(db), "en", "/admin/signin")
    await operator.goto(f"/admin/customers/{customer_id}")
    await operator.get_by_label("Discount percent").fill("12.5")
    await operator.get_by_role("button", name="Set discount").click()
    await expect(operator.locator("#discount")).to_contain_text("12.5%")
    await screenshot(operator, "shop-customer-discount")

    customer = await new_visitor()
    await signed_in(customer, customer_name, "en")
    await customer.goto(f"/services?q={name}")
    row = customer.locator("tbody tr").filter(has_text=name)
    await expect(row).to_contain_text("1.75")  # 2.00 less 12.5 %
    await screenshot(customer, "shop-services-discounted")


async def test_a_service_reads_in_chinese_on_a_phone(new_visitor, db, screenshot):
    _, customer_name = await customer_with_password(db, balance="10")
    english, chinese = unique("Story views"), f"限時動態觀看 {unique('zh')}"
    async with db.write() as conn:
        await create_service(
            conn,
            await category_id_for(conn, unique("Chinese texts")),
            name=english,
            name_zh_tw=chinese,
            description="Views on your story",
            description_zh_tw="限時動態的觀看次數",
            type="Custom Comments",
            rate=1_000_000,
            min_quantity=10,
            max_quantity=1000,
        )
    customer = await new_visitor()
    await customer.set_viewport_size(PHONE)
    await signed_in(customer, customer_name, "zh_TW")
    await customer.goto(f"/services?q={english}")
    row = customer.locator("tbody tr").filter(has_text=chinese)
    await expect(row).to_contain_text("限時動態的觀看次數")
    await expect(row).to_contain_text("自訂留言")
    await expect(row).not_to_contain_text(english)
    assert await fits(customer)
    await screenshot(customer, "shop-services-zh-TW-390")
