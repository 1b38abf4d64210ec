"""The operator's payment pages: methods added and changed on the page (secrets never shown
again), payments listed with the ones to review first, approving credits once, rejecting needs
a reason. On a panel with a database of its own (its payment methods would show on every other
test's funds page)."""

import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest_asyncio
from harness import PanelProcess, panel_of_its_own, payment_method
from page_client import PageClient, operator_account, text_of
from sqlalchemy import func, select

from smmpanel.accounts.models import ledger_entries
from smmpanel.accounts.service import balance_of, create_customer
from smmpanel.db import Database
from smmpanel.money import parse, to_micros
from smmpanel.payments.gateways import PAID as NOTICE_PAID
from smmpanel.payments.gateways import Notice
from smmpanel.payments.methods import add_method, list_methods, method_by_id
from smmpanel.payments.models import FAILED, PENDING, REVIEW
from smmpanel.payments.service import apply_notice, open_payment, payment_by_id, record_notice

METHODS = "/admin/payment-methods"
DAY = timedelta(days=1)
HASH_KEY = "hash-key-5294y06JbISpM5x9"
HASH_IV = "hash-iv-v77hoKGq4kWxNNIS"


def micros(amount: str) -> int:
    return to_micros(parse(amount))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture(scope="module")
async def till(backend, tmp_path_factory) -> AsyncIterator[tuple[PanelProcess, Database]]:
    async with panel_of_its_own(backend, tmp_path_factory.mktemp("admin-payments")) as panel:
        yield panel


@pytest_asyncio.fixture
async def operator(till) -> AsyncIterator[PageClient]:
    process, db = till
    client = PageClient(process.url)
    assert (await client.operator_sign_in(await operator_account(db))).status_code == 303
    yield client
    await client.close()


@pytest_asyncio.fixture
async def db(till) -> Database:
    return till[1]


def method_form(**changes: object) -> dict[str, object]:
    return {
        "name": unique("Bank transfer"),
        "name_zh": "銀行轉帳",
        "instructions": "Transfer to account 123-456.",
        "instructions_zh": "請轉帳至 123-456。",
        "gateway": "manual",
        "currency": "TWD",
        "rate": "1",
        "min_amount": "100",
        "max_amount": "50000",
        "fee_percent": "",
        "fee_fixed": "",
        "bonus_percent": "10",
        "bonus_from": "1000",
        "enabled": "1",
    } | changes


async def method_named(db: Database, name: str) -> int:
    async with db.read() as conn:
        return next(method.id for method in await list_methods(conn) if method.name == name)


async def manual_method(db: Database) -> int:
    async with db.write() as conn:
        return await add_method(
            conn, **payment_method(name=unique("Bank"), max_amount=micros("50000"))
        )


async def customer(db: Database) -> tuple[int, str]:
    name = unique("payer")
    async with db.write() as conn:
        return await create_customer(conn, name, 0), name


async def payment(db: Database, customer_id: int, method_id: int, amount: str) -> int:
    async with db.write() as conn:
        method = await method_by_id(conn, method_id)
        return await open_payment(conn, customer_id, method, micros(amount), DAY, unique("TX"))


async def status_of(db: Database, payment_id: int) -> str:
    async with db.read() as conn:
        return (await payment_by_id(conn, payment_id)).status


async def books(db: Database, customer_id: int) -> tuple[int, int]:
    """The customer's balance and how many ledger rows they have."""
    async with db.read() as conn:
        rows = await conn.scalar(
            select(func.count()).where(ledger_entries.c.customer_id == customer_id)
        )
        return await balance_of(conn, customer_id), rows


def card(html: str, name: str) -> Decimal:
    found = re.search(rf'id="{name}">(?:<a [^>]*>)?([^<]+)<', html)
    assert found, f"no card {name}"
    return Decimal(found.group(1).replace(",", "").removeprefix("USD\u00a0"))


async def post(operator: PageClient, payment_id: int, action: str, **fields: object):
    page = f"/admin/payments/{payment_id}"
    return await operator.submit(f"{page}/{action}", fields, page=page)


async def test_a_method_added_on_the_page_takes_a_payment_the_operator_approves_once(operator, db):
    fields = method_form()
    response = await operator.submit(f"{METHODS}/new", fields, page=f"{METHODS}/new")
    assert str(fields["name"]) in text_of(await operator.follow(response))
    method_id = await method_named(db, str(fields["name"]))
    customer_id, name = await customer(db)
    payment_id = await payment(db, customer_id, method_id, "1000")
    dashboard_before = await operator.page("/admin")

    listed = await operator.page("/admin/payments", customer=name)
    assert f'href="/admin/payments/{payment_id}"' in listed and "TWD\u00a01,000.00" in listed
    assert "Approve" in await operator.page(f"/admin/payments/{payment_id}")
    approved = await operator.follow(await post(operator, payment_id, "approve"))

    assert f"Payment {payment_id} approved: USD 1,100.00 added" in text_of(approved)
    assert 'id="payment-status">Paid<' in approved
    assert await books(db, customer_id) == (micros("1100"), 2), "1000 at 1, and a 10 % bonus"
    customer_page = await operator.page(f"/admin/customers/{customer_id}")
    assert card(customer_page, "balance") == Decimal("1100")
    assert f'href="/admin/payments/{payment_id}"' in customer_page
    dashboard = await operator.page("/admin")
    assert card(dashboard, "deposits-today") - card(dashboard_before, "deposits-today") == 1100

    again = await post(operator, payment_id, "approve")
    assert again.status_code == 400
    assert (
        f"Payment {payment_id} is Paid: only a pending, expired or review payment can be approved"
        in text_of(again.text)
    )
    assert await books(db, customer_id) == (micros("1100"), 2)


async def test_rejecting_needs_a_reason_and_credits_nothing(operator, db):
    method_id = await manual_method(db)
    customer_id, _name = await customer(db)
    payment_id = await payment(db, customer_id, method_id, "500")

    without_reason = await post(operator, payment_id, "reject", reason="  ")
    assert without_reason.status_code == 400
    assert "Say why the payment is rejected" in text_of(without_reason.text)
    assert await status_of(db, payment_id) == PENDING

    rejected = await operator.follow(
        await post(operator, payment_id, "reject", reason="<b>no such transfer</b>")
    )
    assert f"Payment {payment_id} rejected" in text_of(rejected)
    assert "<b>no such transfer</b>" not in rejected
    assert "rejected: <b>no such transfer</b>" in text_of(rejected)
    assert await status_of(db, payment_id) == FAILED
    assert "Approve" not in rejected

    approve_late = await post(operator, payment_id, "approve")
    assert approve_late.status_code == 400 and "is Failed" in text_of(approve_late.text)
    assert await books(db, customer_id) == (0, 0)


async def test_a_payment_to_review_comes_first_with_its_notices_escaped(operator, db):
    method_id = await manual_method(db)
    customer_id, name = await customer(db)
    waiting = await payment(db, customer_id, method_id, "300")
    to_review = await payment(db, customer_id, method_id, "1000")
    body = '{"paid": "900", "note": "<script>alert(1)</script>"}'
    async with db.write() as conn:
        short = Notice("g", NOTICE_PAID, amount=micros("900"), currency="TWD")
        outcome = await apply_notice(
            conn, await payment_by_id(conn, to_review), short, merchant=None, live=False
        )
        await record_notice(conn, to_review, verified=True, outcome=outcome, body=body)
    assert await status_of(db, to_review) == REVIEW

    listed = await operator.page("/admin/payments", customer=name)
    queue, _rest = listed.split('id="payments"')
    assert "To review: 1" in text_of(queue)
    assert f'href="/admin/payments/{to_review}"' in queue
    assert f'href="/admin/payments/{waiting}"' not in queue
    review = await operator.page("/admin/payments", customer=name, status="review")
    assert f'href="/admin/payments/{to_review}"' in review
    assert f'href="/admin/payments/{waiting}"' not in review
    paid = await operator.page("/admin/payments", customer=name, status="paid")
    assert f'href="/admin/payments/{to_review}"' not in paid

    page = await operator.page(f"/admin/payments/{to_review}")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page.split("<pre>")[1]
    assert "paid 900.00 TWD, asked 1000.00" in text_of(page)
    assert "Approve" in page and "Reject" in page


async def test_the_list_pages_by_keyset(operator, db):
    method_id = await manual_method(db)
    customer_id, name = await customer(db)
    ids = [await payment(db, customer_id, method_id, "100") for _ in range(51)]

    first = await operator.page("/admin/payments", customer=name)
    assert first.count('<a href="/admin/payments/') == 50
    older = re.search(r'href="([^"]+)" rel="next"', first)
    assert older, "no link to the older payments"
    second = await operator.page(older.group(1).replace("&amp;", "&"))
    assert second.count('<a href="/admin/payments/') == 1
    assert f'href="/admin/payments/{ids[0]}"' in second and 'rel="next"' not in second
    assert (await operator.get("/admin/payments", before="abc")).status_code == 200


async def test_a_gateway_secret_is_never_shown_and_kept_when_left_empty(operator, db):
    fields = method_form(
        gateway="ecpay",
        **{"ecpay.merchant_id": "3002607", "ecpay.hash_key": HASH_KEY, "ecpay.hash_iv": HASH_IV},
    )
    response = await operator.submit(f"{METHODS}/new", fields, page=f"{METHODS}/new")
    assert response.status_code == 303, text_of(response.text)
    method_id = await method_named(db, str(fields["name"]))
    page = f"{METHODS}/{method_id}"

    html = await operator.page(page)
    assert "3002607" in html
    assert HASH_KEY not in html and HASH_IV not in html
    assert "Leave this empty to keep it" in html
    assert HASH_KEY not in await operator.page(METHODS)

    renamed = unique("ECPay")
    edit = {**method_form(name=renamed), "ecpay.merchant_id": "3002607"}
    assert (await operator.submit(page, edit, page=page)).status_code == 303
    async with db.read() as conn:
        method = await method_by_id(conn, method_id)
    assert method.name == renamed and method.gateway == "ecpay"
    assert method.settings["hash_key"] == HASH_KEY and method.settings["hash_iv"] == HASH_IV

    new_key = "hash-key-changed-0123456789"
    refused = await operator.submit(
        page, {**edit, "rate": "abc", "ecpay.hash_key": new_key}, page=page
    )
    assert refused.status_code == 400 and "Rate: write a number" in text_of(refused.text)
    assert new_key not in refused.text
    changed = {**edit, "ecpay.hash_key": new_key, "gateway": "manual"}
    assert (await operator.submit(page, changed, page=page)).status_code == 303
    async with db.read() as conn:
        method = await method_by_id(conn, method_id)
    assert method.settings["hash_key"] == new_key and method.gateway == "ecpay"


async def test_a_method_form_refuses_what_breaks_a_rule_and_adds_nothing(operator, db):
    for changes, why in (
        ({"min_amount": "abc"}, "Minimum amount: write a number"),
        ({"rate": "0"}, "The rate must be more than 0"),
        ({"min_amount": "500", "max_amount": "100"}, "the minimum must be more than 0"),
        ({"currency": "XYZ"}, "'XYZ' is not a currency manual takes"),
        ({"fee_percent": "101"}, "The fee must be between 0 and 100 percent"),
        ({"gateway": "bogus"}, "Choose one of the gateways"),
        ({"gateway": "ecpay"}, "ecpay needs these settings: merchant_id, hash_key, hash_iv"),
        ({"name": " "}, "A payment method needs a name"),
    ):
        fields = method_form(**changes)
        response = await operator.submit(f"{METHODS}/new", fields, page=f"{METHODS}/new")
        assert response.status_code == 400, changes
        assert why.lower() in text_of(response.text).lower(), (changes, text_of(response.text))
        async with db.read() as conn:
            assert fields["name"] not in [method.name for method in await list_methods(conn)]


async def test_bad_addresses_and_filters_answer_pages_not_errors(operator, db):
    for path in (
        "/admin/payments/abc",
        "/admin/payments/999999",
        "/admin/payments/0",
        f"{METHODS}/999999",
        f"{METHODS}/abc",
    ):
        assert (await operator.get(path)).status_code == 404, path
    response = await operator.submit("/admin/payments/999999/approve", {}, page="/admin/payments")
    assert response.status_code == 404
    for filters in ({"status": "bogus"}, {"method": "abc"}):
        response = await operator.get("/admin/payments", **filters)
        assert response.status_code == 400, filters
        assert "Choose a payment" in text_of(response.text)
    nobody = await operator.page("/admin/payments", customer=unique("nobody"))
    assert "No customer is named" in text_of(nobody)


async def test_the_payment_pages_speak_chinese(operator, db):
    method_id = await manual_method(db)
    customer_id, _name = await customer(db)
    payment_id = await payment(db, customer_id, method_id, "100")
    await operator.get("/language/zh_TW")

    for path, words in (
        ("/admin/payments", "付款紀錄"),
        (f"/admin/payments/{payment_id}", "核准"),
        (METHODS, "付款方式"),
        (f"{METHODS}/new", "新增付款方式"),
        (f"{METHODS}/{method_id}", "匯率"),
    ):
        assert words in await operator.page(path), path
    refused = await post(operator, payment_id, "reject", reason="")
    assert refused.status_code == 400 and "請說明拒絕這筆付款的原因" in refused.text
