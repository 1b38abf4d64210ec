"""ECPay end to end on a panel process: the customer is sent to ECPay with a signed form, and
ECPay's notices (signed with the stage merchant's published keys) credit the payment once.
Stage merchant 2000132 and its keys are the ones ECPay publishes for testing."""

import asyncio
import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from harness import panel_of_its_own, payment_method
from page_client import PageClient, customer_with_password, text_of
from sqlalchemy import select

from smmpanel.accounts.audit import audit
from smmpanel.accounts.service import balance_of
from smmpanel.db import Database
from smmpanel.money import parse, to_micros
from smmpanel.payments.gateways.ecpay import check_mac_value
from smmpanel.payments.methods import add_method
from smmpanel.payments.models import payment_notices
from smmpanel.payments.service import payment_by_id

STAGE = {"merchant_id": "2000132", "hash_key": "5294y06JbISpM5x9", "hash_iv": "v77hoKGq4kWxNNIS"}
STAGE_URL = "https://payment-stage.ecpay.com.tw"
LIVE_SECRET = "a-secret-key-long-enough-for-production-0123456789"
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def micros(amount: str) -> int:
    return to_micros(parse(amount))


async def ecpay_method(database: Database) -> str:
    async with database.write() as conn:
        method_id = await add_method(
            conn,
            **payment_method(
                gateway="ecpay",
                max_amount=micros("20000"),
                settings={**STAGE, "base_url": STAGE_URL},
            ),
        )
    return str(method_id)


@pytest_asyncio.fixture(scope="module")
async def ecpay_panel(backend, tmp_path_factory) -> AsyncIterator[tuple]:
    async with panel_of_its_own(backend, tmp_path_factory.mktemp("ecpay")) as (process, db):
        yield process, db, await ecpay_method(db)


@pytest_asyncio.fixture(scope="module")
async def live_ecpay_panel(backend, tmp_path_factory) -> AsyncIterator[tuple]:
    env = {"SMMPANEL_ENVIRONMENT": "production", "SMMPANEL_SECRET_KEY": LIVE_SECRET}
    folder = tmp_path_factory.mktemp("ecpay-live")
    async with panel_of_its_own(backend, folder, env=env) as (process, db):
        yield process, db, await ecpay_method(db)


async def start_paying(panel: tuple, amount: str) -> tuple[PageClient, int, dict[str, str]]:
    """A signed-in customer who chose ECPay: (client, customer id, the form sent to ECPay)."""
    process, database, method_id = panel
    customer_id, name = await customer_with_password(database)
    client = PageClient(process.url)
    assert (await client.sign_in(name)).status_code == 303
    response = await client.submit(
        "/funds/pay", {"method": method_id, "amount": amount}, page="/funds"
    )
    assert response.status_code == 200, text_of(response.text)[:400]
    (policy,) = response.headers.get_list("content-security-policy")
    assert policy.endswith(f"form-action 'self' {STAGE_URL}"), "ECPay's origin, no other"
    assert f'action="{STAGE_URL}/Cashier/AioCheckOut/V5"' in response.text
    form = {name: html.unescape(value) for name, value in HIDDEN.findall(response.text)}
    form.pop("csrf_token", None)
    return client, customer_id, form


def signed(fields: dict[str, str]) -> dict[str, str]:
    return {**fields, "CheckMacValue": check_mac_value(fields, STAGE["hash_key"], STAGE["hash_iv"])}


def paid_notice(form: dict[str, str], **changes: str) -> dict[str, str]:
    fields = {
        "MerchantID": STAGE["merchant_id"],
        "MerchantTradeNo": form["MerchantTradeNo"],
        "StoreID": "",
        "RtnCode": "1",
        "RtnMsg": "交易成功",
        "TradeNo": "2412031234567890",
        "TradeAmt": form["TotalAmount"],
        "PaymentDate": "2026/12/03 15:00:00",
        "PaymentType": "Credit_CreditCard",
        "PaymentTypeChargeFee": "10",
        "TradeDate": form["MerchantTradeDate"],
        "SimulatePaid": "0",
        "CustomField1": "",
        "CustomField2": "",
        "CustomField3": "",
        "CustomField4": "",
    }
    return signed({**fields, **changes})


async def notify(panel: tuple, fields: dict[str, str], path: str = "notify") -> httpx.Response:
    process, _database, _method = panel
    async with httpx.AsyncClient() as http:
        return await http.post(f"{process.url}/payments/ecpay/{path}", data=fields)


async def payment_of(panel: tuple, client: PageClient) -> int:
    funds = await client.page("/funds")
    return int(re.search(r'href="/funds/payments/(\d+)"', funds).group(1))


async def test_fifty_identical_paid_notices_credit_once(ecpay_panel):
    client, customer_id, form = await start_paying(ecpay_panel, "500")
    notice = paid_notice(form)

    replies = await asyncio.gather(*(notify(ecpay_panel, notice) for _ in range(50)))

    assert {(reply.status_code, reply.text) for reply in replies} == {(200, "1|OK")}
    _process, database, _method = ecpay_panel
    async with database.read() as conn:
        assert await balance_of(conn, customer_id) == micros("500")
        assert await audit(conn) == []
    payment_id = await payment_of(ecpay_panel, client)
    assert "Paid" in text_of(await client.page(f"/funds/payments/{payment_id}"))
    await client.close()


async def test_a_forged_notice_changes_nothing_and_is_refused(ecpay_panel):
    client, customer_id, form = await start_paying(ecpay_panel, "800")
    honest = paid_notice(form)
    other_keys = {
        **{k: v for k, v in honest.items() if k != "CheckMacValue"},
        "CheckMacValue": check_mac_value(honest, "0000000000000000", "0000000000000000"),
    }
    forgeries = [
        {**honest, "TradeAmt": "8000"},  # the amount changed after signing
        {k: v for k, v in honest.items() if k != "CheckMacValue"},  # unsigned
        other_keys,
    ]
    elsewhere = paid_notice(form, MerchantTradeNo="SP999999999NOPE")
    unknown_forged = {**elsewhere, "CheckMacValue": other_keys["CheckMacValue"]}

    replies = [await notify(ecpay_panel, forged) for forged in [*forgeries, unknown_forged]]

    assert [reply.text for reply in replies] == ["0|Error"] * 4
    assert {reply.status_code for reply in replies} == {400}
    # Signed with the method's keys but about no payment of this panel: taken, so ECPay stops
    # sending it, and ignored.
    assert (await notify(ecpay_panel, elsewhere)).text == "1|OK"
    _process, database, _method = ecpay_panel
    payment_id = await payment_of(ecpay_panel, client)
    async with database.read() as conn:
        assert await balance_of(conn, customer_id) == 0
        assert (await payment_by_id(conn, payment_id)).status == "pending"
        recorded = await conn.execute(
            select(payment_notices.c.verified).where(payment_notices.c.payment_id == payment_id)
        )
        assert [row.verified for row in recorded] == [False, False, False]
    await client.close()


async def test_a_paid_amount_that_differs_goes_to_review(ecpay_panel):
    client, customer_id, form = await start_paying(ecpay_panel, "1000")

    reply = await notify(ecpay_panel, paid_notice(form, TradeAmt="100"))

    assert reply.text == "1|OK"
    _process, database, _method = ecpay_panel
    payment_id = await payment_of(ecpay_panel, client)
    async with database.read() as conn:
        payment = await payment_by_id(conn, payment_id)
        assert (payment.status, await balance_of(conn, customer_id)) == ("review", 0)
    assert "checks it" in text_of(await client.page(f"/funds/payments/{payment_id}"))
    await client.close()


async def test_an_atm_account_is_shown_to_the_customer_until_it_is_paid(ecpay_panel):
    client, customer_id, form = await start_paying(ecpay_panel, "300")
    info = signed(
        {
            "MerchantID": STAGE["merchant_id"],
            "MerchantTradeNo": form["MerchantTradeNo"],
            "StoreID": "",
            "RtnCode": "2",
            "RtnMsg": "Get VirtualAccount Succeeded",
            "TradeNo": "2412031234500001",
            "TradeAmt": "300",
            "PaymentType": "ATM_TAISHIN",
            "TradeDate": form["MerchantTradeDate"],
            "BankCode": "812",
            "vAccount": "9103522850420212",
            "ExpireDate": "2026/12/06",
            "CustomField1": "",
            "CustomField2": "",
            "CustomField3": "",
            "CustomField4": "",
        }
    )

    assert (await notify(ecpay_panel, info, path="info")).text == "1|OK"

    payment_id = await payment_of(ecpay_panel, client)
    page = text_of(await client.page(f"/funds/payments/{payment_id}"))
    assert "Bank code 812" in page and "Account number 9103522850420212" in page
    assert "Pay before 2026/12/06" in page
    _process, database, _method = ecpay_panel
    async with database.read() as conn:
        assert await balance_of(conn, customer_id) == 0
    await client.close()


async def test_a_simulated_payment_credits_nothing_in_production(live_ecpay_panel):
    client, customer_id, form = await start_paying(live_ecpay_panel, "500")

    reply = await notify(live_ecpay_panel, paid_notice(form, SimulatePaid="1"))

    assert reply.text == "1|OK", "ECPay is answered: it must not send it again"
    _process, database, _method = live_ecpay_panel
    payment_id = await payment_of(live_ecpay_panel, client)
    async with database.read() as conn:
        assert await balance_of(conn, customer_id) == 0
        assert (await payment_by_id(conn, payment_id)).status == "pending"
    await client.close()
