"""The operator's catalogue pages: what they change is what the API's `services` reply offers."""

import asyncio
import re
from html import unescape

from page_client import PageClient, text_of, unique
from sqlalchemy import func, select, update

from smmpanel.catalog import service as catalog_service
from smmpanel.catalog.models import FULFIL_PROVIDER, categories, services
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.money import parse, to_micros
from smmpanel.providers.service import add_provider

CATALOGUE = "/admin/catalog"
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


async def offered(api, key: str) -> dict[int, dict]:
    """The API's services reply for a customer, by service id, in its order."""
    reply = await api.call(key=key, action="services")
    return {entry["service"]: entry for entry in reply}


async def add_category(operator: PageClient, name: str) -> None:
    response = await operator.submit(
        f"{CATALOGUE}/categories", {"category_name": name}, page=CATALOGUE
    )
    assert response.status_code == 303, response.text[:500]


async def category_id(db, name: str) -> int:
    async with db.read() as conn:
        return await conn.scalar(select(categories.c.id).where(categories.c.name == name))


def service_form(category: int, name: str, /, **changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "name": name,
        "category_id": category,
        "type": "Default",
        "rate": "1.25",
        "min_quantity": "10",
        "max_quantity": "5000",
        "description": "Real <b>people</b>",
        "refill": "1",
    }
    fields.update(changes)
    return {key: value for key, value in fields.items() if value is not None}


async def service_named(db, name: str):  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        return (await conn.execute(select(services).where(services.c.name == name))).first()


async def new_category_with_services(db, *rates: str) -> tuple[int, list[int]]:
    async with db.write() as conn:
        position = await conn.scalar(select(func.max(categories.c.position))) or 0
        new_id = await category_id_for(conn, unique("Bulk"), position + 1)
        ids = [
            await create_service(
                conn,
                new_id,
                name=unique("priced"),
                type="Default",
                rate=to_micros(parse(rate)),
                min_quantity=10,
                max_quantity=1000,
            )
            for rate in rates
        ]
    return new_id, ids


async def rates_of(db, ids: list[int]) -> list[int]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(services.c.id, services.c.rate).where(services.c.id.in_(ids))
        )
        by_id = dict(rows.all())
    return [by_id[service_id] for service_id in ids]


def confirm_fields(preview: str) -> list[tuple[str, str]]:
    """The hidden fields of the preview's confirm form, as a browser would send them."""
    return [
        (name, unescape(value))
        for name, value in HIDDEN_INPUT.findall(preview)
        if name != "csrf_token"
    ]


async def test_a_category_and_a_service_added_on_the_pages_are_offered_by_the_api(
    operator, db, shop, api
):
    _, key = await shop.customer()
    category, name = unique("Instagram"), unique("Followers")
    await add_category(operator, category)
    added = await operator.submit(
        f"{CATALOGUE}/services", service_form(await category_id(db, category), name), page=CATALOGUE
    )
    page = await operator.follow(added)
    assert "added" in text_of(page) and name in page
    assert "Real &lt;b&gt;people&lt;/b&gt;" not in page  # the description is on the edit page only
    service = await service_named(db, name)
    entry = (await offered(api, key))[service.id]
    assert entry["category"] == category and entry["rate"] == "1.25"
    assert (entry["min"], entry["max"], entry["type"]) == ("10", "5000", "Default")
    assert entry["refill"] is True and entry["cancel"] is False and entry["dripfeed"] == 0
    assert entry["desc"] == "Real <b>people</b>"
    edit_page = await operator.page(f"{CATALOGUE}/services/{service.id}")
    assert "Real &lt;b&gt;people&lt;/b&gt;" in edit_page


async def test_editing_disabling_and_enabling_a_service_shows_in_the_api(operator, db, shop, api):
    _, key = await shop.customer()
    service_id = await shop.service(rate="2")
    other = unique("Other")
    await add_category(operator, other)
    page = f"{CATALOGUE}/services/{service_id}"
    fields = service_form(
        await category_id(db, other),
        "Edited name",
        rate="3.5",
        min_quantity="20",
        max_quantity="700",
        position="3",
        enabled="1",
        cancel="1",
        refill=None,
    )
    saved = await operator.submit(page, fields, page=page)
    assert saved.status_code == 303, saved.text[:500]
    entry = (await offered(api, key))[service_id]
    assert (entry["name"], entry["category"], entry["rate"]) == ("Edited name", other, "3.5")
    assert (entry["min"], entry["max"], entry["cancel"], entry["refill"]) == (
        "20",
        "700",
        True,
        False,
    )

    without_enabled = {name: value for name, value in fields.items() if name != "enabled"}
    assert (await operator.submit(page, without_enabled, page=page)).status_code == 303
    assert service_id not in await offered(api, key)

    switched_on = await operator.submit(f"{page}/enabled", {"enabled": "1"}, page=CATALOGUE)
    assert "is on offer" in text_of(await operator.follow(switched_on))
    assert service_id in await offered(api, key)
    switched_off = await operator.submit(f"{page}/enabled", {}, page=CATALOGUE)
    assert switched_off.status_code == 303
    assert service_id not in await offered(api, key)


async def test_moving_and_renaming_categories_changes_the_api_reply(operator, db, shop, api):
    _, key = await shop.customer()
    first, second = unique("First"), unique("Second")
    for name in (first, second):
        await add_category(operator, name)
        await operator.submit(
            f"{CATALOGUE}/services",
            service_form(await category_id(db, name), unique("svc")),
            page=CATALOGUE,
        )

    async def order() -> list[str]:
        names = [entry["category"] for entry in (await offered(api, key)).values()]
        return [name for name in dict.fromkeys(names) if name in (first, second, renamed)]

    renamed = unique("Renamed")
    assert await order() == [first, second]
    second_id = await category_id(db, second)
    moved = await operator.submit(
        f"{CATALOGUE}/categories/{second_id}", {"action": "up"}, page=CATALOGUE
    )
    assert moved.status_code == 303
    assert await order() == [second, first]
    page = await operator.page(f"{CATALOGUE}/categories")
    assert page.index(second) < page.index(first)

    await operator.submit(f"{CATALOGUE}/categories/{second_id}", {"action": "down"}, page=CATALOGUE)
    assert await order() == [first, second]
    await operator.submit(
        f"{CATALOGUE}/categories/{second_id}", {"action": "rename", "name": renamed}, page=CATALOGUE
    )
    assert await order() == [first, renamed]


async def test_bad_service_inputs_are_refused_and_change_nothing(operator, db):
    category_name = unique("Refusals")
    await add_category(operator, category_name)
    category = await category_id(db, category_name)
    name = unique("refused")
    for changes, says in (
        ({"min_quantity": "500", "max_quantity": "10"}, "minimum must not be above the maximum"),
        ({"rate": "-1"}, "above zero"),
        ({"rate": "0"}, "above zero"),
        ({"rate": "cheap"}, "at most 6 decimals"),
        ({"rate": "1.0000001"}, "at most 6 decimals"),
        ({"type": "Nonsense"}, "service types"),
        ({"name": "  "}, "required"),
        ({"min_quantity": "ten"}, "whole number"),
        ({"category_id": "999999999"}, "categories"),
    ):
        response = await operator.submit(
            f"{CATALOGUE}/services", service_form(category, name, **changes), page=CATALOGUE
        )
        assert response.status_code == 400, changes
        assert says in text_of(response.text), (changes, text_of(response.text)[:300])
        assert await service_named(db, name) is None
    # What was typed is shown again, escaped.
    typed = await operator.submit(
        f"{CATALOGUE}/services",
        service_form(category, "<script>x</script>", rate="bad"),
        page=CATALOGUE,
    )
    assert "&lt;script&gt;x&lt;/script&gt;" in typed.text and "<script>x" not in typed.text


async def test_a_bad_edit_is_refused_and_the_service_keeps_its_values(operator, db, shop):
    service_id = await shop.service(rate="2", min_quantity=10, max_quantity=100)
    page = f"{CATALOGUE}/services/{service_id}"
    before = await service_by_id(db, service_id)
    for changes in ({"rate": "-3"}, {"max_quantity": "5"}, {"position": "x"}, {"name": ""}):
        fields = service_form(before.category_id, before.name, **{"position": "0", **changes})
        response = await operator.submit(page, fields, page=page)
        assert response.status_code == 400, changes
        assert await service_by_id(db, service_id) == before
    assert (await operator.get(f"{CATALOGUE}/services/99999999")).status_code == 404
    assert (await operator.get(f"{CATALOGUE}/services/nothing")).status_code == 404


async def service_by_id(db, service_id: int):  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        return (await conn.execute(select(services).where(services.c.id == service_id))).first()


async def test_a_bulk_percent_change_previews_then_changes_exactly_the_checked_rates(
    operator, db, shop, api
):
    _, key = await shop.customer()
    _, ids = await new_category_with_services(db, "1", "2", "3")
    fields = [("kind", "percent"), ("change", "+10"), ("service", ids[0]), ("service", ids[1])]
    preview = await operator.submit(f"{CATALOGUE}/prices", fields, page=CATALOGUE)
    assert preview.status_code == 200, preview.text[:500]
    shown = text_of(preview.text)
    assert "changes by +10%." in shown
    assert "USD 1.00 USD 1.10" in shown and "USD 2.00 USD 2.20" in shown
    assert f"service-{ids[2]}" not in preview.text
    assert await rates_of(db, ids) == [1_000_000, 2_000_000, 3_000_000]

    confirmed = await operator.submit(
        f"{CATALOGUE}/prices", confirm_fields(preview.text), page=CATALOGUE
    )
    assert "Changed the rates of 2 services" in text_of(await operator.follow(confirmed))
    assert await rates_of(db, ids) == [1_100_000, 2_200_000, 3_000_000]
    reply = await offered(api, key)
    assert [reply[i]["rate"] for i in ids] == ["1.1", "2.2", "3"]


async def test_a_bulk_change_that_would_reach_zero_is_refused(operator, db):
    category, ids = await new_category_with_services(db, "1", "2")
    fields = {"kind": "fixed", "change": "-1", "category": category}
    refused = await operator.submit(f"{CATALOGUE}/prices", fields, page=CATALOGUE)
    assert refused.status_code == 400 and "zero or below" in text_of(refused.text)
    assert 'name="confirm"' not in refused.text
    forged = await operator.submit(
        f"{CATALOGUE}/prices",
        [("kind", "fixed"), ("change", "-1"), ("confirm", "1")]
        + [("service", i) for i in ids]
        + [(f"was_{i}", rate) for i, rate in zip(ids, await rates_of(db, ids), strict=True)],
        page=CATALOGUE,
    )
    assert forged.status_code == 400
    assert await rates_of(db, ids) == [1_000_000, 2_000_000]
    for bad in (
        {"kind": "fixed", "change": "0"},
        {"kind": "percent", "change": "lots"},
        {"kind": "x", "change": "1"},
    ):
        response = await operator.submit(
            f"{CATALOGUE}/prices", {**bad, "category": category}, page=CATALOGUE
        )
        assert response.status_code == 400, bad
    nothing = await operator.submit(
        f"{CATALOGUE}/prices", {"kind": "percent", "change": "5"}, page=CATALOGUE
    )
    assert nothing.status_code == 400 and "Check the services" in text_of(nothing.text)
    assert await rates_of(db, ids) == [1_000_000, 2_000_000]


async def test_a_rate_changed_after_the_preview_stops_the_bulk_change(operator, db, shop):
    category, ids = await new_category_with_services(db, "4", "5")
    fields = {"kind": "fixed", "change": "-0.5", "category": category}
    preview = await operator.submit(f"{CATALOGUE}/prices", fields, page=CATALOGUE)
    assert "USD 4.00 USD 3.50" in text_of(preview.text)
    assert "USD 5.00 USD 4.50" in text_of(preview.text)
    page = f"{CATALOGUE}/services/{ids[0]}"
    row = await service_by_id(db, ids[0])
    edit = service_form(category, row.name, rate="6", refill=None, position="0", enabled="1")
    assert (await operator.submit(page, edit, page=page)).status_code == 303

    stale = await operator.submit(
        f"{CATALOGUE}/prices", confirm_fields(preview.text), page=CATALOGUE
    )
    assert stale.status_code == 409 and "changed since the preview" in text_of(stale.text)
    assert await rates_of(db, ids) == [6_000_000, 5_000_000]
    assert "USD 6.00 USD 5.50" in text_of(stale.text)


async def test_the_catalogue_speaks_traditional_chinese(operator):
    await operator.get("/language/zh_TW", next=CATALOGUE)
    page = text_of(await operator.page(CATALOGUE))
    assert "新增服務" in page and "調整價格" in page
    refused = await operator.submit(
        f"{CATALOGUE}/categories", {"category_name": " "}, page=CATALOGUE
    )
    assert refused.status_code == 400 and "必填" in text_of(refused.text)


# ---- a resold service's fallback provider


async def new_provider(db) -> int:
    async with db.write() as conn:
        return await add_provider(conn, unique("upstream"), "http://127.0.0.1:9/api/v2", "key")


async def fallback_of(db, service_id: int) -> tuple[int | None, str | None]:
    row = await service_by_id(db, service_id)
    return row.fallback_provider_id, row.fallback_provider_service_id


async def test_a_resold_service_gets_and_loses_its_fallback_provider_on_its_page(
    operator, db, shop
):
    own, fallback = await new_provider(db), await new_provider(db)
    service_id = await shop.service(
        fulfilment=FULFIL_PROVIDER, provider_id=own, provider_service_id="7"
    )
    page = f"{CATALOGUE}/services/{service_id}"
    row = await service_by_id(db, service_id)
    fields = service_form(row.category_id, row.name, position="0", enabled="1")
    assert f'<option value="{fallback}">' in await operator.page(page)

    chosen = {"fallback_provider": fallback, "fallback_service_id": " 88 "}
    saved = await operator.submit(page, {**fields, **chosen}, page=page)
    assert "saved" in text_of(await operator.follow(saved))
    assert await fallback_of(db, service_id) == (fallback, "88")
    shown = await operator.page(page)
    assert f'<option value="{fallback}" selected>' in shown and 'value="88"' in shown

    before = await service_by_id(db, service_id)
    for changes, says in (
        ({"fallback_service_id": " "}, "needs the id of the service to order there"),
        ({"fallback_service_id": "9" * 51}, "at most 50 fit"),
        ({"fallback_provider": "99999999"}, "Choose one of the providers"),
        ({"fallback_provider": "x"}, "Choose one of the providers"),
    ):
        refused_fields = {**fields, **chosen, "name": "Not saved", **changes}
        response = await operator.submit(page, refused_fields, page=page)
        assert response.status_code == 400, changes
        assert says in text_of(response.text), (changes, text_of(response.text)[:300])
        assert await service_by_id(db, service_id) == before

    cleared = await operator.submit(page, {**fields, "fallback_provider": ""}, page=page)
    assert cleared.status_code == 303, cleared.text[:500]
    assert await fallback_of(db, service_id) == (None, None)


async def test_a_service_fulfilled_by_hand_is_refused_a_fallback_in_the_visitors_language(
    operator, db, shop
):
    fallback = await new_provider(db)
    service_id = await shop.service()
    page = f"{CATALOGUE}/services/{service_id}"
    assert 'name="fallback_provider"' not in await operator.page(page)
    row = await service_by_id(db, service_id)
    forged = {
        **service_form(row.category_id, row.name, position="0", enabled="1"),
        "fallback_provider": fallback,
        "fallback_service_id": "88",
    }
    refused = await operator.submit(page, forged, page=page)
    assert refused.status_code == 400 and "fulfilled by hand" in text_of(refused.text)
    await operator.get("/language/zh_TW", next=page)
    translated = await operator.submit(page, forged, page=page)
    await operator.get("/language/en")
    assert translated.status_code == 400
    assert f"服務 {service_id} 為人工處理" in text_of(translated.text)
    assert await fallback_of(db, service_id) == (None, None)
    assert await service_by_id(db, service_id) == row


# ---- two operators adding one category at once


async def categories_named(db, name: str) -> int:
    async with db.read() as conn:
        query = select(func.count()).select_from(categories).where(categories.c.name == name)
        return await conn.scalar(query)


async def posted_while_taken(db, operator: PageClient, name: str, action: str, fields: dict):
    """Post the form while another transaction adds a category `name`, committing a second
    later: the page's write waits for it, then meets the name taken."""
    async with db.write() as conn:
        await catalog_service.add_category(conn, name)
        racing = asyncio.create_task(operator.submit(action, fields, page=CATALOGUE))
        await asyncio.sleep(1)
    return await racing


async def test_a_category_name_taken_meanwhile_by_another_operator_is_refused_not_a_fault(
    operator, db
):
    added_name, renamed_name = unique("Race"), unique("Race")
    added = await posted_while_taken(
        db, operator, added_name, f"{CATALOGUE}/categories", {"category_name": added_name}
    )
    own_name = unique("Own")
    await add_category(operator, own_name)
    own = await category_id(db, own_name)
    renamed = await posted_while_taken(
        db,
        operator,
        renamed_name,
        f"{CATALOGUE}/categories/{own}",
        {"action": "rename", "name": renamed_name},
    )
    for response in (added, renamed):
        assert response.status_code == 400, response.text[:500]
        assert "exists already" in text_of(response.text)
    assert [await categories_named(db, name) for name in (added_name, renamed_name)] == [1, 1]
    assert await category_id(db, own_name) == own

    taken = await operator.submit(
        f"{CATALOGUE}/categories/{own}", {"action": "rename", "name": added_name}, page=CATALOGUE
    )
    assert taken.status_code == 400 and "exists already" in text_of(taken.text)
    same = {"action": "rename", "name": own_name}
    kept = await operator.submit(f"{CATALOGUE}/categories/{own}", same, page=CATALOGUE)
    assert kept.status_code == 303


# ---- the list: searched, filtered and paged by its address; the checked services at once

SERVICE_ROW = re.compile(r'<tr id="service-(\d+)">')


def listed(page: str) -> list[int]:
    return [int(found) for found in SERVICE_ROW.findall(page)]


async def services_in_new_category(db, count: int, **fields: object) -> tuple[int, list[int]]:
    """A category last in the order with `count` services named after it, in their order."""
    async with db.write() as conn:
        position = await conn.scalar(select(func.max(categories.c.position))) or 0
        name = unique("Listed")
        new_id = await category_id_for(conn, name, position + 1)
        ids = [
            await create_service(
                conn,
                new_id,
                **{
                    "name": f"{name} n{number:03}",
                    "type": "Default",
                    "rate": 1_000_000,
                    "min_quantity": 10,
                    "max_quantity": 1000,
                    **fields,
                },
            )
            for number in range(count)
        ]
    return new_id, ids


async def test_the_list_shows_a_page_of_what_its_address_asks_for(operator, db, shop):
    category, ids = await services_in_new_category(db, 60)
    async with db.write() as conn:
        await catalog_service.set_service_enabled(conn, ids[5], False)
        odd = f"Odd ONE out {unique('x')}"
        await conn.execute(update(services).where(services.c.id == ids[6]).values(name=odd))
    provider = await new_provider(db)
    resold = await shop.service(
        fulfilment=FULFIL_PROVIDER, provider_id=provider, provider_service_id="3"
    )

    first = await operator.page(CATALOGUE, category=category)
    assert listed(first) == ids[:50]
    assert "60 services match. Page 1 of 2." in text_of(first)
    assert f'href="{CATALOGUE}?category={category}&amp;page=2"' in first
    second = await operator.page(CATALOGUE, category=category, page=2)
    assert listed(second) == ids[50:]
    assert listed(await operator.page(CATALOGUE, category=category, enabled="no")) == [ids[5]]
    assert ids[5] not in listed(await operator.page(CATALOGUE, category=category, enabled="yes"))
    assert listed(await operator.page(CATALOGUE, q="odd one", category=category)) == [ids[6]]
    assert ids[7] in listed(await operator.page(CATALOGUE, q=str(ids[7])))
    assert listed(await operator.page(CATALOGUE, provider=provider)) == [resold]
    by_hand = await operator.page(CATALOGUE, provider="manual", q=str(resold))
    assert resold not in listed(by_hand)
    assert listed(await operator.page(CATALOGUE, category=category, type="Package")) == []
    # What is not one of the choices does not filter, and is not kept in the page's links.
    garbage = await operator.page(
        CATALOGUE, category=category, provider="x", type="Nonsense", enabled="maybe", page="-3"
    )
    assert listed(garbage) == ids[:50] and "Nonsense" not in garbage


async def test_checked_services_are_switched_at_once_and_the_same_list_comes_back(
    operator, db, shop, api
):
    _, key = await shop.customer()
    category, ids = await services_in_new_category(db, 3)
    back = f"{CATALOGUE}?category={category}&enabled=yes&page=1"
    checked = [("service", ids[0]), ("service", ids[1]), ("back", back)]

    disabled = await operator.submit(f"{CATALOGUE}/services/enabled", checked, page=CATALOGUE)
    assert disabled.headers["location"] == f"{CATALOGUE}?category={category}&enabled=yes"
    assert "2 services disabled." in text_of(await operator.follow(disabled))
    reply = await offered(api, key)
    assert [i in reply for i in ids] == [False, False, True]

    again = await operator.submit(f"{CATALOGUE}/services/enabled", checked, page=CATALOGUE)
    assert "0 services disabled." in text_of(await operator.follow(again))
    enabled = await operator.submit(
        f"{CATALOGUE}/services/enabled", [*checked, ("enabled", "1")], page=CATALOGUE
    )
    assert "2 services put on offer." in text_of(await operator.follow(enabled))
    reply = await offered(api, key)
    assert all(i in reply for i in ids)

    nothing = await operator.submit(f"{CATALOGUE}/services/enabled", {"back": back}, page=CATALOGUE)
    assert nothing.status_code == 400
    assert "Check the services to enable or disable." in text_of(nothing.text)
    assert listed(nothing.text) == ids  # the same filtered list, shown again

    one = await operator.submit(
        f"{CATALOGUE}/services/{ids[2]}/enabled", {"back": back}, page=CATALOGUE
    )
    assert one.headers["location"] == f"{CATALOGUE}?category={category}&enabled=yes"
    assert ids[2] not in await offered(api, key)


async def test_a_bulk_price_change_returns_to_the_list_it_was_made_from(operator, db):
    category, ids = await new_category_with_services(db, "1", "2")
    back = f"{CATALOGUE}?category={category}"
    fields = {"kind": "percent", "change": "50", "category": category, "back": back}
    preview = await operator.submit(f"{CATALOGUE}/prices", fields, page=back)
    assert f'href="{back}"' in preview.text
    confirmed = await operator.submit(
        f"{CATALOGUE}/prices", confirm_fields(preview.text), page=back
    )
    assert confirmed.headers["location"] == back
    assert await rates_of(db, ids) == [1_500_000, 3_000_000]


async def test_a_form_is_never_sent_back_to_another_site(operator, db, shop):
    service_id = await shop.service()
    for back in ("https://elsewhere.example/admin/catalog", "//elsewhere.example/admin/catalog"):
        response = await operator.submit(
            f"{CATALOGUE}/services/{service_id}/enabled",
            {"enabled": "1", "back": back},
            page=CATALOGUE,
        )
        assert response.headers["location"] == CATALOGUE


async def test_saving_a_service_returns_to_the_list_it_was_opened_from(operator, db, shop):
    service_id = await shop.service()
    page = f"{CATALOGUE}/services/{service_id}"
    listing = f"{CATALOGUE}?q=service&type=Default"
    opened = await operator.http.get(
        page, headers={"Referer": f"{str(operator.http.base_url).rstrip('/')}{listing}"}
    )
    assert f'name="back" value="{listing.replace("&", "&amp;")}"' in opened.text
    row = await service_by_id(db, service_id)
    fields = service_form(row.category_id, row.name, position="0", enabled="1", back=listing)
    saved = await operator.submit(page, fields, page=page)
    assert saved.headers["location"] == listing


async def test_the_category_page_adds_renames_and_counts(operator, db):
    category, ids = await services_in_new_category(db, 2)
    async with db.write() as conn:
        await catalog_service.set_service_enabled(conn, ids[0], False)
    page = await operator.page(f"{CATALOGUE}/categories")
    row = re.search(rf'<tr id="category-{category}">(.*?)</tr>', page, re.S)
    assert row is not None
    assert [int(n) for n in re.findall(r'class="number">(?:<a[^>]*>)?(\d+)', row.group(1))] == [
        2,
        1,
    ]
    name = unique("Added")
    added = await operator.submit(
        f"{CATALOGUE}/categories", {"category_name": name}, page=CATALOGUE
    )
    assert added.headers["location"] == f"{CATALOGUE}/categories"
    assert name in await operator.follow(added)


async def test_adding_a_service_has_its_own_page(operator, db):
    page = await operator.page(f"{CATALOGUE}/services/new")
    assert 'action="/admin/catalog/services"' in page and 'name="category_id"' in page
    catalogue = await operator.page(CATALOGUE)
    assert 'href="/admin/catalog/services/new"' in catalogue
    assert 'name="category_name"' not in catalogue and 'name="rate"' not in catalogue


async def test_more_checked_boxes_than_a_statement_takes_are_refused_and_change_nothing(
    operator, db, shop, api
):
    _, key = await shop.customer()
    category, ids = await services_in_new_category(db, 1)
    checked = [("service", ids[0])] + [("service", n) for n in range(10**9, 10**9 + 40_000)]
    refused = await operator.submit(f"{CATALOGUE}/services/enabled", checked, page=CATALOGUE)
    assert refused.status_code == 400
    assert "At most 5,000 boxes can be checked at once" in text_of(refused.text)
    assert ids[0] in await offered(api, key)
