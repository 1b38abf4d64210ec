"""Times on the pages: in the viewer's zone (the customer's or, on /admin pages, the operator's;
else the panel's default), with the zone, on the 24-hour clock in both languages.

The panel and its database serve every test of the session: a test that changes the panel's
default zone puts it back, even when it fails.
"""

import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from babel import Locale
from babel.dates import parse_pattern
from page_client import text_of, unique
from sqlalchemy import update

from smmpanel.accounts.service import set_preferences
from smmpanel.orders.models import orders
from smmpanel.orders.placement import place_order
from smmpanel.pagekit import i18n
from smmpanel.pagekit.templating import TIME_PATTERNS, _time_writer, _when
from smmpanel.panel import content
from smmpanel.panel.service import EDITABLE, get_settings, set_default_time_zone

SETTINGS = "/admin/settings"
MY_PAGE = "/admin/me"
# 22:43 UTC: early morning the next day in Taipei, which the old format called "清晨".
MOMENT = datetime(2026, 12, 2, 22, 43, tzinfo=UTC)
DAY_PERIODS = ("清晨", "上午", "中午", "下午", "晚上", "凌晨", "AM", "PM")


@asynccontextmanager
async def default_zone(db, zone: str):
    async with db.read() as conn:
        saved = (await get_settings(conn)).time_zone
    async with db.write() as conn:
        await set_default_time_zone(conn, zone)
    try:
        yield
    finally:
        async with db.write() as conn:
            await set_default_time_zone(conn, saved)


async def order_at(db, shop, customer_id: int, moment: datetime = MOMENT) -> int:
    """An order of the customer's, placed at `moment`."""
    service_id = await shop.service("Default")
    fields = {"service": str(service_id), "link": "https://example.com/p", "quantity": "100"}
    async with db.write() as conn:
        order_id = await place_order(conn, customer_id, fields)
        await conn.execute(update(orders).where(orders.c.id == order_id).values(created_at=moment))
    return order_id


async def customer_zone(db, customer_id: int, zone: str | None) -> None:
    async with db.write() as conn:
        await set_preferences(conn, customer_id, time_zone=zone, mail_order_updates=True)


async def in_language(client, language: str) -> None:
    assert (await client.get(f"/language/{language}", next="/")).status_code == 303


def without_day_periods(text: str) -> bool:
    return not any(word in text for word in DAY_PERIODS)


async def test_a_customer_in_taipei_sees_order_times_eight_hours_after_utc(customer, shop, db):
    client, customer_id = customer
    await customer_zone(db, customer_id, "Asia/Taipei")
    order_id = await order_at(db, shop, customer_id)
    async with default_zone(db, "America/New_York"):  # the customer's own zone wins
        await in_language(client, "en")
        assert "Dec 3, 2026, 06:43 UTC+8" in text_of(await client.page(f"/orders/{order_id}"))
        assert "Dec 3, 2026, 06:43 UTC+8" in text_of(await client.page("/orders"))
        await in_language(client, "zh_TW")
        detail = text_of(await client.page(f"/orders/{order_id}"))
        listed = text_of(await client.page("/orders"))
    assert "2026/12/03 06:43 UTC+8" in detail and "2026/12/03 06:43 UTC+8" in listed
    assert without_day_periods(detail) and without_day_periods(listed)


async def test_the_panels_default_applies_to_a_customer_without_a_zone(customer, shop, db):
    client, customer_id = customer
    order_id = await order_at(db, shop, customer_id)
    await in_language(client, "en")
    async with default_zone(db, "Asia/Tokyo"):
        assert "Dec 3, 2026, 07:43 UTC+9" in text_of(await client.page(f"/orders/{order_id}"))
    async with default_zone(db, "UTC"):
        assert "Dec 2, 2026, 22:43 UTC" in text_of(await client.page(f"/orders/{order_id}"))


async def test_signed_out_pages_show_times_in_the_panels_default(browser, db):
    slug = f"news-{uuid.uuid4().hex[:10]}"
    text = content.PageText(slug, content.KIND_NEWS, "Opening hours", "", "We are open.", "")
    async with db.write() as conn:
        page_id = await content.add_page(conn, text)
        await content.set_published(conn, page_id, True)
        stored = update(content.content_pages).where(content.content_pages.c.id == page_id)
        await conn.execute(stored.values(created_at=MOMENT))
    try:
        async with default_zone(db, "Asia/Kolkata"):
            await in_language(browser, "zh_TW")
            shown = text_of(await browser.page(f"/pages/{slug}"))
            assert "2026/12/03 04:13 UTC+5:30" in shown and without_day_periods(shown)
    finally:
        async with db.write() as conn:
            await content.remove_page(conn, page_id)


async def test_an_operators_own_zone_applies_on_admin_pages(operator, customer, shop, db):
    _client, customer_id = customer
    await customer_zone(db, customer_id, "Asia/Taipei")  # not the operator's: never used here
    order_id = await order_at(db, shop, customer_id)
    page = f"/admin/orders/{order_id}"
    await in_language(operator, "en")
    async with default_zone(db, "Asia/Tokyo"):
        assert "Dec 3, 2026, 07:43 UTC+9" in text_of(await operator.page(page))
        chosen = await operator.submit(MY_PAGE, {"time_zone": "America/New_York"}, page=MY_PAGE)
        assert "Your time zone is saved." in await operator.follow(chosen)
        assert "Dec 2, 2026, 17:43 UTC-5" in text_of(await operator.page(page))
        assert "selected>America/New_York</option>" in await operator.page(MY_PAGE)
        back = await operator.submit(MY_PAGE, {"time_zone": ""}, page=MY_PAGE)
        assert back.status_code == 303
        assert "Dec 3, 2026, 07:43 UTC+9" in text_of(await operator.page(page))


async def test_the_operator_sets_the_panels_default_zone_on_the_settings_page(operator, db):
    async with db.read() as conn:
        saved = await get_settings(conn)
    typed = {name: getattr(saved, name) for name in EDITABLE}
    async with default_zone(db, saved.time_zone):
        response = await operator.submit(
            SETTINGS, {**typed, "time_zone": "Asia/Taipei"}, page=SETTINGS
        )
        assert "Settings saved." in await operator.follow(response)
        async with db.read() as conn:
            assert (await get_settings(conn)).time_zone == "Asia/Taipei"
        assert "selected>Asia/Taipei</option>" in await operator.page(SETTINGS)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd", "asia/taipei"])
async def test_an_unknown_zone_is_refused_and_changes_nothing(operator, db, zone):
    async with db.read() as conn:
        saved = await get_settings(conn)
    marker = unique("kept")
    typed = {**{name: getattr(saved, name) for name in EDITABLE}, "payment_instructions": marker}
    response = await operator.submit(SETTINGS, {**typed, "time_zone": zone}, page=SETTINGS)
    assert response.status_code == 400
    assert "is not a time zone" in response.text and marker in response.text
    async with db.read() as conn:
        assert await get_settings(conn) == saved
    own = await operator.submit(MY_PAGE, {"time_zone": zone or "Nowhere"}, page=MY_PAGE)
    assert own.status_code == 400 and "is not a time zone" in own.text


async def test_the_refusal_reads_in_chinese(operator):
    await in_language(operator, "zh_TW")
    response = await operator.submit(MY_PAGE, {"time_zone": "Mars/Olympus"}, page=MY_PAGE)
    assert response.status_code == 400 and "不是時區" in response.text


# `_when` itself: no panel needed.


@pytest.fixture
def viewer():
    """Sets the language and zone a page would, and puts them back."""
    tokens: list = []

    def set_viewer(language: str, zone: str) -> None:
        tokens.append((i18n.current_language, i18n.current_language.set(language)))
        tokens.append((i18n.current_time_zone, i18n.current_time_zone.set(zone)))

    yield set_viewer
    for variable, token in reversed(tokens):
        variable.reset(token)


@pytest.mark.parametrize(
    ("language", "zone", "shown"),
    [
        ("en", "Asia/Taipei", "Dec 3, 2026, 06:43 UTC+8"),
        ("zh_TW", "Asia/Taipei", "2026/12/03 06:43 UTC+8"),
        ("en", "UTC", "Dec 2, 2026, 22:43 UTC"),
        ("zh_TW", "America/St_Johns", "2026/12/02 19:13 UTC-3:30"),
        ("en", "Europe/London", "Dec 2, 2026, 22:43 UTC"),
        # A zone this system no longer knows shows UTC rather than failing the page.
        ("zh_TW", "Gone/Zone", "2026/12/02 22:43 UTC"),
    ],
)
def test_when_shows_the_moment_in_the_viewers_zone_and_language(viewer, language, zone, shown):
    viewer(language, zone)
    assert _when(MOMENT) == shown


def test_when_follows_summer_time(viewer):
    viewer("en", "America/New_York")
    assert _when(datetime(2026, 7, 1, 12, 0, tzinfo=UTC)) == "Jul 1, 2026, 08:00 UTC-4"


def test_when_forms_and_naive_moments(viewer):
    viewer("zh_TW", "Asia/Taipei")
    assert _when(MOMENT, "medium") == "2026/12/03 06:43:00 UTC+8"
    assert _when(MOMENT, "date") == "2026/12/03"
    assert _when(MOMENT.replace(tzinfo=None)) == "2026/12/03 06:43 UTC+8"  # stored as UTC
    assert _when(None) == ""


def test_every_language_has_every_form_on_the_24_hour_clock():
    assert set(TIME_PATTERNS) == set(i18n.LANGUAGES)
    forms = {frozenset(patterns) for patterns in TIME_PATTERNS.values()}
    assert len(forms) == 1
    for patterns in TIME_PATTERNS.values():
        assert all("h" not in pattern and "a" not in pattern for pattern in patterns.values())


def test_when_writes_every_form_as_babel_does():
    moments = [
        datetime(2026, month, month * 2, month + 9, month * 4, month * 3) for month in range(1, 13)
    ]
    for language, patterns in TIME_PATTERNS.items():
        for form, pattern in patterns.items():
            write = _time_writer(language, form)
            for moment in moments:
                assert write(moment) == parse_pattern(pattern).apply(moment, Locale.parse(language))
