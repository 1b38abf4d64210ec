"""The operator's provider pages against a fake upstream panel in its own process."""

import re
from collections.abc import Iterator

import harness
import httpx
import pytest
from page_client import PageClient, text_of, unique
from sqlalchemy import select
from upstream_process import UPSTREAM_KEY, Upstream, running_upstream

from smmpanel.catalog.models import services
from smmpanel.providers.models import providers

PROVIDERS = "/admin/providers"
CALM = {"modes": {"services": "ok", "balance": "ok"}, "delay": 0, "balance": "1000.00"}


@pytest.fixture(scope="module")
def upstream_process() -> Iterator[Upstream]:
    with running_upstream() as upstream:
        yield upstream


@pytest.fixture
def upstream(upstream_process: Upstream) -> Upstream:
    upstream_process.control(**CALM, services=[])
    return upstream_process


async def add_provider(
    operator: PageClient, api_url: str, key: str = UPSTREAM_KEY, timeout: str = "5"
) -> httpx.Response:
    fields = {"name": unique("up"), "api_url": api_url, "api_key": key, "timeout_seconds": timeout}
    return await operator.submit(PROVIDERS, fields, page=PROVIDERS)


async def added_provider(operator: PageClient, api_url: str, **options: str) -> str:
    """A provider added through the page; its page's path."""
    response = await add_provider(operator, api_url, **options)
    assert response.status_code == 303, response.text[:500]
    return response.headers["location"]


def offered(service_id: int, rate: str, **fields: object) -> dict:
    entry = {
        "service": service_id,
        "name": f"Upstream followers {service_id}",
        "category": "Upstream - Followers",
        "rate": rate,
        "min": "10",
        "max": "10000",
        "type": "Default",
        "refill": True,
        "cancel": False,
    }
    entry.update(fields)
    return entry


async def test_adding_a_provider_keeps_its_key_out_of_every_page(operator, upstream, db):
    page = await added_provider(operator, upstream.api_url)
    provider_id = int(page.rsplit("/", 1)[1])
    async with db.read() as conn:
        stored = await conn.scalar(select(providers.c.api_key).where(providers.c.id == provider_id))
    assert stored == UPSTREAM_KEY
    upstream.control(services=[offered(1, "1")])
    shown = [
        await operator.page(page),
        await operator.page(PROVIDERS),
        (await operator.submit(f"{page}/test", {}, page=page)).text,
        (await operator.submit(f"{page}/import-preview", rule(), page=page)).text,
    ]
    assert "A key is set" in shown[0] and upstream.api_url in shown[1]
    assert all(UPSTREAM_KEY not in html for html in shown)


async def test_the_test_button_shows_the_balance_at_the_provider(operator, upstream):
    upstream.control(balance="123.45")
    page = await added_provider(operator, upstream.api_url)
    response = await operator.submit(f"{page}/test", {}, page=page)
    assert response.status_code == 200
    assert "our balance there is USD 123.45." in text_of(response.text)
    await operator.get("/language/zh_TW", next=page)
    response = await operator.submit(f"{page}/test", {}, page=page)
    assert "我們在對方的餘額為 USD 123.45。" in text_of(response.text)


@pytest.mark.parametrize(
    ("trouble", "says"),
    [
        ("wrong key", "refused our API key"),
        ("closed port", "Cannot reach the provider"),
        ("garbage", "No usable answer"),
        ("slow", "No usable answer"),
        ("error", "answered with an error"),
    ],
)
async def test_a_failing_provider_shows_a_clear_error_not_a_crash(
    operator, upstream, trouble, says
):
    api_url, key, timeout = upstream.api_url, UPSTREAM_KEY, "5"
    if trouble == "wrong key":
        key = "not-the-key"
    elif trouble == "closed port":
        api_url = f"http://127.0.0.1:{harness.free_port()}/api/v2"
    elif trouble == "slow":
        timeout = "1"
    if trouble in ("garbage", "slow", "error"):
        upstream.control(modes={"balance": trouble})
    page = await added_provider(operator, api_url, key=key, timeout=timeout)
    response = await operator.submit(f"{page}/test", {}, page=page)
    assert response.status_code == 502
    assert says in text_of(response.text)
    assert "Traceback" not in response.text


def rule(percent: str = "0", fixed: str = "0", decimals: str = "6", floor: str = "0") -> dict:
    return {"percent": percent, "fixed": fixed, "decimals": decimals, "floor": floor}


async def test_import_previews_marked_up_rates_and_imports_the_checked_services(
    operator, upstream, db
):
    upstream.control(services=[offered(501, "1.00"), offered(502, "2.5"), offered(503, "0.333")])
    page = await added_provider(operator, upstream.api_url)
    provider_id = int(page.rsplit("/", 1)[1])
    marked_up = rule(percent="30", fixed="0.05", decimals="2", floor="0.5")
    preview = await operator.submit(f"{page}/import-preview", marked_up, page=page)
    assert preview.status_code == 200, preview.text[:500]
    rows = {
        upstream_id: text_of(row)
        for upstream_id, row in re.findall(
            r'<tr id="upstream-(\d+)">(.*?)</tr>', preview.text, re.S
        )
    }
    assert "1.00 USD 1.35" in rows["501"]  # 1.00 × 1.3 + 0.05
    assert "2.5 USD 3.30" in rows["502"]  # 3.25 + 0.05
    assert "0.333 USD 0.50" in rows["503"]  # 0.4829 rounds up to 0.49, below the floor
    async with db.read() as conn:
        assert (
            await conn.scalar(select(services.c.id).where(services.c.provider_id == provider_id))
            is None
        )

    fields = [*marked_up.items(), ("service", "501"), ("service", "503")]
    imported = await operator.submit(f"{page}/import", fields, page=page)
    assert imported.headers["location"] == f"/admin/catalog?provider={provider_id}"
    catalogue = await operator.follow(imported)
    assert "2 new, 0 updated, 0 skipped" in text_of(catalogue)
    async with db.read() as conn:
        rows_ = await conn.execute(
            select(services.c.provider_service_id, services.c.rate)
            .where(services.c.provider_id == provider_id)
            .order_by(services.c.provider_service_id)
        )
        assert rows_.all() == [("501", 1_350_000), ("503", 500_000)]
    assert "Upstream followers 501" in catalogue and "#501" in catalogue

    again = await operator.submit(f"{page}/import-preview", marked_up, page=page)
    assert "Already our service" in again.text


async def test_bad_provider_and_rule_inputs_are_refused_and_change_nothing(operator, upstream, db):
    async with db.read() as conn:
        before = len((await conn.execute(select(providers.c.id))).all())
    for api_url, timeout, says in (
        ("ftp://example.com/api/v2", "5", "not an http(s) URL"),
        ("http://[::1", "5", "not a web address"),
        (upstream.api_url, "0", "whole number from 1 to 300"),
        (upstream.api_url, "soon", "whole number"),
    ):
        response = await add_provider(operator, api_url, timeout=timeout)
        assert response.status_code == 400 and says in text_of(response.text), says
        assert UPSTREAM_KEY not in response.text
    for key in ("  ", "k" * 201):
        assert (await add_provider(operator, upstream.api_url, key=key)).status_code == 400
    async with db.read() as conn:
        assert len((await conn.execute(select(providers.c.id))).all()) == before

    page = await added_provider(operator, upstream.api_url)
    for bad in (rule(percent="-5"), rule(decimals="7"), rule(floor="cheap")):
        response = await operator.submit(f"{page}/import-preview", bad, page=page)
        assert response.status_code == 400, bad
    nothing = await operator.submit(f"{page}/import", rule(), page=page)
    assert nothing.status_code == 400 and "Check the services to import" in text_of(nothing.text)
    assert (await operator.get(f"{PROVIDERS}/99999999")).status_code == 404


async def test_editing_keeps_the_key_when_left_blank_and_can_disable(operator, upstream, db):
    page = await added_provider(operator, upstream.api_url)
    provider_id = int(page.rsplit("/", 1)[1])
    fields = {"api_url": upstream.api_url, "api_key": "", "timeout_seconds": "7", "sync_hours": 24}
    saved = await operator.submit(page, fields, page=page)
    assert saved.status_code == 303
    async with db.read() as conn:
        row = (await conn.execute(select(providers).where(providers.c.id == provider_id))).first()
    assert (row.api_key, row.timeout_seconds, row.enabled) == (UPSTREAM_KEY, 7, False)
    assert row.sync_hours == 24
    for hours in ("0", "721", "six"):
        refused = await operator.submit(page, {**fields, "sync_hours": hours}, page=page)
        assert refused.status_code == 400, hours
    async with db.read() as conn:
        kept = await conn.scalar(
            select(providers.c.sync_hours).where(providers.c.id == provider_id)
        )
    assert kept == 24
    tested = await operator.submit(f"{page}/test", {}, page=page)
    assert "our balance there is" in text_of(tested.text)

    await operator.submit(page, {**fields, "api_key": "new-key", "enabled": "1"}, page=page)
    async with db.read() as conn:
        row = (await conn.execute(select(providers).where(providers.c.id == provider_id))).first()
    assert (row.api_key, row.enabled) == ("new-key", True)
    assert "new-key" not in await operator.page(page)


async def test_the_import_preview_is_paged_and_keeps_the_checks_of_other_pages(
    operator, upstream, db
):
    upstream.control(services=[offered(1000 + i, "1.00") for i in range(1, 251)])
    page = await added_provider(operator, upstream.api_url)
    provider_id = int(page.rsplit("/", 1)[1])
    first = await operator.submit(f"{page}/import-preview", rule(), page=page)
    assert first.status_code == 200, first.text[:500]
    assert len(re.findall(r'<tr id="upstream-', first.text)) == 100
    assert "Services 1 to 100 of 250" in text_of(first.text)
    assert 'name="page" value="2"' in first.text and 'name="page" value="0"' not in first.text

    fields = [*rule().items(), ("service", "1005"), ("page", "3")]
    last = await operator.submit(f"{page}/import-preview", fields, page=page)
    shown = re.findall(r'<tr id="upstream-(\d+)">', last.text)
    assert (len(shown), shown[0]) == (50, "1201")
    assert "Services 201 to 250 of 250" in text_of(last.text)
    assert '<input type="hidden" name="service" value="1005">' in last.text
    assert 'name="page" value="2"' in last.text and 'name="page" value="4"' not in last.text

    beyond = await operator.submit(f"{page}/import-preview", {**rule(), "page": "99"}, page=page)
    assert re.findall(r'<tr id="upstream-(\d+)">', beyond.text)[0] == "1201"

    chosen = [*rule().items(), ("service", "1005"), ("service", "1210")]
    imported = await operator.submit(f"{page}/import", chosen, page=page)
    assert imported.status_code == 303
    async with db.read() as conn:
        ids = await conn.scalars(
            select(services.c.provider_service_id).where(services.c.provider_id == provider_id)
        )
        assert sorted(ids) == ["1005", "1210"]
