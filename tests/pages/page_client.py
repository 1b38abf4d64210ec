"""A browser without JavaScript, for page tests: keeps cookies, reads CSRF tokens, posts forms."""

import asyncio
import re
import uuid
from html import unescape

import httpx

from smmpanel.accounts.operators import create_operator
from smmpanel.accounts.passwords import hash_password
from smmpanel.accounts.service import create_customer
from smmpanel.db import Database
from smmpanel.money import parse, to_micros

CSRF_INPUT = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
PASSWORD = "correct horse battery"


def csrf_token(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def text_of(html: str) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded, spaces squeezed."""
    without_tags = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(without_tags)).strip()


class PageClient:
    def __init__(self, base_url: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url, timeout=30.0, follow_redirects=False, transport=transport
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def get(self, path: str, **params: object) -> httpx.Response:
        return await self.http.get(path, params=params or None)

    async def page(self, path: str, **params: object) -> str:
        """A page that must answer 200; its HTML."""
        response = await self.get(path, **params)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        return response.text

    async def submit(
        self, action: str, fields: dict[str, object] | list[tuple[str, object]], *, page: str
    ) -> httpx.Response:
        """Post a form as a browser would after loading `page`, CSRF token included."""
        token = csrf_token(await self.page(page))
        items = list(fields.items()) if isinstance(fields, dict) else list(fields)
        data: dict[str, list[str]] = {"csrf_token": [token]}
        for name, value in items:
            data.setdefault(name, []).append(str(value))
        return await self.http.post(action, data=data)

    async def submit_at_once(
        self, action: str, forms: list[dict[str, str]], *, page: str
    ) -> list[httpx.Response]:
        """Post these forms all at the same time, as many tabs of one browser would."""
        token = csrf_token(await self.page(page))
        posts = [self.http.post(action, data={**form, "csrf_token": token}) for form in forms]
        return list(await asyncio.gather(*posts))

    async def follow(self, response: httpx.Response) -> str:
        """The page a redirect after a form leads to."""
        assert response.status_code == 303, (response.status_code, response.text[:500])
        return await self.page(response.headers["location"])

    async def sign_up(self, name: str, password: str = PASSWORD) -> httpx.Response:
        fields = {"name": name, "password": password, "password_again": password}
        return await self.submit("/signup", fields, page="/signup")

    async def sign_in(self, name: str, password: str = PASSWORD) -> httpx.Response:
        return await self.submit("/signin", {"name": name, "password": password}, page="/signin")

    async def operator_sign_in(self, name: str, password: str = PASSWORD) -> httpx.Response:
        fields = {"name": name, "password": password}
        return await self.submit("/admin/signin", fields, page="/admin/signin")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def customer_with_password(
    db: Database, balance: str = "0", name: str | None = None, password: str = PASSWORD
) -> tuple[int, str]:
    """A customer who can sign in to the pages; (id, name)."""
    name = name or unique("customer")
    password_hash = await hash_password(password)
    async with db.write() as conn:
        customer_id = await create_customer(
            conn, name, to_micros(parse(balance)), password_hash=password_hash
        )
    return customer_id, name


async def operator_account(db: Database, password: str = PASSWORD) -> str:
    """An operator who can sign in to the admin pages; their name."""
    name = unique("operator")
    password_hash = await hash_password(password)
    async with db.write() as conn:
        await create_operator(conn, name, password_hash)
    return name
