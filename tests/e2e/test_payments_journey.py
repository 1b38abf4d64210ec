"""Customers top up in a real browser, in English and Traditional Chinese: by ECPay (against
tests/fakes/ecpay_cashier.py, ECPay's stage keys) and by a bank transfer the operator approves.
On a panel with a database of its own (its payment methods would show on other tests' pages)."""

import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from harness import PanelProcess, drop_postgres_database, free_port, migrated
from pages.page_client import PASSWORD, customer_with_password
from playwright.async_api import Browser, Page, expect

from smmpanel.accounts.service import balance_of
from smmpanel.db import Database
from smmpanel.money import parse, to_micros
from smmpanel.payments.methods import add_method
from smmpanel.payments.service import approve, payment_rows

CASHIER = Path(__file__).resolve().parents[1] / "fakes" / "ecpay_cashier.py"
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
async def top_up_shop(backend, tmp_path_factory, cashier) -> AsyncIterator[tuple]:
    url = await migrated(backend, tmp_path_factory.mktemp("browser-payments"))
    database = Database(url, pool_size=2)
    terms = {
        "rate": micros("1"),
        "min_amount": micros("100"),
        "max_amount": micros("20000"),
        "fee_percent": 0,
        "fee_fixed": 0,
        "bonus_percent": 0,
        "bonus_from": 0,
        "currency": "TWD",
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
            instructions="Transfer to 812-0001-2345678 and write the transfer's last five digits.",
            instructions_zh="請轉帳至 812-0001-2345678，並填寫轉帳帳號末五碼。",
            gateway="manual",
            settings={},
            **terms,
        )
    process = PanelProcess(url)
    yield process, database
    process.stop()
    await database.dispose()
    if backend == "postgresql":
        await drop_postgres_database(url)


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


@pytest.mark.parametrize(("language", "paid_word"), [("en", "Paid"), ("zh_TW", "已付款")])
async def test_a_customer_tops_up_by_ecpay_and_sees_the_balance(
    top_up_visitor, top_up_shop, screenshot, language, paid_word
):
    _process, database = top_up_shop
    customer_id = await signed_in(top_up_visitor, database, language)

    await top_up_visitor.goto("/funds")
    await top_up_visitor.locator("#pay-method").select_option(index=0)
    await top_up_visitor.locator("#pay-amount").fill("500")
    await expect(top_up_visitor.locator("#pay-preview")).to_contain_text("500.00")
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
