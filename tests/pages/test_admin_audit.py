"""The audit log: operators' changes recorded with who made them, shown and filtered on
/admin/audit a page at a time; signing in as a customer, recorded."""

import re

import pytest_asyncio
from page_client import (
    PASSWORD,
    PageClient,
    customer_with_password,
    operator_account,
    text_of,
    unique,
)
from sqlalchemy import select

from smmpanel.accounts.models import customers, ledger_entries, operators
from smmpanel.accounts.operator_audit import operator_audit, record
from smmpanel.accounts.operators import create_operator
from smmpanel.accounts.passwords import hash_password
from smmpanel.accounts.service import set_customer_status
from smmpanel.catalog.models import services
from smmpanel.panel.service import EDITABLE, change_settings, get_settings

AUDIT = "/admin/audit"


@pytest_asyncio.fixture
async def owner(panel, db):
    """A signed-in owner of its own: (browser, operator id, name)."""
    name = await operator_account(db)
    async with db.read() as conn:
        operator_id = await conn.scalar(select(operators.c.id).where(operators.c.name == name))
    client = PageClient(panel.url)
    assert (await client.operator_sign_in(name)).status_code == 303
    yield client, operator_id, name
    await client.close()


async def audit_rows(db, operator_id: int) -> list[tuple[str, str, str]]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(operator_audit.c.action, operator_audit.c.subject, operator_audit.c.detail)
            .where(operator_audit.c.operator_id == operator_id)
            .order_by(operator_audit.c.id)
        )
        return [tuple(row) for row in rows]


def listed(html: str) -> list[list[str]]:
    """The audit table's rows: their cells' text."""
    body = html.split('id="audit"', 1)[1].split("</table>", 1)[0] if 'id="audit"' in html else ""
    return [
        [text_of(cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[-1], re.S)
    ]


async def test_a_balance_change_names_its_operator_in_the_log_and_the_ledger(owner, db):
    client, operator_id, name = owner
    customer_id, _customer = await customer_with_password(db, balance="1")
    page = f"/admin/customers/{customer_id}"
    fields = {"amount": "2.5", "reason": "goodwill"}
    await client.follow(await client.submit(f"{page}/funds", fields, page=page))
    assert await audit_rows(db, operator_id) == [
        ("customer.funds", f"customer:{customer_id}", "2.5: goodwill")
    ]
    async with db.read() as conn:
        reason = await conn.scalar(
            select(ledger_entries.c.reason)
            .where(ledger_entries.c.customer_id == customer_id)
            .order_by(ledger_entries.c.id.desc())
        )
    assert reason == f"goodwill (operator: {name})"

    refused = await client.submit(f"{page}/funds", {"amount": "-99", "reason": "x"}, page=page)
    assert refused.status_code == 400
    assert len(await audit_rows(db, operator_id)) == 1  # nothing changed, nothing recorded


async def test_a_service_edit_and_a_settings_change_are_recorded_and_shown(owner, db, shop):
    client, operator_id, name = owner
    service_id = await shop.service(rate="2")
    async with db.read() as conn:
        category = await conn.scalar(
            select(services.c.category_id).where(services.c.id == service_id)
        )
    page = f"/admin/catalog/services/{service_id}"
    fields = {
        "name": unique("Audited"),
        "category_id": category,
        "type": "Default",
        "rate": "3",
        "min_quantity": "10",
        "max_quantity": "500",
        "position": "0",
        "enabled": "1",
    }
    assert (await client.submit(page, fields, page=page)).status_code == 303
    async with db.read() as conn:
        saved = await get_settings(conn)
    typed = {field: getattr(saved, field) for field in EDITABLE}
    try:
        response = await client.submit("/admin/settings", typed, page="/admin/settings")
        assert response.status_code == 303
    finally:
        async with db.write() as conn:
            await change_settings(conn, **typed)

    actions = [(action, subject) for action, subject, _ in await audit_rows(db, operator_id)]
    assert actions == [("service.edit", f"service:{service_id}"), ("settings.change", "settings")]
    edit_detail = (await audit_rows(db, operator_id))[0][2]
    assert "rate=3000000" in edit_detail and fields["name"] in edit_detail

    mine = listed(await client.page(AUDIT, operator=str(operator_id)))
    assert [row[1:4] for row in mine] == [
        [name, "settings.change", "settings"],
        [name, "service.edit", f"service:{service_id}"],
    ]
    only_settings = listed(
        await client.page(AUDIT, operator=str(operator_id), action="settings.change")
    )
    assert [row[2] for row in only_settings] == ["settings.change"]
    by_subject = listed(await client.page(AUDIT, subject=f"SERVICE:{service_id}"))
    assert [row[3] for row in by_subject] == [f"service:{service_id}"]


async def test_the_log_pages_by_50_newest_first_and_odd_filters_are_harmless(owner, db):
    client, operator_id, _name = owner
    subject = unique("paged")
    async with db.write() as conn:
        for number in range(51):
            await record(
                conn, operator_id=operator_id, action="test", subject=subject, detail=str(number)
            )
    first = listed(await client.page(AUDIT, subject=subject))
    assert [row[4] for row in first] == [str(number) for number in range(50, 0, -1)]
    html = await client.page(AUDIT, subject=subject)
    older = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert [row[4] for row in listed(await client.page(older))] == ["0"]
    for odd in (
        {"operator": "abc"},
        {"operator": "99999999999999999999"},
        {"before": "x"},
        {"subject": "%_\\"},
    ):
        assert (await client.get(AUDIT, **odd)).status_code == 200


async def test_signing_in_as_a_customer_is_recorded_and_opens_their_pages(owner, db):
    client, operator_id, _name = owner
    customer_id, customer_name = await customer_with_password(db, balance="7")
    page = f"/admin/customers/{customer_id}"
    assert 'id="sign-in-as"' in await client.page(page)
    response = await client.submit(f"{page}/sign-in-as", {}, page=page)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    dashboard = await client.page("/dashboard")
    assert customer_name in dashboard
    assert await audit_rows(db, operator_id) == [
        ("customer.sign_in_as", f"customer:{customer_id}", customer_name)
    ]

    async with db.write() as conn:
        await set_customer_status(conn, customer_id, False)
    refused = await client.submit(f"{page}/sign-in-as", {}, page=page)
    assert refused.status_code == 400 and "cannot be signed in as" in text_of(refused.text)
    assert len(await audit_rows(db, operator_id)) == 1
    async with db.read() as conn:
        assert (
            await conn.scalar(select(customers.c.status).where(customers.c.id == customer_id))
            == "suspended"
        )


async def test_finance_sees_no_sign_in_as_button_and_is_refused_the_post(panel, db):
    name = unique("finance")
    async with db.write() as conn:
        await create_operator(conn, name, await hash_password(PASSWORD), "finance")
    finance = PageClient(panel.url)
    assert (await finance.operator_sign_in(name)).status_code == 303
    customer_id, _customer = await customer_with_password(db)
    page = f"/admin/customers/{customer_id}"
    assert 'id="sign-in-as"' not in await finance.page(page)
    assert (await finance.submit(f"{page}/sign-in-as", {}, page=page)).status_code == 403
    assert (await finance.get("/dashboard")).status_code == 303  # no customer session
    await finance.close()
