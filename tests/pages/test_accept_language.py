"""A first visit speaks the language the browser asks for, when the panel speaks it; a language
the visitor chose (the language switch, its cookie) wins over the browser's.

The panel and its database serve every test of the session: a test that changes the default
language puts it back, even when it fails.
"""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest_asyncio
from page_client import PageClient, text_of

from smmpanel.db import Database
from smmpanel.panel.service import change_settings, get_settings

ENGLISH = '<html lang="en">'
CHINESE = '<html lang="zh-TW">'


@pytest_asyncio.fixture
async def visitor(panel) -> AsyncIterator[PageClient]:
    """A fresh visitor (no cookies) whose browser sends the Accept-Language it is given."""
    client = PageClient(panel.url)
    yield client
    await client.close()


@asynccontextmanager
async def default_language(db: Database, language: str) -> AsyncIterator[None]:
    async with db.read() as conn:
        saved = (await get_settings(conn)).default_language
    async with db.write() as conn:
        await change_settings(conn, default_language=language)
    try:
        yield
    finally:
        async with db.write() as conn:
            await change_settings(conn, default_language=saved)


async def sign_in_page(client: PageClient, accept_language: str) -> httpx.Response:
    client.http.headers["Accept-Language"] = accept_language
    response = await client.get("/signin")
    assert response.status_code == 200, response.text[:500]
    return response


def varies_by_language(response: httpx.Response) -> bool:
    named = {part.strip().lower() for part in response.headers.get("vary", "").split(",")}
    return "accept-language" in named


async def test_a_traditional_chinese_browser_gets_chinese_pages(visitor, db):
    async with default_language(db, "en"):
        response = await sign_in_page(visitor, "zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7")
    assert CHINESE in response.text and "登入" in response.text
    assert varies_by_language(response)
    assert response.headers["cache-control"] == "no-store"


async def test_an_english_browser_gets_english_over_a_chinese_default(visitor, db):
    async with default_language(db, "zh_TW"):
        response = await sign_in_page(visitor, "en-GB;q=0.9, zh-TW;q=0.3")
    assert ENGLISH in response.text and "Sign in" in response.text
    assert varies_by_language(response)


async def test_a_language_the_panel_does_not_speak_gets_the_default(visitor, db):
    async with default_language(db, "zh_TW"):
        for header in ("zh-CN, fr;q=0.8", "zh-Hans", "en;q=0", "zh-TW;q=7", "en-;;q=,="):
            response = await sign_in_page(visitor, header)
            assert CHINESE in response.text, header
            assert varies_by_language(response), header
    async with default_language(db, "en"):
        response = await sign_in_page(visitor, "zh-CN, ja;q=0.5")
        assert ENGLISH in response.text


async def test_simplified_chinese_falls_to_the_next_spoken_choice(visitor, db):
    async with default_language(db, "zh_TW"):
        response = await sign_in_page(visitor, "zh-CN, zh-SG;q=0.9, en;q=0.5")
    assert ENGLISH in response.text


async def test_error_pages_follow_the_browser_too(visitor, db):
    async with default_language(db, "en"):
        visitor.http.headers["Accept-Language"] = "zh-HK"
        response = await visitor.get("/no-such-page")
    assert response.status_code == 404
    assert CHINESE in response.text
    assert varies_by_language(response)


async def test_the_visitors_choice_wins_over_the_browser(visitor, db):
    async with default_language(db, "en"):
        await sign_in_page(visitor, "zh-TW")
        switched = await visitor.get("/language/en", next="/signin")
        assert switched.status_code == 303 and switched.cookies.get("smm_lang") == "en"
        response = await sign_in_page(visitor, "zh-TW")
        assert ENGLISH in response.text and "Sign in" in response.text
        assert not varies_by_language(response)
        assert (await visitor.get("/language/zh_TW", next="/signin")).status_code == 303
        response = await sign_in_page(visitor, "en-US")
        assert CHINESE in response.text


async def test_a_chinese_browser_reads_the_api_page_in_its_own_words(customer):
    client, _ = customer
    client.http.headers["Accept-Language"] = "zh-TW"
    text = text_of(await client.page("/api"))
    for words in ("API 文件", "注意：", "參數", "回應範例：", "訂單狀態", "多筆訂單狀態"):
        assert words in text, words
    assert "申請補量" in text and "申請取消" in text
    # Between Chinese words a colon is full-width, a section's service type included.
    assert not re.search(r"[\u4e00-\u9fff]\s*:", text)
