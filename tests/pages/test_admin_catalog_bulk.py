"""The operator's catalogue at wholesale size: the checked services moved and deleted (softly:
their orders keep them), a service's type changed, and provider imports landing disabled or in
a chosen category, on both databases through the real panel process."""

from page_client import PASSWORD, PageClient, customer_with_password, text_of, unique
from sqlalchemy import select, update
from test_admin_providers import (  # noqa: F401 (the fake upstream's fixtures)
    added_provider,
    offered,
    rule,
    upstream,
    upstream_process,
)

from smmpanel.accounts.operator_audit import operator_audit
from smmpanel.accounts.operators import create_operator
from smmpanel.accounts.passwords import hash_password
from smmpanel.accounts.service import create_api_key
from smmpanel.catalog.models import services
from smmpanel.catalog.service import category_id_for, set_service_enabled
from smmpanel.orders.models import orders
from smmpanel.orders.placement import place_order
from smmpanel.orders.statuses import COMPLETED

CATALOGUE = "/admin/catalog"


async def new_category(db) -> int:
    async with db.write() as conn:
        return await category_id_for(conn, unique("Bulk target"))


async def service_columns(db, service_id: int):  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        return (await conn.execute(select(services).where(services.c.id == service_id))).one()


async def audit_details(db, action: str) -> list[str]:
    async with db.read() as conn:
        query = select(operator_audit.c.detail).where(operator_audit.c.action == action)
        return list(await conn.scalars(query))


async def audit_subjects(db, action: str) -> list[str]:
    async with db.read() as conn:
        query = select(operator_audit.c.subject).where(operator_audit.c.action == action)
        return list(await conn.scalars(query))


async def place(db, customer_id: int, service_id: int) -> int:
    fields = {"service": str(service_id), "link": f"https://x.com/{unique('p')}", "quantity": "100"}
    async with db.write() as conn:
        return await place_order(conn, customer_id, fields)


def checked(*service_ids: int, **fields: object) -> list[tuple[str, object]]:
    return [*(("service", service_id) for service_id in service_ids), *fields.items()]


async def test_the_checked_services_move_to_the_chosen_category(operator, db, shop):
    moved, left = await shop.service(), await shop.service()
    target = await new_category(db)
    fields = checked(moved, category_id=target, back=f"{CATALOGUE}?q={moved}")
    response = await operator.submit(f"{CATALOGUE}/services/category", fields, page=CATALOGUE)
    assert response.headers["location"] == f"{CATALOGUE}?q={moved}"
    assert "1 service moved." in text_of(await operator.follow(response))
    assert (await service_columns(db, moved)).category_id == target
    assert (await service_columns(db, left)).category_id != target
    assert any(f"services {moved}" in detail for detail in await audit_details(db, "services.move"))


async def test_moving_needs_checked_services_and_a_category_that_exists(operator, db, shop):
    service_id = await shop.service()
    before = (await service_columns(db, service_id)).category_id
    for fields, says in (
        (checked(category_id=await new_category(db)), "Check the services to move"),
        (checked(service_id, category_id="999999999"), "Choose one of the categories"),
        (checked(service_id, category_id="x"), "Choose one of the categories"),
    ):
        response = await operator.submit(f"{CATALOGUE}/services/category", fields, page=CATALOGUE)
        assert response.status_code == 400 and says in text_of(response.text)
    assert (await service_columns(db, service_id)).category_id == before


async def test_a_deleted_service_leaves_every_list_and_the_offer_but_its_orders_keep_it(
    operator, customer, db, shop, api
):
    client, customer_id = customer
    async with db.write() as conn:
        key = await create_api_key(conn, customer_id)
    deleted, disabled = await shop.service(), await shop.service()
    order_id = await place(db, customer_id, deleted)
    category = (await service_columns(db, deleted)).category_id
    async with db.write() as conn:
        await set_service_enabled(conn, disabled, False)

    response = await operator.submit(
        f"{CATALOGUE}/services/delete", checked(deleted), page=CATALOGUE
    )
    assert "1 service deleted." in text_of(await operator.follow(response))
    row = await service_columns(db, deleted)
    assert row.deleted_at is not None and not row.enabled
    assert any(f"services {deleted}" in d for d in await audit_details(db, "services.delete"))

    # Gone from the customers' pages and the API.
    assert f"#{deleted}" not in text_of(await client.page("/services", q=str(deleted)))
    listed = (await client.get("/order/services", category=category)).json()["services"]
    assert deleted not in [entry["id"] for entry in listed]
    reply = await api.call(key=key, action="services")
    assert deleted not in [entry["service"] for entry in reply]
    link = f"https://x.com/{unique('p')}"
    refused = await api.call(key=key, action="add", service=deleted, link=link, quantity=100)
    like_disabled = await api.call(key=key, action="add", service=disabled, link=link, quantity=100)
    assert "error" in refused and refused == like_disabled

    # Gone from the operator's list, but for its own filter; it cannot come back on offer.
    assert f'id="service-{deleted}"' not in await operator.page(CATALOGUE, q=str(deleted))
    shown = await operator.page(CATALOGUE, q=str(deleted), enabled="deleted")
    assert f'id="service-{deleted}"' in shown
    enabled = await operator.submit(
        f"{CATALOGUE}/services/enabled", checked(deleted, enabled="1"), page=CATALOGUE
    )
    assert "0 services put on offer." in text_of(await operator.follow(enabled))
    single = await operator.submit(
        f"{CATALOGUE}/services/{deleted}/enabled", {"enabled": "1"}, page=CATALOGUE
    )
    assert single.status_code == 400 and "is deleted" in text_of(single.text)
    assert not (await service_columns(db, deleted)).enabled

    # Its order still names it, for the customer and the operator.
    assert row.name in text_of(await client.page("/orders"))
    assert row.name in text_of(await operator.page(f"/admin/orders/{order_id}"))


async def test_the_type_changes_only_when_every_order_of_the_service_is_finished(
    operator, db, shop
):
    customer_id, _ = await customer_with_password(db, balance="100")
    service_id = await shop.service()
    order_id = await place(db, customer_id, service_id)
    page = f"{CATALOGUE}/services/{service_id}"
    assert f'action="{page}/type"' in await operator.page(page)

    refused = await operator.submit(f"{page}/type", {"type": "Package"}, page=page)
    assert refused.status_code == 400
    assert "1 orders not finished yet" in text_of(refused.text)
    assert (await service_columns(db, service_id)).type == "Default"

    unknown = await operator.submit(f"{page}/type", {"type": "Teleport"}, page=page)
    assert unknown.status_code == 400 and "Choose one of the service types" in text_of(unknown.text)

    async with db.write() as conn:
        await conn.execute(update(orders).where(orders.c.id == order_id).values(status=COMPLETED))
    changed = await operator.submit(f"{page}/type", {"type": "Package"}, page=page)
    assert "now of the type Package" in text_of(await operator.follow(changed))
    assert (await service_columns(db, service_id)).type == "Package"
    assert f"service:{service_id}" in await audit_subjects(db, "service.type")


async def test_an_import_lands_disabled_and_in_the_chosen_category(
    operator,
    upstream,  # noqa: F811 (the fixture imported above)
    db,
):
    upstream.control(services=[offered(701, "1.00"), offered(702, "2.00")])
    page = await added_provider(operator, upstream.api_url)
    provider_id = int(page.rsplit("/", 1)[1])
    preview = await operator.submit(f"{page}/import-preview", rule(), page=page)
    assert 'name="land"' in preview.text and 'name="into_category"' in preview.text
    target = await new_category(db)

    fields = [*rule().items(), ("service", "701"), ("into_category", target)]
    imported = await operator.submit(f"{page}/import", fields, page=page)
    assert imported.status_code == 303, imported.text[:500]
    on_offer = [*rule().items(), ("service", "702"), ("land", "on-offer")]
    assert (await operator.submit(f"{page}/import", on_offer, page=page)).status_code == 303
    async with db.read() as conn:
        rows = await conn.execute(
            select(services.c.provider_service_id, services.c.enabled, services.c.category_id)
            .where(services.c.provider_id == provider_id)
            .order_by(services.c.provider_service_id)
        )
        first, second = rows.all()
    assert (first.enabled, first.category_id) == (False, target)
    assert second.enabled is True and second.category_id != target
    details = await audit_details(db, "provider.import")
    assert any(f"new ones disabled, in category {target}" in detail for detail in details)

    # Deleted, it is not brought back by importing it again.
    async with db.read() as conn:
        query = select(services.c.id).where(
            services.c.provider_id == provider_id, services.c.provider_service_id == "701"
        )
        first_id = await conn.scalar(query)
    await operator.submit(f"{CATALOGUE}/services/delete", checked(first_id), page=CATALOGUE)
    again = [*rule().items(), ("service", "701"), ("land", "on-offer")]
    reimported = await operator.submit(f"{page}/import", again, page=page)
    assert "0 new, 0 updated, 1 skipped" in text_of(await operator.follow(reimported))
    row = await service_columns(db, first_id)
    assert row.deleted_at is not None and not row.enabled

    bad = [*rule().items(), ("service", "701"), ("into_category", "999999999")]
    refused = await operator.submit(f"{page}/import", bad, page=page)
    assert refused.status_code == 400 and "Choose one of the categories" in text_of(refused.text)


async def test_support_may_not_move_delete_or_retype_services(panel, db, shop):
    service_id = await shop.service()
    name = unique("op-support")
    async with db.write() as conn:
        await create_operator(conn, name, await hash_password(PASSWORD), "support")
    support = PageClient(panel.url)
    assert (await support.operator_sign_in(name)).status_code == 303
    target = await new_category(db)
    for path, fields in (
        (f"{CATALOGUE}/services/category", checked(service_id, category_id=target)),
        (f"{CATALOGUE}/services/delete", checked(service_id)),
        (f"{CATALOGUE}/services/{service_id}/type", {"type": "Package"}),
    ):
        response = await support.submit(path, fields, page="/admin")
        assert response.status_code == 403, (path, response.status_code)
    row = await service_columns(db, service_id)
    assert row.deleted_at is None and row.type == "Default" and row.category_id != target
    await support.close()
