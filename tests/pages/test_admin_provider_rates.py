"""The import page and a provider in another currency than the panel's: refused, with how to set
the exchange rate, until it is set; then previewed and imported at the converted rate.

The session's panel has money already, so its currency stays: the provider's changes instead
(as if its balance reply had named another one). The rate set is removed after the test.
"""

import re

from page_client import text_of
from sqlalchemy import delete, select, update

# The fixtures imported from test_admin_providers are parameters of the test below.
# ruff: noqa: F811
from test_admin_providers import (  # noqa: F401 - fixtures
    added_provider,
    offered,
    rule,
    upstream,
    upstream_process,
)

from smmpanel.catalog.models import services
from smmpanel.panel.models import exchange_rates
from smmpanel.panel.rates import rates, set_rate
from smmpanel.panel.service import get_settings
from smmpanel.providers.models import providers


async def test_an_import_needs_the_rate_of_the_providers_currency(operator, upstream, db):
    async with db.read() as conn:
        panel, known = (await get_settings(conn)).currency, await rates(conn)
    code = next(code for code in ("CHF", "SEK", "NOK") if code not in (panel, *known))
    upstream.control(services=[offered(601, "1.00")])
    page = await added_provider(operator, upstream.api_url)
    provider_id = int(page.rsplit("/", 1)[1])
    async with db.write() as conn:
        await conn.execute(
            update(providers).where(providers.c.id == provider_id).values(balance_currency=code)
        )
    try:
        says = f"No exchange rate for {code}: set on the settings page what one {code} is worth in"
        preview = await operator.submit(f"{page}/import-preview", rule(), page=page)
        assert preview.status_code == 400 and says in text_of(preview.text)
        fields = [*rule().items(), ("service", "601")]
        refused = await operator.submit(f"{page}/import", fields, page=page)
        assert refused.status_code == 400 and says in text_of(refused.text)

        async with db.write() as conn:
            await set_rate(conn, code, 2_500_000)
        preview = await operator.submit(f"{page}/import-preview", rule(), page=page)
        row = re.search(r'<tr id="upstream-601">(.*?)</tr>', preview.text, re.S)
        assert row and "1.00 USD 2.50" in text_of(row.group(1))  # its rate, ours
        imported = await operator.submit(f"{page}/import", fields, page=page)
        assert imported.status_code == 303
    finally:
        async with db.write() as conn:
            await conn.execute(delete(exchange_rates).where(exchange_rates.c.currency == code))
    async with db.read() as conn:
        ours = await conn.execute(
            select(services.c.rate, services.c.upstream_rate).where(
                services.c.provider_id == provider_id
            )
        )
        assert ours.all() == [(2_500_000, 1_000_000)]
