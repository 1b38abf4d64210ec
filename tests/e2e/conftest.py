"""Browser tests: Debian's Chromium, driven by Playwright, against a real panel per database.

One headless browser per session and a new context (cookies, storage) per visitor. Where
/usr/bin/chromium is missing the tests are skipped, unless CI or SMMPANEL_TEST_REQUIRE_POSTGRES
is set: then they fail.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from harness import REQUIRE_POSTGRES
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling home, which the closed
# network of CI refuses, slowly.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WAIT_MS = 10_000
VIEWPORT = {"width": 1280, "height": 900}

Screenshot = Callable[[Page, str], Awaitable[None]]

# Assertions wait as long as actions do: a busy CI machine renders slowly.
expect.set_options(timeout=WAIT_MS)


@pytest_asyncio.fixture(scope="session")
async def chromium() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium and chromium-driver"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " (required here, as .ci/run does)")
        pytest.skip(message)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest_asyncio.fixture
async def new_visitor(chromium: Browser, panel) -> AsyncIterator[Callable[[], Awaitable[Page]]]:
    """Opens a page in a fresh context: a visitor with no cookies. Closed after the test."""
    contexts: list[BrowserContext] = []

    async def open_page() -> Page:
        context = await chromium.new_context(base_url=panel.url, viewport=VIEWPORT)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return await context.new_page()

    yield open_page
    for context in contexts:
        await context.close()


@pytest.fixture
def screenshot(backend: str) -> Screenshot:
    """Saves a full-page screenshot to artifacts/screenshots/<backend>/<name>.png."""
    folder = SCREENSHOTS / backend
    folder.mkdir(parents=True, exist_ok=True)

    async def save(page: Page, name: str) -> None:
        await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return save
