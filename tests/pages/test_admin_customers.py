"""The operator's customer pages: search, details, suspend, funds and custom prices."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from page_client import PageClient, customer_with_password, text_of, unique
from sqlalchemy import func, select, update

from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.accounts.service import create_api_key, create_customer
from smmpanel.catalog.service import custom_rate
from smmpanel.db.base import utcnow
from smmpanel.money import to_micros
from smmpanel.orders.models import orders
from smmpanel.orders.placement import place_order

HOSTILE = "<script>alert(1)</script>"


async def new_customer(db, balance: str = "0", name: str | None = None) -> tuple[int, str]:
    """A customer without a password: quicker where nobody signs in."""
    name = name or unique("customer")
    async with db.write() as conn:
        return await create_customer(conn, name, to_micros(Decimal(balance))), name


async def balance_and_entries(db, customer_id: int) -> tuple[Decimal, int]:
    async with db.read() as conn:
        balance = await conn.scalar(
            select(customers.c.balance).where(customers.c.id == customer_id)
        )
        entries = await conn.scalar(
            select(func.count()).where(ledger_entries.c.customer_id == customer_id)
        )
    return Decimal(balance) / 1_000_000, entries


async def post_funds(operator: PageClient, customer_id: int, amount: str, reason: str):
    page = f"/admin/customers/{customer_id}"
    fields = {"amount": amount, "reason": reason}
    return await operator.submit(f"{page}/funds", fields, page=page)


async def test_search_finds_by_name_email_and_id_and_filters_by_status(operator, db):
    customer_id, name = await new_customer(db, balance="12.5")
    html = await operator.page("/admin/customers", q=name.upper())
    assert f'href="/admin/customers/{customer_id}"' in html and "12.50" in html
    by_id = await operator.page("/admin/customers", q=str(customer_id))
    assert f'href="/admin/customers/{customer_id}"' in by_id
    suspended = await operator.page("/admin/customers", q=name, status="suspended")
    assert f'href="/admin/customers/{customer_id}"' not in suspended
    nobody = await operator.page("/admin/customers", q=unique("nobody"))
    assert "No customer matches." in nobody
    # Wildcards typed in the search are plain characters, and odd cursors the newest page.
    assert "No customer matches." in await operator.page("/admin/customers", q="%_%_%_%_%")
    assert (await operator.get("/admin/customers", before="abc", status="x")).status_code == 200


async def test_the_list_pages_by_50_newest_first_and_back(operator, db):
    prefix = unique("paged")
    async with db.write() as conn:
        for number in range(51):
            await create_customer(conn, f"{prefix}-{number:02d}")
    first = await operator.page("/admin/customers", q=prefix)
    assert first.count(f">{prefix}-") == 50 and f">{prefix}-00<" not in first
    assert 'rel="prev"' not in first
    second = await operator.page(link(first, "next"))
    assert second.count(f">{prefix}-") == 1 and f">{prefix}-00<" in second
    assert 'rel="next"' not in second
    back = await operator.page(link(second, "prev"))
    assert back.count(f">{prefix}-") == 50 and f">{prefix}-50<" in back


def link(html: str, rel: str) -> str:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    assert found, f"no {rel} link"
    return found.group(1).replace("&amp;", "&")


async def test_the_list_counts_each_customers_orders_of_the_last_30_days(operator, db, shop):
    customer_id, name = await customer_with_password(db, balance="100")
    service_id = await shop.service(rate="1")
    async with db.write() as conn:
        placed = [
            await place_order(
                conn,
                customer_id,
                {"service": str(service_id), "link": f"https://x.example/{n}", "quantity": "100"},
            )
            for n in range(3)
        ]
        long_ago = utcnow() - timedelta(days=40)
        await conn.execute(
            update(orders).where(orders.c.id == placed[0]).values(created_at=long_ago)
        )
    html = await operator.page("/admin/customers", q=name)
    assert "Orders, last 30 days" in html
    row = re.search(rf'href="/admin/customers/{customer_id}".*?</tr>', html, flags=re.S)
    assert row and '<td class="number">2</td>' in row.group(0)


async def test_names_with_markup_are_shown_escaped(operator, db):
    customer_id, name = await new_customer(db, name=unique(HOSTILE))
    for html in (
        await operator.page("/admin/customers", q=name),
        await operator.page(f"/admin/customers/{customer_id}"),
    ):
        assert "<script>" not in html
        assert name in text_of(html)


async def test_detail_shows_balance_keys_orders_and_ledger(operator, db):
    customer_id, _name = await new_customer(db, balance="7")
    async with db.write() as conn:
        key = await create_api_key(conn, customer_id)
    html = await operator.page(f"/admin/customers/{customer_id}")
    assert 'id="balance">USD\u00a07.00<' in html
    assert f"<code>{key[:6]}…</code>" in html and key not in html
    assert "Opening balance" in text_of(html)
    assert (await operator.get("/admin/customers/999999999")).status_code == 404


async def test_suspend_refuses_sign_in_and_reactivate_allows_it(operator, db, panel):
    customer_id, name = await customer_with_password(db)
    page = f"/admin/customers/{customer_id}"
    suspended = await operator.submit(f"{page}/status", {"status": "suspended"}, page=page)
    assert "suspended" in text_of(await operator.follow(suspended))
    visitor = PageClient(panel.url)
    refused = await visitor.sign_in(name)
    assert refused.status_code == 403 and "suspended" in refused.text
    reactivated = await operator.submit(f"{page}/status", {"status": "active"}, page=page)
    assert "active again" in await operator.follow(reactivated)
    assert (await visitor.sign_in(name)).status_code == 303
    await visitor.close()


async def test_funds_added_and_subtracted_with_a_reason_in_the_ledger(operator, db):
    customer_id, _name = await new_customer(db, balance="10")
    added = await post_funds(operator, customer_id, "25", "bank transfer 1234")
    html = await operator.follow(added)
    assert "The balance is now USD\u00a035.00" in html and "bank transfer 1234" in html
    taken = await post_funds(operator, customer_id, "-10.50", "refund by hand")
    html = await operator.follow(taken)
    assert "The balance is now USD\u00a024.50" in html and "refund by hand" in html
    assert await balance_and_entries(db, customer_id) == (Decimal("24.5"), 3)


@pytest.mark.parametrize(
    ("amount", "reason", "says"),
    [
        ("-10.01", "too much", "smaller than the amount"),
        ("0", "nothing", "must not be zero"),
        ("abc", "garbage", "Amount: write a number"),
        ("1.0000001", "too precise", "at most 6 decimals"),
        ("5", "  ", "Give a reason"),
        ("1e40", "huge", "Amount: write a number"),
        ("2000000000", "huge", "too large"),
        ("NaN", "not a number", "Amount: write a number"),
    ],
)
async def test_bad_funds_changes_are_refused_and_change_nothing(operator, db, amount, reason, says):
    customer_id, _name = await new_customer(db, balance="10")
    before = await balance_and_entries(db, customer_id)
    response = await post_funds(operator, customer_id, amount, reason)
    assert response.status_code == 400
    assert says in response.text
    assert f'value="{amount}"' in response.text  # what was typed is kept
    assert await balance_and_entries(db, customer_id) == before


async def test_custom_price_set_shown_and_cleared(operator, db, shop):
    customer_id, _name = await new_customer(db)
    service_id = await shop.service(rate="2")
    page = f"/admin/customers/{customer_id}"
    saved = await operator.submit(
        f"{page}/prices", {"service": service_id, "rate": "1.25"}, page=page
    )
    html = await operator.follow(saved)
    assert "custom price is saved" in html and "1.25" in html
    async with db.read() as conn:
        assert await custom_rate(conn, customer_id, service_id) == to_micros(Decimal("1.25"))
    cleared = await operator.submit(
        f"{page}/prices", {"service": service_id, "rate": ""}, page=page
    )
    assert "list price applies" in await operator.follow(cleared)
    async with db.read() as conn:
        assert await custom_rate(conn, customer_id, service_id) is None


@pytest.mark.parametrize(
    ("service", "rate", "says"),
    [
        ("abc", "1", "whole number"),
        ("999999999", "1", "There is no service 999999999"),
        (None, "0", "above zero"),
        (None, "-1", "above zero"),
        (None, "x", "Rate per 1000: write a number"),
    ],
)
async def test_bad_custom_prices_are_refused(operator, db, shop, service, rate, says):
    customer_id, _name = await new_customer(db)
    service = service or str(await shop.service(rate="2"))
    page = f"/admin/customers/{customer_id}"
    response = await operator.submit(
        f"{page}/prices", {"service": service, "rate": rate}, page=page
    )
    assert response.status_code == 400 and says in response.text
    assert "This customer pays the list prices." in response.text


async def test_customer_pages_in_chinese(operator, db):
    customer_id, _name = await new_customer(db, balance="1")
    await operator.get("/language/zh_TW")
    response = await post_funds(operator, customer_id, "-5", "太多")
    assert response.status_code == 400 and "餘額不足以扣除此金額" in response.text
    assert "帳務明細" in await operator.page(f"/admin/customers/{customer_id}")
