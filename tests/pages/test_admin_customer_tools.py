"""The operator's customer tools: add a customer, change the name and e-mail address, revoke
API keys, and pick a custom price's service from the service list."""

import re

import httpx
import pytest
from page_client import PASSWORD, PageClient, text_of, unique
from sqlalchemy import func, select, update

from smmpanel.accounts.models import api_keys, customers
from smmpanel.accounts.operator_audit import operator_audit
from smmpanel.accounts.service import create_api_key, create_customer
from smmpanel.catalog.models import services
from smmpanel.catalog.service import custom_rate
from smmpanel.db.base import utcnow

NEW = "/admin/customers/new"


async def audit_of(db, customer_id: int) -> list[tuple[str, str]]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(operator_audit.c.action, operator_audit.c.detail)
            .where(operator_audit.c.subject == f"customer:{customer_id}")
            .order_by(operator_audit.c.id)
        )
        return [tuple(row) for row in rows]


async def customer_row(db, customer_id: int):
    async with db.read() as conn:
        query = select(
            customers.c.name,
            customers.c.email,
            customers.c.email_verified_at,
            customers.c.language,
            customers.c.password_hash,
        ).where(customers.c.id == customer_id)
        return (await conn.execute(query)).one()


async def id_named(db, name: str) -> int | None:
    async with db.read() as conn:
        return await conn.scalar(select(customers.c.id).where(customers.c.name == name))


async def api_balance(panel, key: str) -> dict:
    async with httpx.AsyncClient() as http:
        response = await http.post(panel.api_url, data={"key": key, "action": "balance"})
    return response.json()


# ---- add a customer


async def test_the_list_links_to_the_form_and_a_customer_added_can_sign_in(operator, db, panel):
    assert f'href="{NEW}"' in await operator.page("/admin/customers")
    name = unique("added")
    email = f"{name}@example.com"
    fields = {"name": name, "email": email, "password": PASSWORD, "language": "zh_TW"}
    added = await operator.submit(NEW, fields, page=NEW)
    customer_id = await id_named(db, name)
    assert customer_id is not None
    assert added.headers["location"] == f"/admin/customers/{customer_id}"
    assert f"Customer {name} added." in text_of(await operator.follow(added))
    row = await customer_row(db, customer_id)
    assert (row.email, row.email_verified_at, row.language) == (email, None, "zh_TW")
    assert await audit_of(db, customer_id) == [("customer.add", name)]
    visitor = PageClient(panel.url)
    assert (await visitor.sign_in(name)).status_code == 303
    await visitor.close()


async def test_a_customer_may_be_added_without_password_e_mail_or_language(operator, db):
    name = unique("api-only")
    added = await operator.submit(NEW, {"name": name, "email": "", "password": ""}, page=NEW)
    assert added.status_code == 303
    row = await customer_row(db, await id_named(db, name))
    assert (row.email, row.language, row.password_hash) == (None, None, None)


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"name": ""}, "a customer needs a name"),
        ({"name": "two words"}, "cannot contain spaces"),
        ({"email": "not-an-address"}, "is not an e-mail address"),
        ({"password": "short"}, "at least 10 characters"),
        ({"password": "password1234"}, "too common"),
        ({"language": "xx"}, "Choose a language of the list."),
    ],
)
async def test_a_bad_new_customer_is_refused_and_the_form_keeps_what_was_typed(
    operator, db, fields, says
):
    name = unique("refused")
    typed = {"name": name, "email": f"{name}@example.com", "password": PASSWORD, **fields}
    response = await operator.submit(NEW, typed, page=NEW)
    assert response.status_code == 400 and says.lower() in text_of(response.text).lower()
    assert f'value="{typed["email"]}"' in response.text
    assert PASSWORD not in response.text  # never the password
    assert await id_named(db, typed["name"]) is None


async def test_a_taken_name_is_refused_in_any_case(operator, db):
    name = unique("Taken")
    async with db.write() as conn:
        taken_id = await create_customer(conn, name)
    fields = {"name": name.upper(), "email": "", "password": PASSWORD}
    response = await operator.submit(NEW, fields, page=NEW)
    assert response.status_code == 400
    assert f"exists already (id {taken_id})" in text_of(response.text)
    assert f'value="{name.upper()}"' in response.text


# ---- name and e-mail


async def new_customer(db, email: str | None = None) -> tuple[int, str]:
    name = unique("contact")
    async with db.write() as conn:
        customer_id = await create_customer(conn, name, email=email)
    return customer_id, name


async def post_profile(operator: PageClient, customer_id: int, name: str, email: str):
    page = f"/admin/customers/{customer_id}"
    return await operator.submit(f"{page}/profile", {"name": name, "email": email}, page=page)


async def test_name_and_e_mail_changed_audited_and_the_new_address_unverified(operator, db):
    customer_id, name = await new_customer(db, email="old@example.com")
    async with db.write() as conn:
        await conn.execute(
            update(customers)
            .where(customers.c.id == customer_id)
            .values(email_verified_at=utcnow())
        )
    renamed = unique("renamed")
    saved = await post_profile(operator, customer_id, renamed, "new@example.com")
    assert "Name and e-mail address saved." in text_of(await operator.follow(saved))
    row = await customer_row(db, customer_id)
    assert (row.name, row.email, row.email_verified_at) == (renamed, "new@example.com", None)
    assert await audit_of(db, customer_id) == [
        (
            "customer.profile",
            f"name: {name} → {renamed}; e-mail: old@example.com → new@example.com",
        )
    ]
    assert await id_named(db, name) is None


async def test_the_same_address_stays_verified_and_an_empty_one_is_removed(operator, db):
    customer_id, name = await new_customer(db, email="kept@example.com")
    verified = utcnow()
    async with db.write() as conn:
        await conn.execute(
            update(customers)
            .where(customers.c.id == customer_id)
            .values(email_verified_at=verified)
        )
    renamed = unique("renamed")
    kept = await post_profile(operator, customer_id, renamed, "kept@example.com")
    assert kept.status_code == 303
    assert (await customer_row(db, customer_id)).email_verified_at is not None
    removed = await post_profile(operator, customer_id, renamed, "")
    assert removed.status_code == 303
    row = await customer_row(db, customer_id)
    assert (row.email, row.email_verified_at) == (None, None)
    assert [detail for _action, detail in await audit_of(db, customer_id)] == [
        f"name: {name} → {renamed}",
        "e-mail: kept@example.com → ",
    ]


@pytest.mark.parametrize(
    ("name", "email", "says"),
    [
        ("", "a@example.com", "a customer needs a name"),
        ("with space", "a@example.com", "cannot contain spaces"),
        (None, "nowhere", "is not an e-mail address"),
        (None, "two@at@example", "is not an e-mail address"),
        ("TAKEN", "a@example.com", "exists already"),
    ],
)
async def test_a_bad_name_or_address_is_refused_and_changes_nothing(
    operator, db, name, email, says
):
    customer_id, old_name = await new_customer(db, email="was@example.com")
    if name == "TAKEN":
        _other_id, name = await new_customer(db)
        name = name.upper()
    name = old_name if name is None else name
    response = await post_profile(operator, customer_id, name, email)
    assert response.status_code == 400 and says.lower() in text_of(response.text).lower()
    assert f'value="{email}"' in response.text  # what was typed is kept
    row = await customer_row(db, customer_id)
    assert (row.name, row.email) == (old_name, "was@example.com")
    assert await audit_of(db, customer_id) == []


# ---- API keys


async def test_a_key_revoked_stops_opening_the_api_at_once(operator, db, panel):
    customer_id, _name = await new_customer(db)
    async with db.write() as conn:
        kept = await create_api_key(conn, customer_id, "kept")
        revoked = await create_api_key(conn, customer_id, "robot")
        revoked_id = await conn.scalar(select(func.max(api_keys.c.id)))
    assert (await api_balance(panel, revoked))["status"] == "success"
    page = f"/admin/customers/{customer_id}"
    html = await operator.page(page)
    assert "robot" in text_of(html) and f"/keys/{revoked_id}/revoke" in html
    response = await operator.submit(f"{page}/keys/{revoked_id}/revoke", {}, page=page)
    assert response.headers["location"] == f"{page}#keys"
    assert "Key revoked" in await operator.follow(response)
    assert await api_balance(panel, revoked) == {"error": "Invalid API key"}
    assert (await api_balance(panel, kept))["status"] == "success"
    assert await audit_of(db, customer_id) == [
        ("customer.key_revoke", f"key {revoked_id} ({revoked[:6]}…)")
    ]
    again = await operator.submit(f"{page}/keys/{revoked_id}/revoke", {}, page=page)
    assert "revoked already" in await operator.follow(again)
    assert len(await audit_of(db, customer_id)) == 1


async def test_revoke_all_closes_every_key_and_another_customers_key_is_not_found(
    operator, db, panel
):
    customer_id, _name = await new_customer(db)
    other_id, _other = await new_customer(db)
    async with db.write() as conn:
        keys = [await create_api_key(conn, customer_id) for _ in range(2)]
        other_key = await create_api_key(conn, other_id)
        other_key_id = await conn.scalar(select(func.max(api_keys.c.id)))
    page = f"/admin/customers/{customer_id}"
    stranger = await operator.submit(f"{page}/keys/{other_key_id}/revoke", {}, page=page)
    assert stranger.status_code == 404
    response = await operator.submit(f"{page}/keys/revoke-all", {}, page=page)
    html = await operator.follow(response)
    assert "Keys revoked: 2." in text_of(html) and 'id="revoke-all-keys"' not in html
    for key in keys:
        assert await api_balance(panel, key) == {"error": "Invalid API key"}
    assert (await api_balance(panel, other_key))["status"] == "success"
    assert await audit_of(db, customer_id) == [("customer.keys_revoke_all", "2 keys")]


# ---- custom prices picked from the service list


async def test_a_search_fills_the_list_a_custom_price_is_picked_from(operator, db, shop):
    customer_id, _name = await new_customer(db)
    service_id = await shop.service(rate="2")
    async with db.read() as conn:
        name = await conn.scalar(select(services.c.name).where(services.c.id == service_id))
    page = f"/admin/customers/{customer_id}"
    plain = await operator.page(page)
    assert 'name="price_q"' in plain and '<input name="service"' in plain  # an id still works
    found = await operator.page(page, price_q=name.split()[-1].upper())
    choices = re.search(r'<select name="service".*?</select>', found, flags=re.S)
    assert choices and f'<option value="{service_id}"' in choices.group(0)
    assert name in choices.group(0) and "2.00" in choices.group(0)
    assert "No service matches." in await operator.page(page, price_q=unique("nothing"))
    saved = await operator.submit(
        f"{page}/prices", {"service": service_id, "rate": "1.5"}, page=f"{page}?price_q={name}"
    )
    assert "custom price is saved" in await operator.follow(saved)
    async with db.read() as conn:
        assert await custom_rate(conn, customer_id, service_id) == 1_500_000


async def test_the_tools_in_chinese(operator, db):
    customer_id, _name = await new_customer(db)
    await operator.get("/language/zh_TW")
    assert "新增客戶" in await operator.page(NEW)
    html = await operator.page(f"/admin/customers/{customer_id}")
    assert "變更名稱或電子郵件地址" in html and "尋找服務" in html
