"""catalog export/import and price: a lossless round trip, all-or-nothing imports."""

import json
from decimal import Decimal
from pathlib import Path

from cli_runner import Cli
from sqlalchemy import insert, select

from smmpanel.catalog.models import categories, services
from smmpanel.catalog.service import catalog_version, category_id_for, create_service
from smmpanel.db import Database
from smmpanel.money import parse, to_micros
from smmpanel.providers.models import providers
from smmpanel.providers.service import add_provider

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
                    "Alpha old",
                    "3.5",
                    enabled=False,
                    description=TRICKY_DESCRIPTION,
                    name_zh_tw="舊的讚",
                    description_zh_tw="第一行\n「引號」",
                    position=5,
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
    assert (old["name_zh_tw"], old["description_zh_tw"]) == ("舊的讚", "第一行\n「引號」")
    assert document["categories"][1]["services"][0]["name_zh_tw"] is None
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


async def add_providers(url: str, names: list[str]) -> dict[str, int]:
    db = Database(url, pool_size=1)
    async with db.write() as conn:
        ids = {
            name: await add_provider(conn, name, "http://127.0.0.1:9/api/v2", "k") for name in names
        }
    await db.dispose()
    return ids


async def add_resold_services(url: str, provider_ids: dict[str, int]) -> None:
    """A resold service with a fallback, and one taken over by hand that keeps its upstream id."""
    db = Database(url, pool_size=1)
    async with db.write() as conn:
        category = await category_id_for(conn, "Resold", position=4)
        upstream = {"fulfilment": "provider", "provider_id": provider_ids["up-a"]}
        await create_service(
            conn,
            category,
            **service_fields("Resold likes", "2.5"),
            **upstream,
            provider_service_id="77",
            upstream_rate=1_250_000,
            upstream_dripfeed=True,
            fallback_provider_id=provider_ids["up-b"],
            fallback_provider_service_id="88",
        )
        await create_service(
            conn,
            category,
            **service_fields("Taken over", "3"),
            **{**upstream, "fulfilment": "manual"},
            provider_service_id="78",
            upstream_rate=2_000_000,
        )
    await db.dispose()


async def every_service_field(url: str) -> dict[int, dict]:
    """Each service's every column, its category and providers by name (ids differ by panel)."""
    provider, fallback = providers.alias("provider"), providers.alias("fallback")
    db = Database(url, pool_size=1)
    async with db.read() as conn:
        rows = await conn.execute(
            select(
                services,
                categories.c.name.label("category"),
                categories.c.position.label("category_position"),
                provider.c.name.label("provider"),
                fallback.c.name.label("fallback"),
            )
            .join(categories, categories.c.id == services.c.category_id)
            .outerjoin(provider, provider.c.id == services.c.provider_id)
            .outerjoin(fallback, fallback.c.id == services.c.fallback_provider_id)
        )
        found = {row.id: dict(row._mapping) for row in rows}
    await db.dispose()
    for fields in found.values():
        for column in ("category_id", "provider_id", "fallback_provider_id"):
            fields[column] = fields[column] is not None
    return found


async def test_resold_services_keep_every_field_and_their_providers_by_name(fresh_cli, tmp_path):
    source, target = await fresh_cli(), await fresh_cli()
    await fill_catalogue(source.database_url)
    await add_resold_services(
        source.database_url, await add_providers(source.database_url, ["up-a", "up-b"])
    )
    await add_providers(target.database_url, ["another", "up-b", "up-a"])  # other ids
    exported = tmp_path / "catalogue.json"
    source.ok("catalog", "export", exported)

    assert "5 new, 0 updated" in target.ok("catalog", "import", exported)
    before = await every_service_field(source.database_url)
    assert await every_service_field(target.database_url) == before
    resold = next(fields for fields in before.values() if fields["name"] == "Resold likes")
    assert (resold["provider"], resold["fallback"], resold["fulfilment"]) == (
        "up-a",
        "up-b",
        "provider",
    )


async def with_resold_services(cli: Cli) -> tuple[dict[int, dict], dict[str, int]]:
    """Add the resold services of add_resold_services: every service's fields, ids by name."""
    await add_resold_services(
        cli.database_url, await add_providers(cli.database_url, ["up-a", "up-b"])
    )
    fields = await every_service_field(cli.database_url)
    return fields, {service["name"]: service_id for service_id, service in fields.items()}


def resold_file(path: Path, entries: list[dict]) -> Path:
    """A catalogue file of these service entries, in the category of add_resold_services."""
    document = {"categories": [{"name": "Resold", "services": entries}]}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


async def test_a_file_naming_one_field_of_a_service_changes_that_field_only(fresh_cli, tmp_path):
    cli = await fresh_cli()
    await fill_catalogue(cli.database_url)
    before, ids = await with_resold_services(cli)
    resold = ids["Resold likes"]
    partial = resold_file(tmp_path / "one-field.json", [{"id": resold, "rate": "4.25"}])

    assert "0 new, 1 updated" in cli.ok("catalog", "import", partial)
    after = await every_service_field(cli.database_url)
    assert after[resold]["rate"] == 4_250_000
    after[resold]["rate"] = before[resold]["rate"]
    assert after == before


async def test_a_file_refers_to_providers_by_name_and_refuses_an_unknown_one(fresh_cli, tmp_path):
    cli = await fresh_cli()
    await fill_catalogue(cli.database_url)
    document = json.loads(cli.ok("catalog", "export"))
    document["categories"][1]["services"][0].update(
        fulfilment="provider", provider="nowhere", provider_service_id="5"
    )
    document["categories"][1]["services"].append({"id": 9000, "name": "Half"})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    before = await every_service_field(cli.database_url)

    refusal = cli.refused("catalog", "import", bad)
    assert "no provider named 'nowhere'" in refusal
    assert "service 9000 is new and needs type, rate, min, max" in refusal
    assert await every_service_field(cli.database_url) == before


async def test_a_file_swapping_two_services_upstream_ids_swaps_them(fresh_cli, tmp_path):
    cli = await fresh_cli()
    before, ids = await with_resold_services(cli)
    resold, taken_over = ids["Resold likes"], ids["Taken over"]
    swap = resold_file(
        tmp_path / "swap.json",
        [
            {"id": resold, "provider_service_id": "78"},
            {"id": taken_over, "provider_service_id": "77"},
        ],
    )

    assert "0 new, 2 updated" in cli.ok("catalog", "import", swap)
    after = await every_service_field(cli.database_url)
    assert (after[resold]["provider_service_id"], after[taken_over]["provider_service_id"]) == (
        "78",
        "77",
    )
    for service_id in (resold, taken_over):
        after[service_id]["provider_service_id"] = before[service_id]["provider_service_id"]
    assert after == before


async def test_a_new_service_listed_first_may_take_an_upstream_id_another_gives_up(
    fresh_cli, tmp_path
):
    cli = await fresh_cli()
    _, ids = await with_resold_services(cli)
    new = {"id": 9100, "name": "Takes 77", "type": "Default", "rate": "2", "min": 1, "max": 9}
    new.update(provider="up-a", provider_service_id="77")
    moved = {"id": ids["Resold likes"], "provider_service_id": "79"}
    moves = resold_file(tmp_path / "moves.json", [new, moved])

    assert "1 new, 1 updated" in cli.ok("catalog", "import", moves)
    after = await every_service_field(cli.database_url)
    assert (after[9100]["provider_service_id"], after[9100]["fulfilment"]) == ("77", "provider")
    assert after[ids["Resold likes"]]["provider_service_id"] == "79"
