"""Signing in through the browser, as a person does, in a chosen language."""

import re

from pages.page_client import PASSWORD
from playwright.async_api import Page, expect


async def signed_in(page: Page, name: str, language: str, path: str = "/signin") -> None:
    """`page` signed in as `name` (customer, or operator with path="/admin/signin")."""
    await page.goto(f"/language/{language}?next={path}")
    await page.locator("input[name=name]").fill(name)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form button[type=submit]").last.click()
    await expect(page).not_to_have_url(re.compile("/signin"))
