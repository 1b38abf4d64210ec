"""catalog export/import and price: a lossless round trip, all-or-nothing imports."""

import json
from decimal import Decimal

from sqlalchemy import insert, select

from smmpanel.catalog.models import categories, services
from smmpanel.catalog.service import catalog_version, category_id_for, create_service
from smmpanel.db import Database
from smmpanel.money import parse, to_micros

TRICKY_DESCRIPTION = 'Line one\n"quoted", tab\tand emoji 🚀 <b>not html</b>'


async def fill_catalogue(url: str) -> None:
    """Categories out of id order, an empty one, a disabled service, an id far ahead."""
    db = Database(url, pool_size=1)
    async with db.write() as conn:
        await category_id_for(conn, "Empty", position=0)
        zeta = await category_id_for(conn, "Zeta — ünïcode", position=2)
        alpha = await category_id_for(conn, "Alpha", position=1)
        await create_service(conn, zeta, **service_fields("Zeta followers", "0.123456"))
        await create_service(
            conn, alpha, **service_fields("Alpha likes", "12", type="Poll", position=3)
        )
        await conn.execute(
            insert(services).values(
                id=500,
                category_id=alpha,
                **service_fields(
                    "Alpha old", "3.5", enabled=False, description=TRICKY_DESCRIPTION, position=5
                ),
            )
        )
    await db.dispose()


def service_fields(name: str, rate: str, **overrides: object) -> dict:
    fields = {
        "name": name,
        "type": "Default",
        "rate": to_micros(parse(rate)),
        "min_quantity": 10,
        "max_quantity": 5000,
        "dripfeed": True,
        "refill": True,
        "cancel": False,
        "refill_days": 7,
        "position": 1,
    }
    return {**fields, **overrides}


async def catalogue_rows(url: str) -> tuple:
    db = Database(url, pool_size=1)
    async with db.read() as conn:
        rows = (
            [
                tuple(row)
                for row in await conn.execute(select(categories).order_by(categories.c.id))
            ],
            [tuple(row) for row in await conn.execute(select(services).order_by(services.c.id))],
            await catalog_version(conn),
        )
    await db.dispose()
    return rows


async def test_export_import_export_is_lossless(fresh_cli, tmp_path):
    source, target = await fresh_cli(), await fresh_cli()
    await fill_catalogue(source.database_url)
    exported = tmp_path / "catalogue.json"
    assert "3 services in 3 categories" in source.ok("catalog", "export", exported)
    text = exported.read_text(encoding="utf-8")
    document = json.loads(text)
    assert [c["name"] for c in document["categories"]] == ["Empty", "Alpha", "Zeta — ünïcode"]
    assert document["categories"][0]["services"] == []
    old = document["categories"][1]["services"][1]
    assert (old["id"], old["enabled"], old["rate"]) == (500, False, "3.5")
    assert old["description"] == TRICKY_DESCRIPTION
    assert document["categories"][2]["services"][0]["rate"] == "0.123456"
    version_before = (await catalogue_rows(target.database_url))[2]

    assert "3 new, 0 updated" in target.ok("catalog", "import", exported)
    assert target.ok("catalog", "export") == text
    assert "0 new, 3 updated" in target.ok("catalog", "import", exported)
    _, _, version_after = await catalogue_rows(target.database_url)
    assert version_after == version_before + 2
    await assert_new_services_get_fresh_ids(target.database_url)


async def assert_new_services_get_fresh_ids(url: str) -> None:
    """Imported ids must not be handed out again (PostgreSQL keeps a sequence apart)."""
    db = Database(url, pool_size=1)
    async with db.write() as conn:
        category = await category_id_for(conn, "Alpha")
        for _ in range(4):
            assert await create_service(conn, category, **service_fields("New", "1")) > 500
    await db.dispose()


async def test_an_invalid_file_changes_nothing_and_names_the_entry(fresh_cli, tmp_path):
    cli = await fresh_cli()
    await fill_catalogue(cli.database_url)
    document = json.loads(cli.ok("catalog", "export"))
    alpha = document["categories"][1]["services"]
    alpha[0]["name"] = "Renamed, valid"
    alpha[1]["min"], alpha[1]["max"] = 100, 50
    document["categories"][2]["services"].append({**alpha[0], "id": 777, "type": "Likes"})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    before = await catalogue_rows(cli.database_url)

    refusal = cli.refused("catalog", "import", bad)
    assert "nothing changed" in refusal
    assert "service entry 2 ('Alpha old' in category 'Alpha'): " in refusal
    assert "need 1 <= min <= max" in refusal
    assert "service entry 4 ('Renamed, valid' in category 'Zeta — ünïcode'): " in refusal
    assert "unknown service type 'Likes'" in refusal
    assert await catalogue_rows(cli.database_url) == before


async def test_price_set_and_clear_change_what_the_customer_pays(cli, api, shop):
    customer_id, key = await shop.customer()
    service = await shop.service(rate="2")

    async def rate_seen() -> Decimal:
        listed = await api.call(key=key, action="services")
        return Decimal(next(item["rate"] for item in listed if item["service"] == service))

    assert "pays 0.5 per 1000" in cli.ok("price", "set", customer_id, service, "0.5")
    assert await rate_seen() == Decimal("0.5")
    assert "list price 2 per 1000" in cli.ok("price", "clear", customer_id, service)
    assert await rate_seen() == Decimal(2)
    assert "no service 999999" in cli.refused("price", "set", customer_id, 999999, "1")


async def test_service_disable_and_enable_change_what_customers_see(cli, api, shop, db):
    _, key = await shop.customer("10")
    service = await shop.service(rate="2")

    async def listed() -> bool:
        return any(
            item["service"] == service for item in await api.call(key=key, action="services")
        )

    async def order() -> dict:
        fields = {"service": service, "link": "https://instagram.com/p/x", "quantity": 10}
        return await api.call(key=key, action="add", **fields)

    assert await listed()
    version = await _version(db)
    assert f"service {service} (" in cli.ok("catalog", "service-disable", service)
    assert await _version(db) == version + 1
    assert not await listed()
    assert "order" not in await order()
    assert "was off offer already" in cli.ok("catalog", "service-disable", service)
    assert await _version(db) == version + 1

    assert "is on offer again" in cli.ok("catalog", "service-enable", service)
    assert await listed()
    assert "order" in await order()


async def test_enabling_an_unknown_service_says_where_the_ids_are(cli, db):
    version = await _version(db)
    refusal = cli.refused("catalog", "service-enable", 999999)
    assert "no service 999999" in refusal and "smmpanel catalog export" in refusal
    assert await _version(db) == version


async def _version(db: Database) -> int:
    async with db.read() as conn:
        return await catalog_version(conn)
