"""The operator's new tools and a form that outlives its session, in Chromium: a customer added
on the pages signs in; the catalogue file downloaded, edited and imported after its preview; a
ticket typed after the session ended is there again after signing in. Screenshots under
artifacts/screenshots/<db>/."""

import json
import re
from pathlib import Path

import pytest
from e2e.signing import signed_in
from pages.page_client import PASSWORD, customer_with_password, operator_account, unique
from playwright.async_api import expect
from sqlalchemy import select

from smmpanel.catalog.models import services
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.pagekit.pages import SESSION_COOKIE
from smmpanel.pagekit.sessions import end_session


@pytest.mark.parametrize("language", ["en", "zh_TW"])
async def test_a_customer_added_on_the_pages_signs_in(new_visitor, db, screenshot, language):
    operator = await new_visitor()
    await signed_in(operator, await operator_account(db), language, "/admin/signin")
    await operator.goto("/admin/customers/new")
    name = unique("added")
    form = operator.locator("#new-customer")
    await form.locator("input[name=name]").fill(name)
    await form.locator("input[name=email]").fill(f"{name}@example.com")
    await form.locator("input[name=password]").fill(PASSWORD)
    await screenshot(operator, f"tools-new-customer-{language.replace('_', '-')}")
    await form.locator("button[type=submit]").click()
    await expect(operator).to_have_url(re.compile(r"/admin/customers/\d+$"))
    await expect(operator.locator("main")).to_contain_text(f"{name}@example.com")

    customer = await new_visitor()
    await signed_in(customer, name, language)
    await expect(customer).to_have_url(re.compile("/dashboard"))


async def test_the_catalogue_file_is_edited_and_imported_after_its_preview(
    new_visitor, db, screenshot, tmp_path: Path
):
    category = unique("File import")
    async with db.write() as conn:
        service_id = await create_service(
            conn,
            await category_id_for(conn, category),
            name=unique("Imported likes"),
            type="Default",
            rate=2_000_000,
            min_quantity=10,
            max_quantity=1000,
        )
    operator = await new_visitor()
    await signed_in(operator, await operator_account(db), "en", "/admin/signin")
    await operator.goto("/admin/catalog/transfer")
    async with operator.expect_download() as downloading:
        await operator.locator("#export-link").click()
    exported = json.loads(Path(await (await downloading.value).path()).read_text())
    [mine] = [entry for entry in exported["categories"] if entry["name"] == category]
    mine["services"][0]["rate"] = "3.5"
    edited = tmp_path / "catalogue.json"
    edited.write_text(json.dumps({"categories": [mine]}))

    await operator.locator("#import-form input[type=file]").set_input_files(edited)
    await operator.get_by_role("button", name="Preview the import").click()
    await expect(operator.locator(f"#changed-{service_id}")).to_contain_text("rate: 2 → 3.5")
    await screenshot(operator, "tools-catalogue-import-preview")
    assert await _rate(db, service_id) == 2_000_000, "a preview writes nothing"
    await operator.get_by_role("button", name="Import this file").click()
    await expect(operator.locator(".flash.ok")).to_be_visible()
    assert await _rate(db, service_id) == 3_500_000


async def _rate(db, service_id: int) -> int:
    async with db.read() as conn:
        return await conn.scalar(select(services.c.rate).where(services.c.id == service_id))


async def test_a_ticket_typed_after_the_session_ended_is_there_after_signing_in(
    new_visitor, db, screenshot
):
    _, name = await customer_with_password(db)
    customer = await new_visitor()
    await signed_in(customer, name, "en")
    await customer.goto("/tickets")
    title = unique("lost words")
    await customer.locator("input[name=title]").fill(title)
    await customer.locator("textarea[name=message]").fill("Typed while away.")
    [session] = [c for c in await customer.context.cookies() if c["name"] == SESSION_COOKIE]
    async with db.write() as conn:
        await end_session(conn, session["value"])

    await customer.get_by_role("button", name="Open the ticket").click()
    await expect(customer).to_have_url(re.compile("/signin"))
    await customer.locator("input[name=name]").fill(name)
    await customer.locator("input[name=password]").fill(PASSWORD)
    await customer.locator("form button[type=submit]").last.click()
    await expect(customer).to_have_url(re.compile("/tickets$"))
    await expect(customer.locator("input[name=title]")).to_have_value(title)
    await expect(customer.locator("textarea[name=message]")).to_have_value("Typed while away.")
    await screenshot(customer, "tools-kept-ticket-form")
