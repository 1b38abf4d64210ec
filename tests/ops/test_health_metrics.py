"""GET /healthz and GET /metrics on a real panel process, on both databases."""

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import harness
import httpx
import pytest
import pytest_asyncio
from harness import PanelProcess
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from smmpanel.db import Database
from smmpanel.db.migrate import head_revision
from smmpanel.providers.service import add_provider

TOKEN = "metrics-token-for-tests"


@pytest_asyncio.fixture
async def own_panel(backend: str, tmp_path: Path) -> AsyncIterator[Callable[..., PanelProcess]]:
    """Starts panels on new migrated databases of the backend; stops and drops them after."""
    started: list[PanelProcess] = []

    async def start(**env: str) -> PanelProcess:
        url = await harness.migrated(backend, tmp_path)
        started.append(PanelProcess(url, env=env))
        return started[-1]

    yield start
    for panel in started:
        panel.stop()
        if backend == "postgresql":
            await harness.drop_postgres_database(panel.database_url)


def samples(body: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a Prometheus text page, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


async def scrape(client: httpx.AsyncClient, panel: PanelProcess) -> dict:
    response = await client.get(panel.url + "/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(response.text)


def value(figures: dict, name: str, **labels: str) -> float:
    return figures.get((name, frozenset(labels.items())), 0.0)


async def set_revision(url: str, revision: str) -> None:
    db = Database(url, pool_size=1)
    try:
        async with db.write() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    finally:
        await db.dispose()


async def test_healthz_says_ok(panel):
    response = httpx.get(panel.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "current"}


@pytest.mark.parametrize(
    ("revision", "state"), [("0001", "behind"), ("9999_from_newer_code", "ahead")]
)
async def test_healthz_fails_when_the_schema_is_not_this_codes(own_panel, revision, state):
    panel = await own_panel()
    await set_revision(panel.database_url, revision)
    response = httpx.get(panel.url + "/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "ok",
        "migrations": state,
        "database_revision": revision,
        "code_revision": head_revision(),
    }


async def test_healthz_fails_when_the_database_is_gone(backend, own_panel):
    if backend == "sqlite":
        pytest.skip("an open SQLite file stays readable after it is removed")
    panel = await own_panel()
    await harness.drop_postgres_database(panel.database_url)
    response = httpx.get(panel.url + "/healthz", timeout=10)
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "unreachable",
        "migrations": "unknown",
    }


async def test_metrics_count_requests_orders_and_queues(panel, api, db, shop):
    provider = f"up-{uuid.uuid4().hex[:8]}"
    async with db.write() as conn:
        provider_id = await add_provider(conn, provider, "http://127.0.0.1:9/api/v2", "key")
    service = await shop.service(
        fulfilment="provider", provider_id=provider_id, provider_service_id="1"
    )
    _customer, key = await shop.customer("100")
    async with httpx.AsyncClient() as client:
        before = await scrape(client, panel)
        order = await api.call(
            key=key, action="add", service=service, link="https://x.test/1", quantity=100
        )
        assert "order" in order, order
        refused = await api.call(key=key, action="add", service=service, link="x", quantity=1)
        assert "error" in refused
        await api.call(key=key, action="balance")
        await api.call(key=key, action="no_such_action")
        after = await scrape(client, panel)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("smmpanel_api_requests_total", action="add", outcome="ok") == 1
    assert moved("smmpanel_api_requests_total", action="add", outcome="refused") == 1
    assert moved("smmpanel_api_requests_total", action="balance", outcome="ok") == 1
    assert moved("smmpanel_api_requests_total", action="other", outcome="refused") == 1
    assert moved("smmpanel_api_request_seconds_count", action="add") == 2
    assert moved("smmpanel_orders_placed_total") == 1
    # The panel runs no worker: the order waits to be forwarded.
    assert moved("smmpanel_orders_queued") == 1
    assert ("smmpanel_provider_orders_sent_total", frozenset({("provider", provider)})) in after
    names = {name for name, _labels in after}
    assert {
        "smmpanel_polls_due",
        "smmpanel_orders_in_doubt",
        "smmpanel_orders_refunded",
        "smmpanel_provider_orders_sent_total",
        "smmpanel_provider_last_error_timestamp_seconds",
    } <= names


async def test_metrics_answer_loopback_only_without_a_token(panel):
    response = httpx.get(panel.url + "/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
    assert response.status_code == 403
    assert "SMMPANEL_METRICS_TOKEN" in response.text


async def test_metrics_ask_for_the_token_when_one_is_set(own_panel):
    panel = await own_panel(SMMPANEL_METRICS_TOKEN=TOKEN)
    url = panel.url + "/metrics"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": TOKEN}).status_code == 401
    forwarded = {"Authorization": f"Bearer {TOKEN}", "X-Forwarded-For": "203.0.113.7"}
    response = httpx.get(url, headers=forwarded)
    assert response.status_code == 200
    assert "smmpanel_api_requests_total" in response.text
