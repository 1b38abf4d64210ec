"""The demo data `smmpanel serve --demo` writes into an empty panel: a catalogue, a customer
with funds and an API key, an operator, and a payment method that needs no gateway account."""

import pytest

from smmpanel.accounts.audit import audit
from smmpanel.accounts.service import find_customer
from smmpanel.catalog.service import enabled_services
from smmpanel.demo import DEMO_CATALOG, DEMO_CUSTOMER, create_demo_data, database_is_empty
from smmpanel.payments.methods import list_methods

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


async def test_the_demo_fills_an_empty_panel_with_books_that_balance(conn):
    assert await database_is_empty(conn), "domain tests roll back: each starts on no data"

    await create_demo_data(conn)

    customer_id = await find_customer(conn, DEMO_CUSTOMER)
    assert len(await enabled_services(conn, customer_id)) == sum(map(len, DEMO_CATALOG.values()))
    assert [(m.name, m.gateway, m.enabled) for m in await list_methods(conn)] == [
        ("Bank transfer", "manual", True)
    ]
    assert not await database_is_empty(conn)
    assert await audit(conn) == []
