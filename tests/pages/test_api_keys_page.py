"""The customer's API keys page: a new key is made by a POST that redirects, shown once on the
page it leads to and to that session only; keys carry names; risky forms ask first."""

import re

import httpx
import pytest
from harness import migrated
from page_client import PageClient, customer_with_password, text_of
from sqlalchemy import func, select

from smmpanel.accounts.models import api_keys
from smmpanel.app import create_app
from smmpanel.config import Settings
from smmpanel.web.api_page import NEW_KEY_COOKIE

NEW_KEY = re.compile(r'<code id="new-key-value">(\w+)</code>')


async def key_count(db, customer_id: int) -> int:
    async with db.read() as conn:
        query = select(func.count()).where(api_keys.c.customer_id == customer_id)
        return await conn.scalar(query)


def new_key_cookie(response: httpx.Response) -> str:
    [header] = [
        value
        for value in response.headers.get_list("set-cookie")
        if value.startswith(NEW_KEY_COOKIE + "=")
    ]
    return header


async def test_a_new_key_is_made_by_a_redirect_and_shown_once(customer, db):
    client, customer_id = customer
    created = await client.submit("/api/keys", {"name": "Reseller <site>"}, page="/api")
    assert created.status_code == 303 and created.headers["location"] == "/api#new-key"
    cookie = new_key_cookie(created).lower()
    assert "httponly" in cookie and "max-age=60" in cookie and "path=/api" in cookie
    assert "secure" not in cookie  # plain http here
    html = await client.follow(created)
    key = NEW_KEY.search(html).group(1)
    assert "Reseller &lt;site&gt;" in html
    assert f"Reseller <site> {key[:6]}…" in text_of(html)
    for _ in range(2):
        reloaded = await client.page("/api")
        assert key not in reloaded and not NEW_KEY.search(reloaded)
    assert await key_count(db, customer_id) == 1


async def test_the_new_key_cookie_shows_nothing_to_another_session(customer, panel, db):
    client, _ = customer
    created = await client.submit("/api/keys", {}, page="/api")
    sealed = client.http.cookies[NEW_KEY_COOKIE]
    key = sealed.split(".")[0]
    other_id, other_name = await customer_with_password(db)
    other = PageClient(panel.url)
    try:
        assert (await other.sign_in(other_name)).status_code == 303
        other.http.cookies.set(NEW_KEY_COOKIE, sealed, path="/api")
        assert key not in await other.page("/api")
    finally:
        await other.close()
    # Nor a key swapped in under a seal made for another: the owner sees none either.
    client.http.cookies.set(NEW_KEY_COOKIE, "A" * 40 + sealed[40:], path="/api")
    assert not NEW_KEY.search(await client.follow(created))
    assert await key_count(db, other_id) == 0


async def test_a_key_name_too_long_is_refused_and_makes_no_key(customer, db):
    client, customer_id = customer
    refused = await client.submit("/api/keys", {"name": "n" * 101}, page="/api")
    assert refused.status_code == 400
    assert "Key name: at most 100 characters fit." in text_of(refused.text)
    assert 'value="' + "n" * 101 + '"' in refused.text
    assert await key_count(db, customer_id) == 0
    created = await client.submit("/api/keys", {"name": "  " + "n" * 100 + " "}, page="/api")
    assert "n" * 100 + " " in text_of(await client.follow(created))
    async with db.read() as conn:
        query = select(api_keys.c.name).where(api_keys.c.customer_id == customer_id)
        assert await conn.scalar(query) == "n" * 100


async def test_revoking_asks_first_with_a_script_from_static(customer, browser):
    client, _ = customer
    await client.submit("/api/keys", {}, page="/api")
    html = await client.page("/api")
    revoke_form = r'<form method="post" action="/api/keys/\d+/revoke" data-confirm="Revoke'
    assert re.search(revoke_form, html)
    assert '<script src="/static/confirm.js" defer></script>' in html
    script = await browser.get("/static/confirm.js")
    assert script.status_code == 200 and "window.confirm" in script.text
    copy = await browser.get("/static/copy-key.js")
    assert copy.status_code == 200 and "navigator.clipboard" in copy.text


@pytest.mark.fast
async def test_over_https_the_new_key_cookie_is_secure(tmp_path):
    app = create_app(Settings(database_url=await migrated("sqlite", tmp_path)), with_worker=False)
    _, name = await customer_with_password(app.state.db)
    client = PageClient("https://panel", transport=httpx.ASGITransport(app=app))
    try:
        assert (await client.sign_in(name)).status_code == 303
        created = await client.submit("/api/keys", {"name": "site"}, page="/api")
        assert "secure" in new_key_cookie(created).lower()
        assert NEW_KEY.search(await client.follow(created))
        assert not NEW_KEY.search(await client.page("/api"))
    finally:
        await client.close()
        await app.state.db.dispose()
