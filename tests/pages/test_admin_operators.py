"""The owner's operators page: add, change a role, disable and enable, a new password, remove;
stopping an operator or a new password ends its sessions, and the last active owner stays."""

import re

from harness import panel_of_its_own
from page_client import PASSWORD, PageClient, operator_account, text_of, unique
from sqlalchemy import select

from smmpanel.accounts.models import operators
from smmpanel.accounts.operator_audit import operator_audit
from smmpanel.accounts.operators import create_operator
from smmpanel.accounts.passwords import hash_password

PAGE = "/admin/operators"
NEW_PASSWORD = "another good password"


async def operator_row(db, name: str):
    async with db.read() as conn:
        return (
            await conn.execute(
                select(operators.c.id, operators.c.role, operators.c.status).where(
                    operators.c.name == name
                )
            )
        ).one()


async def add(owner: PageClient, name: str, role: str, password: str = PASSWORD):
    fields = {"name": name, "password": password, "role": role}
    return await owner.submit(PAGE, fields, page=PAGE)


async def signed_in_as(panel, name: str, password: str = PASSWORD) -> PageClient:
    browser = PageClient(panel.url)
    assert (await browser.operator_sign_in(name, password)).status_code == 303
    return browser


async def is_signed_in(browser: PageClient) -> bool:
    return (await browser.get("/admin")).status_code == 200


async def audited(db, operator_id: int) -> list[str]:
    """The actions the audit log holds about this operator, oldest first."""
    async with db.read() as conn:
        rows = await conn.execute(
            select(operator_audit.c.action)
            .where(operator_audit.c.subject == f"operator:{operator_id}")
            .order_by(operator_audit.c.id)
        )
        return [row.action for row in rows]


async def test_an_added_operator_has_its_role_and_only_its_pages(operator, panel, db):
    name = unique("support")
    listed = await operator.follow(await add(operator, name, "support"))
    assert f"Operator {name} added." in text_of(listed)
    row = await operator_row(db, name)
    assert (row.role, row.status) == ("support", "active")
    assert re.search(rf'id="operator-{row.id}".*?value="support" selected', listed, re.S)
    assert await audited(db, row.id) == ["operator.add"]

    support = await signed_in_as(panel, name)
    assert (await support.get("/admin/orders")).status_code == 200
    assert (await support.get("/admin/catalog")).status_code == 403
    assert (await support.get(PAGE)).status_code == 403
    await support.close()


async def test_a_changed_role_applies_at_the_next_page(operator, panel, db):
    name = unique("finance")
    await add(operator, name, "finance")
    row = await operator_row(db, name)
    browser = await signed_in_as(panel, name)
    assert (await browser.get("/admin/catalog")).status_code == 403

    path = f"{PAGE}/{row.id}/role"
    page = await operator.follow(await operator.submit(path, {"role": "admin"}, page=PAGE))
    assert "The role is changed." in text_of(page)
    assert (await operator_row(db, name)).role == "admin"
    assert (await browser.get("/admin/catalog")).status_code == 200
    assert (await browser.get("/admin/payments")).status_code == 403
    assert await audited(db, row.id) == ["operator.add", "operator.role"]
    await browser.close()


async def test_disabling_ends_the_sessions_and_enabling_lets_the_operator_back(operator, panel, db):
    name = await operator_account(db)
    row = await operator_row(db, name)
    browser = await signed_in_as(panel, name)
    assert await is_signed_in(browser)

    path = f"{PAGE}/{row.id}/status"
    response = await operator.submit(path, {"status": "disabled"}, page=PAGE)
    assert "signed out" in text_of(await operator.follow(response))
    assert not await is_signed_in(browser)
    assert (await browser.operator_sign_in(name)).status_code == 403

    await operator.submit(path, {"status": "active"}, page=PAGE)
    assert (await browser.operator_sign_in(name)).status_code == 303
    assert await audited(db, row.id) == ["operator.disable", "operator.enable"]
    await browser.close()


async def test_a_new_password_ends_the_sessions_and_replaces_the_old(operator, panel, db):
    name = await operator_account(db)
    row = await operator_row(db, name)
    browser = await signed_in_as(panel, name)
    path = f"{PAGE}/{row.id}/password"
    short = await operator.submit(path, {"password": "short"}, page=PAGE)
    assert short.status_code == 400 and "at least 10 characters" in text_of(short.text)
    assert await is_signed_in(browser)

    await operator.follow(await operator.submit(path, {"password": NEW_PASSWORD}, page=PAGE))
    assert not await is_signed_in(browser)
    assert (await browser.operator_sign_in(name)).status_code == 401
    assert (await browser.operator_sign_in(name, NEW_PASSWORD)).status_code == 303
    assert await audited(db, row.id) == ["operator.password"]
    await browser.close()


async def test_a_removed_operator_is_signed_out_and_unlisted(operator, panel, db):
    name = await operator_account(db)
    row = await operator_row(db, name)
    browser = await signed_in_as(panel, name)
    page = await operator.follow(await operator.submit(f"{PAGE}/{row.id}/remove", {}, page=PAGE))
    assert "The operator is removed." in text_of(page) and f'id="operator-{row.id}"' not in page
    assert not await is_signed_in(browser)
    assert (await operator.submit(f"{PAGE}/{row.id}/remove", {}, page=PAGE)).status_code == 404
    await browser.close()


async def test_bad_input_is_refused_on_the_page_and_changes_nothing(operator, db):
    name = unique("op")
    unknown_role = await add(operator, name, "superuser")
    assert unknown_role.status_code == 400 and "There is no role" in text_of(unknown_role.text)
    short = await add(operator, name, "admin", password="short")
    assert short.status_code == 400
    async with db.read() as conn:
        assert await conn.scalar(select(operators.c.id).where(operators.c.name == name)) is None
    taken = await add(operator, await operator_account(db), "admin")
    assert taken.status_code == 400 and "exists already" in text_of(taken.text)
    missing = await operator.submit(f"{PAGE}/999999999/role", {"role": "admin"}, page=PAGE)
    assert missing.status_code == 404
    other = await operator_account(db)
    row = await operator_row(db, other)
    odd = await operator.submit(f"{PAGE}/{row.id}/status", {"status": "asleep"}, page=PAGE)
    assert odd.status_code == 400 and "Choose a status." in text_of(odd.text)
    assert (await operator_row(db, other)).status == "active"


async def test_the_last_active_owner_is_neither_demoted_disabled_nor_removed(backend, tmp_path):
    async with panel_of_its_own(backend, tmp_path) as (panel, db):
        owner_name, support_name = unique("owner"), unique("support")
        async with db.write() as conn:
            owner_id = await create_operator(conn, owner_name, await hash_password(PASSWORD))
            await create_operator(conn, support_name, await hash_password(PASSWORD), role="support")
        owner = await signed_in_as(panel, owner_name)
        refusals = [
            (f"{PAGE}/{owner_id}/role", {"role": "admin"}),
            (f"{PAGE}/{owner_id}/status", {"status": "disabled"}),
            (f"{PAGE}/{owner_id}/remove", {}),
        ]
        for path, fields in refusals:
            response = await owner.submit(path, fields, page=PAGE)
            assert response.status_code == 400, (path, response.status_code)
            assert "only active owner" in text_of(response.text)
        row = await operator_row(db, owner_name)
        assert (row.role, row.status) == ("owner", "active")
        assert await audited(db, owner_id) == []

        # With a second owner, the first may step down.
        support_id = (await operator_row(db, support_name)).id
        await owner.submit(f"{PAGE}/{support_id}/role", {"role": "owner"}, page=PAGE)
        demoted = await owner.submit(f"{PAGE}/{owner_id}/role", {"role": "admin"}, page=PAGE)
        assert demoted.status_code == 303
        assert (await owner.get(PAGE)).status_code == 403
        await owner.close()
