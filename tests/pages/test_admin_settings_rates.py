"""The settings page's exchange rates (one field per currency that has one, and a new one), and
its currency, which cannot change once money exists.

The panel and its database serve every test of the session: the rates a test adds are removed
after it, whatever happens, and the settings put back.
"""

import re
from contextlib import asynccontextmanager

from page_client import customer_with_password, text_of, unique
from sqlalchemy import delete

from smmpanel.panel.models import exchange_rates
from smmpanel.panel.rates import rates
from smmpanel.panel.service import EDITABLE, change_settings, get_settings

PAGE = "/admin/settings"


@asynccontextmanager
async def rates_removed_after(db):  # type: ignore[no-untyped-def]
    """The settings as they are, and two currencies other than the panel's to set rates of."""
    async with db.read() as conn:
        saved = await get_settings(conn)
        before = await rates(conn)
    codes = [
        code for code in ("JPY", "CHF", "SEK") if code != saved.currency and code not in before
    ]
    try:
        yield saved, codes[:2]
    finally:
        async with db.write() as conn:
            await conn.execute(delete(exchange_rates).where(exchange_rates.c.currency.in_(codes)))
            await change_settings(conn, **{name: getattr(saved, name) for name in EDITABLE})


def form(saved, **changes: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {**{name: getattr(saved, name) for name in EDITABLE}, **changes}


async def test_a_new_rate_is_added_then_edited_in_its_own_field(operator, db):
    async with rates_removed_after(db) as (saved, (first, second)):
        added = form(saved, new_rate_currency=first.lower(), new_rate="0.207")
        html = await operator.follow(await operator.submit(PAGE, added, page=PAGE))
        assert "Settings saved." in html
        assert f'name="rate_{first}" value="0.207"' in html
        assert f"1 {first} in {saved.currency}" in text_of(html)

        edited = form(saved, **{f"rate_{first}": "0.21"}, new_rate_currency=second, new_rate="25")
        assert (await operator.submit(PAGE, edited, page=PAGE)).status_code == 303
        async with db.read() as conn:
            stored = await rates(conn)
        assert (stored[first], stored[second]) == (210_000, 25_000_000)


async def test_bad_rates_are_refused_with_what_was_typed_kept(operator, db):
    async with rates_removed_after(db) as (saved, (first, _second)):
        marker = unique("kept")
        cases = [
            ({"new_rate_currency": "ABC", "new_rate": "1"}, "ABC is not a currency code"),
            ({"new_rate_currency": first, "new_rate": "lots"}, "not an amount: 'lots'"),
            ({"new_rate_currency": first, "new_rate": "0"}, "must be above zero"),
            ({"new_rate": "31.5"}, "Give the currency code of the new exchange rate."),
            (
                {"new_rate_currency": saved.currency, "new_rate": "1"},
                "is the panel's own currency",
            ),
        ]
        for change, says in cases:
            typed = form(saved, payment_instructions=marker, **change)
            response = await operator.submit(PAGE, typed, page=PAGE)
            assert response.status_code == 400, change
            assert says in text_of(response.text) and marker in response.text, change
        async with db.read() as conn:
            assert first not in await rates(conn)
            assert await get_settings(conn) == saved


async def test_the_currency_cannot_change_once_money_exists(operator, db):
    await customer_with_password(db, balance="5")  # money exists, whatever ran before
    async with rates_removed_after(db) as (saved, (first, _second)):
        other = first  # a currency the panel is not in
        response = await operator.submit(PAGE, form(saved, currency=other), page=PAGE)
        assert response.status_code == 400
        shown = text_of(response.text)
        assert "The panel's currency cannot change once money exists" in shown
        assert f"in {saved.currency} already" in shown
        assert re.search(rf'name="currency" value="{other}"', response.text)  # as typed
        async with db.read() as conn:
            assert (await get_settings(conn)).currency == saved.currency


async def test_the_rates_speak_chinese(operator, db):
    async with rates_removed_after(db) as (saved, (first, _second)):
        await operator.get("/language/zh_TW", next=PAGE)
        added = form(saved, new_rate_currency=first, new_rate="0.207")
        html = await operator.follow(await operator.submit(PAGE, added, page=PAGE))
        assert "匯率" in html and f"1 {first} 等於多少 {saved.currency}" in text_of(html)
        typed = form(saved, new_rate_currency="ABC", new_rate="1")
        refused = await operator.submit(PAGE, typed, page=PAGE)
        assert "ABC 不是 ISO 4217 的幣別代碼" in text_of(refused.text)
        await operator.get("/language/en", next=PAGE)
