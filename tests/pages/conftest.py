"""Page tests: a real panel process per database, driven over HTTP like a browser without JS."""

from collections.abc import AsyncIterator

import pytest_asyncio
from harness import PanelProcess, panel_of_its_own
from page_client import (
    PageClient,
    customer_with_password,
    operator_account,
)

from smmpanel.config import Settings
from smmpanel.db import Database


@pytest_asyncio.fixture
async def browser(panel) -> AsyncIterator[PageClient]:
    """A fresh visitor: no cookies."""
    client = PageClient(panel.url)
    yield client
    await client.close()


@pytest_asyncio.fixture
async def customer(panel, db) -> AsyncIterator[tuple[PageClient, int]]:
    """A signed-in customer with 100.00 of funds: (client, customer id)."""
    customer_id, name = await customer_with_password(db, balance="100")
    client = PageClient(panel.url)
    response = await client.sign_in(name)
    assert response.status_code == 303, response.text[:500]
    yield client, customer_id
    await client.close()


@pytest_asyncio.fixture
async def operator(panel, db) -> AsyncIterator[PageClient]:
    """A signed-in operator."""
    name = await operator_account(db)
    client = PageClient(panel.url)
    response = await client.operator_sign_in(name)
    assert response.status_code == 303, response.text[:500]
    yield client
    await client.close()


@pytest_asyncio.fixture
async def throttled_panel(backend, tmp_path) -> AsyncIterator[tuple[PanelProcess, Database]]:
    """A panel with a database of its own (the failures it counts would throttle other tests),
    served by two web processes: failures must count across them."""
    production = Settings.model_fields["sign_ups_per_address_per_hour"].default
    env = {"SMMPANEL_SIGN_UPS_PER_ADDRESS_PER_HOUR": str(production)}
    async with panel_of_its_own(backend, tmp_path, workers=2, env=env) as panel:
        yield panel
