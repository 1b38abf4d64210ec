"""The operator's catalogue in a real browser: a filtered list, the checked services changed at
once through the forms the check boxes and row buttons belong to, and back to the same list."""

import re

from pages.page_client import PASSWORD, operator_account, unique
from playwright.async_api import Page, expect
from sqlalchemy import func, select

from smmpanel.catalog.models import categories
from smmpanel.catalog.service import category_id_for, create_service


async def signed_in_operator(new_visitor, db) -> Page:
    page = await new_visitor()
    await page.goto("/admin/signin")
    await page.get_by_label("Name").fill(await operator_account(db))
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).not_to_have_url(re.compile("/signin"))
    return page


async def category_of_three(db) -> tuple[int, str, list[int]]:
    async with db.write() as conn:
        position = await conn.scalar(select(func.max(categories.c.position))) or 0
        name = unique("Browser catalogue")
        category_id = await category_id_for(conn, name, position + 1)
        ids = [
            await create_service(
                conn,
                category_id,
                name=f"{name} {number}",
                type="Default",
                rate=2_000_000,
                min_quantity=10,
                max_quantity=1000,
            )
            for number in range(3)
        ]
    return category_id, name, ids


async def test_the_operator_filters_switches_and_reprices_the_checked_services(
    new_visitor, db, screenshot
):
    category_id, name, ids = await category_of_three(db)
    operator = await signed_in_operator(new_visitor, db)
    await operator.goto("/admin/catalog")
    filters = operator.get_by_role("search")
    await filters.get_by_label("Category").select_option(label=name)
    await operator.get_by_role("button", name="Search").click()
    await expect(operator.locator("#matching")).to_have_text("3 services match.")
    assert "category=" in operator.url
    filtered = (
        f"{operator.url.split('?')[0]}?category={category_id}"  # the list, as redirects spell it
    )

    await operator.get_by_label("Select every service of this page").check()
    await operator.get_by_role("button", name="Disable the checked services").click()
    await expect(operator.get_by_role("status")).to_contain_text("3 services disabled.")
    assert operator.url == filtered
    rows = operator.locator("#services tbody tr")
    await expect(rows.filter(has_text="Yes")).to_have_count(0)

    await rows.filter(has_text=f"{name} 1").get_by_role("button", name="Enable").click()
    await expect(operator.get_by_role("status")).to_contain_text(f"Service {ids[1]} is on offer.")
    assert operator.url == filtered
    await screenshot(operator, "admin-catalogue-filtered")

    await operator.get_by_label(f"{name} 0", exact=True).check()
    change = operator.get_by_label("Change", exact=True)
    await change.fill("+10")
    await change.press("Enter")  # the preview, not a switch: the first button of the form
    await expect(operator.get_by_role("heading", level=1)).to_have_text("New rates")
    await operator.get_by_role("button", name="Set 1 new rate").click()
    await expect(operator.get_by_role("status")).to_contain_text("Changed the rate of 1 service.")
    assert operator.url == filtered
    await expect(operator.locator(f"#service-{ids[0]}")).to_contain_text("2.2")
