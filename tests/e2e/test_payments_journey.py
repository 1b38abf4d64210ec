"""Customers top up in a real browser, in English and Traditional Chinese: by ECPay (against
tests/fakes/ecpay_cashier.py, ECPay's stage keys), by Stripe Checkout (against localstripe with
the hosted page of tests/payments/stripe_fixtures.py), by Cryptomus (against
tests/fakes/cryptomus.py) and by a bank transfer the operator approves. On a panel with a
database of its own (its payment methods would show on other tests' pages)."""

# The fixtures imported from the payments tests' fixture modules are parameters below.
# ruff: noqa: F811

import asyncio
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from harness import PanelProcess, free_port, panel_of_its_own, payment_method
from pages.page_client import PASSWORD, customer_with_password
from payments.cryptomus_fixtures import FakeCryptomus, shared_cryptomus  # noqa: F401 - fixtures
from payments.stripe_fixtures import (  # noqa: F401 - fixtures
    SECRET_KEY,
    WEBHOOK_SECRET,
    LocalStripe,
    localstripe,
)
from playwright.async_api import Browser, Page, expect

from smmpanel.accounts.service import balance_of
from smmpanel.db import Database
from smmpanel.money import parse, to_micros
from smmpanel.payments.methods import add_method
from smmpanel.payments.service import approve, payment_rows

CASHIER = Path(__file__).resolve().parents[1] / "fakes" / "ecpay_cashier.py"
Screenshot = Callable[[Page, str], Awaitable[None]]
STAGE = {"merchant_id": "2000132", "hash_key": "5294y06JbISpM5x9", "hash_iv": "v77hoKGq4kWxNNIS"}


def micros(amount: str) -> int:
    return to_micros(parse(amount))


@pytest.fixture(scope="module")
def cashier() -> AsyncIterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(CASHIER), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode()) from None
            subprocess.run(["sleep", "0.1"], check=True)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest_asyncio.fixture(scope="module")
async def top_up_shop(
    backend,
    tmp_path_factory,
    cashier,
    localstripe: LocalStripe,
    shared_cryptomus: FakeCryptomus,
) -> AsyncIterator[tuple]:
    folder = tmp_path_factory.mktemp("browser-payments")
    async with panel_of_its_own(backend, folder) as (process, database):
        terms = {
            key: value
            for key, value in payment_method(max_amount=micros("20000")).items()
            if key not in ("name", "gateway", "settings")
        }
        async with database.write() as conn:
            await add_method(
                conn,
                name="Card, ATM or store (ECPay)",
                name_zh="信用卡、ATM、超商（綠界）",
                gateway="ecpay",
                settings={**STAGE, "base_url": cashier},
                **terms,
            )
            await add_method(
                conn,
                name="Bank transfer",
                name_zh="銀行轉帳",
                instructions="Transfer to 812-0001-2345678; write its last five digits.",
                instructions_zh="請轉帳至 812-0001-2345678，並填寫轉帳帳號末五碼。",
                gateway="manual",
                settings={},
                **terms,
            )
            await add_method(
                conn,
                name="Card (Stripe)",
                name_zh="信用卡（Stripe）",
                gateway="stripe",
                settings={
                    "secret_key": SECRET_KEY,
                    "webhook_secret": WEBHOOK_SECRET,
                    "base_url": localstripe.url,
                },
                **{**terms, "currency": "USD"},
            )
            await add_method(
                conn,
                name="USDT (Cryptomus)",
                name_zh="USDT（Cryptomus）",
                gateway="cryptomus",
                settings=shared_cryptomus.settings(),
                **{**terms, "currency": "USDT"},  # at 1 USD of the panel's for 1 USDT
            )
        await stripe_sends_events_to(localstripe, process)
        yield process, database


async def stripe_sends_events_to(localstripe: LocalStripe, process: PanelProcess) -> None:
    async with httpx.AsyncClient() as http:
        registered = await http.post(
            f"{localstripe.url}/_config/webhooks/panel-{uuid.uuid4().hex[:8]}",
            json={
                "url": f"{process.url}/payments/stripe/webhook",
                "secret": WEBHOOK_SECRET,
                "events": ["checkout.session.completed"],
            },
        )
        registered.raise_for_status()


@pytest_asyncio.fixture
async def top_up_visitor(chromium: Browser, top_up_shop) -> AsyncIterator[Page]:
    process, _database = top_up_shop
    context = await chromium.new_context(
        base_url=process.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    yield await context.new_page()
    await context.close()


async def signed_in(page: Page, database: Database, language: str) -> int:
    customer_id, name = await customer_with_password(database)
    await page.goto("/signin")
    if language == "zh_TW":
        await page.goto("/language/zh_TW?next=/signin")
    await page.locator("input[name=name]").fill(name)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form button[type=submit]").last.click()
    await expect(page).not_to_have_url(re.compile("/signin"))
    return customer_id


async def balance(database: Database, customer_id: int) -> int:
    async with database.read() as conn:
        return await balance_of(conn, customer_id)


async def settled_by_webhook(database: Database, customer_id: int, timeout: float = 60.0) -> None:
    """The gateway's webhook may reach the panel after the customer is back on its page."""
    deadline = time.monotonic() + timeout
    while True:
        async with database.read() as conn:
            (payment,) = await payment_rows(conn, customer_id=customer_id)
        if payment.status != "pending" or time.monotonic() > deadline:
            assert payment.status == "paid", f"payment {payment.id} is {payment.status}"
            return
        await asyncio.sleep(0.1)


async def to_the_gateway(
    page: Page, method: str, amount: str, screenshot: Screenshot, funds_shot: str
) -> None:
    """From /funds (its screenshot `funds_shot`) with `method` and `amount` to the gateway's
    page, which shows that amount."""
    await page.goto("/funds")
    await page.locator("#pay-method").select_option(label=method)
    await page.locator("#pay-amount").fill(amount)
    await expect(page.locator("#pay-preview")).to_contain_text(amount)
    await screenshot(page, funds_shot)
    await page.locator("#pay-form button[type=submit]").click()
    await expect(page.locator("#amount-due")).to_contain_text(amount)


@pytest.mark.parametrize(("language", "paid_word"), [("en", "Paid"), ("zh_TW", "已付款")])
async def test_a_customer_tops_up_by_ecpay_and_sees_the_balance(
    top_up_visitor, top_up_shop, screenshot, language, paid_word
):
    _process, database = top_up_shop
    customer_id = await signed_in(top_up_visitor, database, language)

    await top_up_visitor.goto("/funds")
    await top_up_visitor.locator("#pay-method").select_option(index=0)
    await top_up_visitor.locator("#pay-amount").fill("500")
    # As the pages write money: the ISO code first, the server's decimals (pagekit.money_format).
    await expect(top_up_visitor.locator("#pay-preview")).to_contain_text(
        re.compile(r"TWD\s500\.00")
    )
    await screenshot(top_up_visitor, f"payments-{language}-1-funds")
    await top_up_visitor.locator("#pay-form button[type=submit]").click()

    await expect(top_up_visitor.get_by_role("heading", name="ECPay test cashier")).to_be_visible()
    await screenshot(top_up_visitor, f"payments-{language}-2-ecpay")
    assert await balance(database, customer_id) == 0, "nothing before the gateway says so"
    await top_up_visitor.get_by_role("button", name="Pay").click()

    await expect(top_up_visitor).to_have_url(re.compile(r"/funds/payments/\d+$"))
    await expect(top_up_visitor.locator("#payment-status")).to_have_text(paid_word)
    await screenshot(top_up_visitor, f"payments-{language}-3-paid")
    await top_up_visitor.goto("/funds")
    await expect(top_up_visitor.locator(".card .figure").first).to_contain_text("500.00")
    assert await balance(database, customer_id) == micros("500")


async def test_a_bank_transfer_waits_for_the_operator(top_up_visitor, top_up_shop, screenshot):
    _process, database = top_up_shop
    customer_id = await signed_in(top_up_visitor, database, "en")
    reference = f"TX{uuid.uuid4().hex[:6]}"

    await top_up_visitor.goto("/funds")
    await top_up_visitor.locator("#pay-method").select_option(label="Bank transfer (TWD)")
    await expect(top_up_visitor.locator("#pay-reference")).to_be_visible()
    await top_up_visitor.locator("#pay-amount").fill("1200")
    await top_up_visitor.locator("#pay-reference").fill(reference)
    await top_up_visitor.locator("#pay-form button[type=submit]").click()

    await expect(top_up_visitor.locator("#payment-status")).to_have_text("Waiting for payment")
    await expect(top_up_visitor.get_by_text(reference)).to_be_visible()
    await screenshot(top_up_visitor, "payments-en-4-bank-transfer-waiting")
    async with database.write() as conn:
        (payment,) = await payment_rows(conn, customer_id=customer_id)
        await approve(conn, payment.id)
    await top_up_visitor.reload()
    await expect(top_up_visitor.locator("#payment-status")).to_have_text("Paid")
    assert await balance(database, customer_id) == micros("1200")


@pytest.mark.parametrize(
    ("language", "method", "paid_word"),
    [("en", "Card (Stripe) (USD)", "Paid"), ("zh_TW", "信用卡（Stripe） (USD)", "已付款")],
)
async def test_a_customer_tops_up_by_stripe_and_sees_the_balance(
    top_up_visitor, top_up_shop, screenshot, language, method, paid_word
):
    _process, database = top_up_shop
    customer_id = await signed_in(top_up_visitor, database, language)

    await to_the_gateway(
        top_up_visitor, method, "150.00", screenshot, f"payments-{language}-5-stripe-funds"
    )
    await expect(top_up_visitor.get_by_role("heading", name="Stripe test checkout")).to_be_visible()
    await screenshot(top_up_visitor, f"payments-{language}-6-stripe")
    assert await balance(database, customer_id) == 0, "nothing before the gateway says so"
    await top_up_visitor.get_by_role("button", name="Pay").click()

    await expect(top_up_visitor).to_have_url(re.compile(r"/funds/payments/\d+$"))
    await settled_by_webhook(database, customer_id)
    await top_up_visitor.reload()
    await expect(top_up_visitor.locator("#payment-status")).to_have_text(paid_word)
    await screenshot(top_up_visitor, f"payments-{language}-7-stripe-paid")
    assert await balance(database, customer_id) == micros("150")


async def test_a_customer_tops_up_by_cryptomus_and_sees_the_balance(
    top_up_visitor, top_up_shop, screenshot
):
    _process, database = top_up_shop
    customer_id = await signed_in(top_up_visitor, database, "en")

    await to_the_gateway(
        top_up_visitor,
        "USDT (Cryptomus) (USDT)",
        "120.00",
        screenshot,
        "payments-en-8-cryptomus-funds",
    )
    await expect(
        top_up_visitor.get_by_role("heading", name="Cryptomus test invoice")
    ).to_be_visible()
    await screenshot(top_up_visitor, "payments-en-9-cryptomus")
    assert await balance(database, customer_id) == 0, "nothing before the gateway says so"
    await top_up_visitor.get_by_role("button", name="Pay").click()

    await expect(top_up_visitor).to_have_url(re.compile(r"/funds/payments/\d+$"))
    await settled_by_webhook(database, customer_id)
    await top_up_visitor.reload()
    await expect(top_up_visitor.locator("#payment-status")).to_have_text("Paid")
    await screenshot(top_up_visitor, "payments-en-10-cryptomus-paid")
    assert await balance(database, customer_id) == micros("120"), "1 USDT lands as 1 USD"
