"""The operator's settings page: name, currency, payment instructions, default language.

The panel and its database serve every test of the session: each test puts back what it
changed, through the domain service, even when it fails.
"""

from contextlib import asynccontextmanager

from page_client import unique

from smmpanel.panel.service import EDITABLE, change_settings, get_settings

PAGE = "/admin/settings"


@asynccontextmanager
async def settings_restored(db):
    async with db.read() as conn:
        saved = await get_settings(conn)
    try:
        yield saved
    finally:
        async with db.write() as conn:
            await change_settings(conn, **{name: getattr(saved, name) for name in EDITABLE})


def fields(settings, **changes: str) -> dict[str, str]:
    return {**{name: getattr(settings, name) for name in EDITABLE}, **changes}


async def test_a_new_panel_name_shows_in_every_page_header(operator, browser, db):
    async with settings_restored(db) as saved:
        name = unique("Panel <Ünïcode> & co")
        instructions = "Pay by bank transfer\nto 123-456."
        # The currency as it is: it cannot change once money exists (test_admin_settings_rates).
        typed_currency = saved.currency.lower()
        changed = fields(
            saved, name=name, currency=typed_currency, payment_instructions=instructions
        )
        html = await operator.follow(await operator.submit(PAGE, changed, page=PAGE))
        assert "Settings saved." in html
        escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert f'class="brand" href="/admin">{escaped}</a>' in html
        assert f'value="{saved.currency}"' in html and "123-456." in html
        assert escaped in await browser.page("/signin")
        async with db.read() as conn:
            stored = await get_settings(conn)
        assert (stored.currency, stored.payment_instructions) == (saved.currency, instructions)


async def test_default_language_is_what_visitors_without_a_cookie_see(operator, browser, db):
    async with settings_restored(db) as saved:
        assert "Sign in" in await browser.page("/signin")
        chinese = fields(saved, default_language="zh_TW")
        assert (await operator.submit(PAGE, chinese, page=PAGE)).status_code == 303
        html = await browser.page("/signin")
        assert '<html lang="zh-TW">' in html and "登入" in html
        english = fields(saved, default_language="en")
        assert (await operator.submit(PAGE, english, page=PAGE)).status_code == 303
        assert "Sign in" in await browser.page("/signin")


async def test_bad_values_are_refused_with_what_was_typed_kept(operator, db):
    async with settings_restored(db) as saved:
        cases = [
            ({"currency": "US1"}, "three-letter code"),
            ({"currency": "DOLLARS"}, "three-letter code"),
            ({"name": "   "}, "Name must not be empty"),
            ({"name": "x" * 101}, "at most 100 fit"),
            ({"default_language": "fr"}, "languages offered"),
        ]
        marker = unique("kept")
        for change, says in cases:
            typed = fields(saved, payment_instructions=marker, **change)
            response = await operator.submit(PAGE, typed, page=PAGE)
            assert response.status_code == 400, change
            assert says in response.text and marker in response.text
        async with db.read() as conn:
            assert await get_settings(conn) == saved


async def test_settings_are_for_operators_only(browser, customer):
    assert (await browser.get(PAGE)).status_code == 303
    client, _id = customer
    response = await client.get(PAGE)
    assert response.status_code == 303 and "/admin/signin" in response.headers["location"]
