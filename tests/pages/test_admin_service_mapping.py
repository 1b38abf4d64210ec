"""A service fulfilled by hand forwarded to a provider's service from its page, and back by hand,
against the fake upstream panel in its own process."""

import uuid
from collections.abc import Iterator

import harness
import pytest
from page_client import PageClient, operator_account, text_of, unique
from sqlalchemy import select
from upstream_process import UPSTREAM_KEY, Upstream, running_upstream

from smmpanel.accounts.service import create_customer
from smmpanel.catalog.models import FULFIL_MANUAL, FULFIL_PROVIDER, services
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.config import Settings
from smmpanel.money import parse, to_micros
from smmpanel.orders.models import orders
from smmpanel.orders.placement import place_order
from smmpanel.providers.client import UpstreamClient, upstream_session
from smmpanel.providers.forwarding import ForwardingTimes, forward_due_orders
from smmpanel.providers.service import add_provider

CALM = {"modes": {"services": "ok", "balance": "ok"}, "add": "ok", "delay": 0}
UPSTREAM_SERVICE = {
    "service": 77,
    "name": "Upstream followers",
    "category": "Followers",
    "type": "Default",
    "rate": "0.5",
    "min": "5",
    "max": "50000",
}


@pytest.fixture(scope="module")
def upstream_process() -> Iterator[Upstream]:
    with running_upstream() as upstream:
        yield upstream


@pytest.fixture
def upstream(upstream_process: Upstream) -> Upstream:
    upstream_process.control(**CALM, services=[UPSTREAM_SERVICE])
    return upstream_process


async def provider_at(db, api_url: str) -> int:  # type: ignore[no-untyped-def]
    async with db.write() as conn:
        return await add_provider(conn, unique("up"), api_url, UPSTREAM_KEY, 5)


async def service_by_hand(db, type: str = "Default", min_: int = 10, max_: int = 1000) -> int:  # type: ignore[no-untyped-def]
    async with db.write() as conn:
        category_id = await category_id_for(conn, unique("Mapped"))
        return await create_service(
            conn,
            category_id,
            name=unique("by-hand"),
            type=type,
            rate=to_micros(parse("1")),
            min_quantity=min_,
            max_quantity=max_,
        )


async def map_to(operator: PageClient, service_id: int, provider_id: int, upstream_id: str) -> str:
    page = f"/admin/catalog/services/{service_id}"
    fields = {"provider": provider_id, "provider_service_id": upstream_id}
    response = await operator.submit(f"{page}/provider", fields, page=page)
    return text_of(await operator.follow(response))


async def fulfilment_of(db, service_id: int):  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        query = select(
            services.c.fulfilment,
            services.c.provider_id,
            services.c.provider_service_id,
            services.c.upstream_rate,
        ).where(services.c.id == service_id)
        return (await conn.execute(query)).one()


async def place(db, customer_id: int, service_id: int) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    link = f"https://instagram.com/p/{uuid.uuid4().hex[:12]}"
    fields = {"service": str(service_id), "link": link, "quantity": "100"}
    async with db.write() as conn:
        return await place_order(conn, customer_id, fields), link


async def provider_of_order(db, order_id: int) -> int | None:  # type: ignore[no-untyped-def]
    async with db.read() as conn:
        return await conn.scalar(select(orders.c.provider_id).where(orders.c.id == order_id))


async def test_a_mapped_service_forwards_its_new_orders_and_leaves_the_earlier_by_hand(
    backend, tmp_path, upstream
):
    # A panel of its own: the forwarding round below sends every due order of its database.
    async with harness.panel_of_its_own(backend, tmp_path) as (panel, db):
        operator = PageClient(panel.url)
        assert (await operator.operator_sign_in(await operator_account(db))).status_code == 303
        provider_id = await provider_at(db, upstream.api_url)
        service_id = await service_by_hand(db)
        async with db.write() as conn:
            customer_id = await create_customer(conn, unique("buyer"), to_micros(parse("100")))
        earlier, earlier_link = await place(db, customer_id, service_id)

        said = await map_to(operator, service_id, provider_id, "77")
        assert "forwarded to the provider's service 77 from now on" in said
        assert "Fulfil by hand from now on" in said
        mapped = await fulfilment_of(db, service_id)
        assert (mapped.fulfilment, mapped.provider_id) == (FULFIL_PROVIDER, provider_id)
        assert (mapped.provider_service_id, mapped.upstream_rate) == ("77", 500_000)

        later, later_link = await place(db, customer_id, service_id)
        assert await provider_of_order(db, earlier) is None
        assert await provider_of_order(db, later) == provider_id
        times = ForwardingTimes.from_settings(Settings.model_construct())
        async with upstream_session() as http:
            await forward_due_orders(db, UpstreamClient(http), 100, times)
        sent = upstream.sent_links()
        assert sent.get(later_link) == 1 and earlier_link not in sent

        page = f"/admin/catalog/services/{service_id}"
        response = await operator.submit(f"{page}/by-hand", {}, page=page)
        assert "fulfilled by hand from now on" in text_of(await operator.follow(response))
        assert (await fulfilment_of(db, service_id)).fulfilment == FULFIL_MANUAL
        by_hand_again, _ = await place(db, customer_id, service_id)
        assert await provider_of_order(db, by_hand_again) is None
        assert await provider_of_order(db, later) == provider_id
        await operator.close()


@pytest.mark.parametrize(
    ("service", "upstream_id", "says"),
    [
        ({"max_": 100_000}, "77", "takes 5 to 50000, narrower than ours (10 to 100000)"),
        ({"type": "Package", "min_": 1, "max_": 1}, "77", "of the type Default, ours of the type"),
        ({}, "78", "does not list a usable service 78"),
    ],
)
async def test_a_provider_service_that_cannot_take_the_orders_is_refused_and_nothing_changes(
    operator, db, upstream, service, upstream_id, says
):
    provider_id = await provider_at(db, upstream.api_url)
    service_id = await service_by_hand(db, **service)
    said = await map_to(operator, service_id, provider_id, upstream_id)
    assert says in said
    assert (await fulfilment_of(db, service_id)).fulfilment == FULFIL_MANUAL


async def test_a_provider_that_does_not_answer_is_told_and_nothing_changes(operator, db):
    provider_id = await provider_at(db, f"http://127.0.0.1:{harness.free_port()}/api/v2")
    service_id = await service_by_hand(db)
    said = await map_to(operator, service_id, provider_id, "77")
    assert "cannot reach provider" in said.lower()
    assert (await fulfilment_of(db, service_id)).fulfilment == FULFIL_MANUAL


async def test_an_upstream_service_resold_already_is_refused_naming_ours(operator, db, upstream):
    provider_id = await provider_at(db, upstream.api_url)
    first, second = await service_by_hand(db), await service_by_hand(db)
    await map_to(operator, first, provider_id, "77")
    assert (await fulfilment_of(db, first)).fulfilment == FULFIL_PROVIDER

    said = await map_to(operator, second, provider_id, "77")

    assert f"our service {first} resells service 77" in said.lower()
    assert (await fulfilment_of(db, second)).fulfilment == FULFIL_MANUAL
