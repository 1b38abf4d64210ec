"""Operator roles: every admin route of the app has a rule (admin/roles.py), and each role is
refused (403, nothing changed) every route its rule leaves out and let through the others."""

import re
from collections.abc import Iterator

import pytest
from page_client import PASSWORD, PageClient, csrf_token, customer_with_password, text_of, unique
from sqlalchemy import func, select

from smmpanel.accounts.models import OPERATOR_ROLES, customers
from smmpanel.accounts.operator_audit import operator_audit
from smmpanel.accounts.operators import create_operator
from smmpanel.accounts.passwords import hash_password
from smmpanel.admin.roles import OPEN, OWNER, RULES, allowed
from smmpanel.app import create_app

REFUSED = "Your role does not allow this page."
PATH_PARAMETER = re.compile(r"\{\w+(:\w+)?\}")
MISSING_ID = "999999999"
# What a refused form would have changed, were it let through.
HARMFUL_FIELDS = {
    "amount": "5",
    "reason": "role test",
    "status": "suspended",
    "role": "owner",
    "name": "role-test",
    "password": "a password long enough",
}


def admin_routes() -> Iterator[tuple[str, str]]:
    """Every (method, path template) the app answers under /admin, included routers too."""
    for route in create_app(with_worker=False).routes:
        contexts = getattr(route, "effective_route_contexts", None)
        found = [context.original_route for context in contexts()] if contexts else [route]
        for each in found:
            path = getattr(each, "path", "")
            if path == "/admin" or path.startswith("/admin/"):
                for method in sorted(getattr(each, "methods", ())):
                    if method != "HEAD":
                        yield method, path


def guarded_routes() -> list[tuple[str, str]]:
    return sorted(set(admin_routes()) - OPEN)


@pytest.mark.fast
def test_every_admin_route_has_a_rule_and_every_rule_a_route():
    routes = set(admin_routes())
    assert ("GET", "/admin/customers") in routes  # the walk sees included routers
    without_rule = sorted(routes - OPEN - set(RULES))
    assert without_rule == [], f"add these to RULES in smmpanel/admin/roles.py: {without_rule}"
    assert sorted(set(RULES) - routes) == [], "a rule for a route that does not exist"
    assert sorted(OPEN - routes) == []


@pytest.mark.fast
def test_the_owner_may_use_every_route_and_an_unknown_role_none():
    for method, path in guarded_routes():
        assert allowed(OWNER, method, path)
        assert not allowed("nobody", method, path)
        assert not allowed(None, method, path)


async def signed_in(panel, db, role: str) -> tuple[PageClient, int]:
    """A browser signed in as a new operator of this role; (browser, operator id)."""
    name = unique(f"op-{role}")
    async with db.write() as conn:
        operator_id = await create_operator(conn, name, await hash_password(PASSWORD), role)
    browser = PageClient(panel.url)
    assert (await browser.operator_sign_in(name)).status_code == 303
    return browser, operator_id


def address(path: str, customer_id: int, *, missing: bool) -> str:
    """The route's address: the test customer's id, or ids nothing has."""
    if path.startswith("/admin/customers/{") and not missing:
        return PATH_PARAMETER.sub(str(customer_id), path)
    return PATH_PARAMETER.sub("1" if not missing else MISSING_ID, path)


async def visit(browser: PageClient, method: str, path: str, fields: dict[str, str]):
    if method == "GET":
        return await browser.get(path)
    token = csrf_token(await browser.page("/admin"))
    return await browser.http.post(path, data={**fields, "csrf_token": token})


async def audit_rows_of(db, operator_id: int) -> int:
    async with db.read() as conn:
        return await conn.scalar(
            select(func.count()).where(operator_audit.c.operator_id == operator_id)
        )


@pytest.mark.parametrize("role", OPERATOR_ROLES)
async def test_each_role_is_refused_what_its_rule_leaves_out_and_nothing_changes(panel, db, role):
    browser, operator_id = await signed_in(panel, db, role)
    customer_id, _name = await customer_with_password(db, balance="10")
    refused, let_through = [], []
    for method, path in guarded_routes():
        if allowed(role, method, path):
            # Ids nothing has and empty forms: answered, refused as input, never by the role.
            response = await visit(browser, method, address(path, customer_id, missing=True), {})
            assert response.status_code != 403, (role, method, path, text_of(response.text))
            let_through.append(path)
        else:
            target = address(path, customer_id, missing=False)
            response = await visit(browser, method, target, HARMFUL_FIELDS)
            assert response.status_code == 403, (role, method, path, response.status_code)
            assert REFUSED in text_of(response.text)
            refused.append(path)
    assert ("GET", "/admin") in [(m, p) for m, p in guarded_routes() if p in let_through]
    assert bool(refused) == (role != OWNER)
    assert await audit_rows_of(db, operator_id) == 0
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(customers.c.balance, customers.c.status).where(customers.c.id == customer_id)
            )
        ).one()
    assert (row.balance, row.status) == (10_000_000, "active")
    await browser.close()


async def test_the_nav_shows_only_the_pages_a_role_may_open(panel, db):
    expected = {
        "support": ({"/admin/orders", "/admin/customers"}, {"/admin/payments", "/admin/catalog"}),
        "finance": ({"/admin/payments", "/admin/customers"}, {"/admin/catalog", "/admin/orders"}),
        "admin": ({"/admin/catalog", "/admin/providers"}, {"/admin/settings", "/admin/payments"}),
        "owner": ({"/admin/settings", "/admin/operators", "/admin/audit"}, set()),
    }
    for role, (shown, hidden) in expected.items():
        browser, _operator_id = await signed_in(panel, db, role)
        dashboard = await browser.page("/admin")
        nav = dashboard.split("<nav", 1)[1].split("</nav>", 1)[0]
        for path in shown:
            assert f'href="{path}"' in nav, (role, path)
        for path in hidden:
            assert f'href="{path}"' not in nav, (role, path)
        # The dashboard links only to what the role may open, and its figures stay.
        content = dashboard.split("<main", 1)[1]
        assert 'id="in-doubt"' in content and 'id="deposits-today"' in content
        assert ('href="/admin/payments?status=paid"' in content) == (role in ("owner", "finance"))
        assert ('id="providers"' in content or "No providers yet." in content) == (
            role in ("owner", "admin")
        )
        await browser.close()


async def test_signed_out_visitors_are_sent_to_sign_in_not_refused(browser):
    response = await browser.get("/admin/settings")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/signin")
