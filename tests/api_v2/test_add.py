"""add: the 14 types, their fields and charges, and the validation in the contract's order."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from api_helpers import expected_charge, new_link
from sqlalchemy import select

from smmpanel.accounts.service import adjust_funds
from smmpanel.catalog.service import set_customer_price
from smmpanel.orders.models import orders, subscriptions

RATE = "2.345678"
LINES = "first\r\nsecond, with a comma\n\n   \nthird"  # three non-empty lines
ACTIVE_LINK = "You have active order with this link. Please wait until order being completed."
NO_FUNDS = {"error": "Not enough funds on balance"}
BAD_SERVICE = {"error": "Incorrect service ID"}
FLAT = 0  # "1 (charge = rate, flat)": the rate is the package's price


def _type(required: dict, units: int, optional: dict | None = None) -> dict:
    return {"required": required, "units": units, "optional": optional or {}}


# From API.md's table: each type's fields in the seed's order, and the units it is charged for.
TYPES = {
    "Default": _type({"link": "L", "quantity": "150"}, 150),
    "Package": _type({"link": "L"}, FLAT),
    "Custom Comments": _type({"link": "L", "comments": LINES}, 3),
    "Mentions with Hashtags": _type(
        {"link": "L", "quantity": "150", "usernames": "ann\nbob", "hashtags": "#sun\r\n#sea"}, 150
    ),
    "Mentions Custom List": _type({"link": "L", "usernames": LINES}, 3),
    "Mentions Hashtag": _type({"link": "L", "quantity": "150", "hashtag": "#sunset"}, 150),
    "Mentions User Followers": _type({"link": "L", "quantity": "150", "username": "natgeo"}, 150),
    "Mentions Media Likers": _type(
        {"link": "L", "quantity": "150", "media": "https://instagram.com/p/B1"}, 150
    ),
    "Custom Comments Package": _type({"link": "L", "comments": LINES}, FLAT),
    "Comment Likes": _type({"link": "L", "quantity": "150", "username": "owner"}, 150),
    "Poll": _type({"link": "L", "quantity": "150", "answer_number": "2"}, 150),
    "Comment Replies": _type({"link": "L", "username": "owner", "comments": LINES}, 3),
    "Invites from Groups": _type({"link": "L", "quantity": "150", "groups": "g1\ng2"}, 150),
    "Subscriptions": _type(
        {"username": "natgeo", "min": "100", "max": "200", "delay": "30"}, 600, {"posts": "3"}
    ),
}
TEXT_FIELDS = ("comments", "usernames", "hashtags", "hashtag", "username", "media", "groups")


def with_link(fields: dict) -> dict:
    return {name: new_link() if value == "L" else value for name, value in fields.items()}


async def stored_order(db, order_id: int):
    async with db.read() as conn:
        return (await conn.execute(select(orders).where(orders.c.id == order_id))).one()


@pytest.mark.parametrize("type_name", list(TYPES))
async def test_each_type_is_placed_charged_and_stored(api, shop, db, place, type_name):
    spec = TYPES[type_name]
    _, key = await shop.customer("10")
    service = await shop.service(type=type_name, rate=RATE, min_quantity=1)
    fields = with_link({**spec["required"], **spec["optional"]})
    order_id = await place(key, service, **fields)

    charge = expected_charge(RATE, spec["units"]) if spec["units"] != FLAT else Decimal(RATE)
    assert await api.balance(key) == Decimal("10") - charge
    status = await api.call(key=key, action="status", order=order_id)
    assert Decimal(status["charge"]) == charge
    assert status["status"] == ("Active" if type_name == "Subscriptions" else "Pending")

    row = await stored_order(db, order_id)
    assert row.type == type_name
    if type_name == "Subscriptions":
        async with db.read() as conn:
            sub = (
                await conn.execute(
                    select(subscriptions).where(subscriptions.c.order_id == order_id)
                )
            ).one()
        assert (sub.username, sub.min_quantity, sub.max_quantity, sub.posts, sub.delay) == (
            "natgeo",
            100,
            200,
            3,
            30,
        )
    else:
        assert row.link == fields["link"]
        for name in TEXT_FIELDS:
            assert getattr(row, name) == fields.get(name), name


@pytest.mark.parametrize("type_name", list(TYPES))
async def test_required_fields_are_checked_in_the_seeds_order(api, shop, type_name):
    """Given the first fields only, the next one is the one reported; blank counts as missing."""
    required = with_link(TYPES[type_name]["required"])
    _, key = await shop.customer("10")
    service = await shop.service(type=type_name, rate=RATE, min_quantity=1)
    names = list(required)
    for position, name in enumerate(names):
        given = {n: required[n] for n in names[:position]}
        expected = {"error": f"{name} is required"}
        assert await api.call(key=key, action="add", service=service, **given) == expected
        rest = {n: v for n, v in required.items() if n != name}
        for blank in ("", "   "):
            reply = await api.call(key=key, action="add", service=service, **rest, **{name: blank})
            assert reply == expected, (name, repr(blank))
    assert await api.balance(key) == Decimal("10")


async def test_fields_a_type_does_not_use_are_ignored(api, shop, place, db):
    _, key = await shop.customer("10")
    package = await shop.service(type="Package", rate="3", min_quantity=100)
    order_id = await place(
        key, package, link=new_link(), quantity="abc", runs="1", interval="x", comments="hi"
    )
    assert (await stored_order(db, order_id)).comments is None
    subscription = await shop.service(type="Subscriptions", rate="1", min_quantity=1)
    await place(
        key,
        subscription,
        link="not a link",
        quantity="-1",
        username="u",
        min="1",
        max="2",
        delay="0",
    )
    assert await api.balance(key) == Decimal("7")


async def test_unknown_disabled_or_malformed_service_comes_first(api, shop, disable_service):
    _, key = await shop.customer("10")
    service = await shop.service()
    await disable_service(service)
    for given in (service, "999999999", "abc", "0", "-3", "", "  ", "1.0", "\u0661"):
        assert await api.call(key=key, action="add", service=given) == BAD_SERVICE, given
    assert await api.call(key=key, action="add") == BAD_SERVICE


@pytest.mark.parametrize(
    "link",
    [
        "https://instagram.com/p/abc",
        "http://x.com",
        "HTTPS://WWW.YouTube.com/watch?v=1&t=2#c",
        "instagram.com/natgeo",
        "www.tiktok.com/@user/video/123?lang=en",
        "t.me/channel",
        "https://x.com/" + "\u4e00" * 600,  # 1,814 bytes in UTF-8
    ],
)
async def test_http_urls_and_bare_host_paths_are_links(shop, place, link):
    _, key = await shop.customer("1")
    service = await shop.service()
    await place(key, service, link=link, quantity="10")


@pytest.mark.parametrize(
    "link",
    [
        "ftp://x.com/a",
        "javascript:alert(1)",
        "not a link",
        "https://",
        "http:///path",
        "instagram.com/has space",
        "natgeo",
        "<script>",
        "https://x.com/" + "a" * 2000,
        "https://x.com/" + "\u4e00" * 700,  # 700 characters, but 2,114 bytes in UTF-8
        "https://x.com/p\x7f",  # DEL
        "https://x.com/\u202etxt.exe",  # a bidirectional override
        "https://x.com:99999/p",
        "https://x.com:abc/p",
        "https://../p",
        "https://a..b/p",
    ],
)
async def test_other_text_is_an_incorrect_link(api, shop, link):
    _, key = await shop.customer("1")
    service = await shop.service()
    reply = await api.call(key=key, action="add", service=service, link=link, quantity="abc")
    assert reply == {"error": "Incorrect link"}


@pytest.mark.parametrize(
    "quantity", ["0", "-5", "1.5", "abc", "1e3", "0x10", "+20", "\u0661\u0662"]
)
async def test_quantity_that_is_not_a_positive_integer(api, shop, quantity):
    _, key = await shop.customer("1")
    service = await shop.service(min_quantity=1)
    reply = await api.call(
        key=key, action="add", service=service, link=new_link(), quantity=quantity
    )
    assert reply == {"error": "Incorrect quantity"}


async def test_quantity_bounds_are_inclusive_with_the_limit_in_the_message(api, shop, place):
    _, key = await shop.customer("100")
    service = await shop.service(min_quantity=50, max_quantity=5000)

    async def add(quantity: str) -> dict:
        return await api.call(
            key=key, action="add", service=service, link=new_link(), quantity=quantity
        )

    assert await add("49") == {"error": "Quantity less than minimal 50"}
    assert await add("5001") == {"error": "Quantity more than maximum 5000"}
    assert await add("99999999999999") == {"error": "Quantity more than maximum 5000"}
    await place(key, service, link=new_link(), quantity="50")
    await place(key, service, link=new_link(), quantity=" 5000 ")
    assert await api.balance(key) == Decimal("100") - Decimal("0.05") - Decimal("5")


@pytest.mark.parametrize(
    ("type_name", "field", "extra"),
    [
        ("Custom Comments", "comments", {}),
        ("Mentions Custom List", "usernames", {}),
        ("Comment Replies", "comments", {"username": "owner"}),
    ],
)
async def test_list_types_count_non_empty_lines(api, shop, place, type_name, field, extra):
    _, key = await shop.customer("10")
    service = await shop.service(type=type_name, rate="7", min_quantity=2, max_quantity=4)

    async def add(text: str) -> dict:
        return await api.call(
            key=key, action="add", service=service, link=new_link(), **extra, **{field: text}
        )

    assert await add("only one, two, three, four, five") == {
        "error": "Quantity less than minimal 2"
    }
    assert await add("a\n\n\r\n   \n") == {"error": "Quantity less than minimal 2"}
    assert await add("a\nb\r\nc\nd\ne") == {"error": "Quantity more than maximum 4"}
    await place(key, service, link=new_link(), **extra, **{field: "a, b\r\n\r\nc, d\n"})
    await place(key, service, link=new_link(), **extra, **{field: "\n1\n2\r\n3\n\n4\n"})
    assert await api.balance(key) == Decimal("10") - expected_charge("7", 2) - expected_charge(
        "7", 4
    )


async def test_only_newlines_separate_lines(api, shop, place):
    _, key = await shop.customer("10")
    service = await shop.service(type="Custom Comments", rate="1", min_quantity=1)
    await place(key, service, link=new_link(), comments="one\u2028still one\x0cand\x85one\ntwo")
    assert await api.balance(key) == Decimal("10") - Decimal("0.002")


async def test_poll_needs_an_answer_number(api, shop, place, db):
    _, key = await shop.customer("10")
    service = await shop.service(type="Poll", min_quantity=1)
    reply = await api.call(
        key=key, action="add", service=service, link=new_link(), quantity="10", answer_number="x"
    )
    assert reply == {"error": "Incorrect answer_number"}  # beyond API.md: see report
    order_id = await place(
        key, service, link=new_link(), quantity="10", answer_number=" " * 30 + "3\t"
    )
    assert (await stored_order(db, order_id)).answer_number == "3"


async def test_mentions_with_hashtags_charges_the_quantity_not_the_lines(api, shop, place):
    _, key = await shop.customer("10")
    service = await shop.service(type="Mentions with Hashtags", rate="4", min_quantity=100)
    await place(key, service, link=new_link(), quantity="250", usernames="a\nb\nc", hashtags="#x")
    assert await api.balance(key) == Decimal("9")


@pytest.mark.parametrize("type_name", ["Package", "Custom Comments Package"])
async def test_packages_charge_the_rate_flat(api, shop, place, type_name):
    _, key = await shop.customer("10")
    service = await shop.service(type=type_name, rate="3.5", min_quantity=100, max_quantity=200)
    fields = {"comments": "a\nb\nc\nd"} if type_name != "Package" else {"quantity": "5000"}
    order_id = await place(key, service, link=new_link(), **fields)
    assert await api.balance(key) == Decimal("6.5")
    status = await api.call(key=key, action="status", order=order_id)
    assert status["charge"] == "3.5000"


async def test_validation_order_for_a_default_service(api, shop, place):
    """Each request fails two or more checks; the earliest in API.md's list is reported."""
    _, key = await shop.customer("1.005")
    service = await shop.service(rate="1", min_quantity=10, max_quantity=1000)
    taken = new_link()
    await place(key, service, link=taken, quantity="1000")  # leaves 0.005: short for 10 (0.01)

    async def add(**fields: object) -> dict:
        return await api.call(key=key, action="add", **fields)

    assert await add(service="999999999", quantity="abc", runs="1") == BAD_SERVICE
    assert await add(service=service, quantity="abc", runs="1") == {"error": "link is required"}
    assert await add(service=service, link="ftp://x", quantity="abc", runs="1") == {
        "error": "Incorrect link"
    }
    assert await add(service=service, link=taken, quantity="abc", runs="1") == {
        "error": "Incorrect quantity"
    }
    assert await add(service=service, link=taken, quantity="5", runs="1") == {
        "error": "Quantity less than minimal 10"
    }
    assert await add(service=service, link=taken, quantity="10", runs="3", interval="5") == {
        "error": "Drip-feed is not supported for this service"
    }
    assert await add(service=service, link=taken, quantity="10") == {"error": ACTIVE_LINK}
    assert await add(service=service, link=new_link(), quantity="10") == NO_FUNDS
    assert await api.balance(key) == Decimal("0.005")


async def test_drip_feed_checks_runs_then_interval(api, shop, place):
    _, key = await shop.customer("100")
    service = await shop.service(rate="1", min_quantity=10, max_quantity=1000, dripfeed=True)

    async def add(**fields: object) -> dict:
        return await api.call(key=key, action="add", service=service, link=new_link(), **fields)

    # quantity limits apply per run
    assert await add(quantity="5", runs="3", interval="10") == {
        "error": "Quantity less than minimal 10"
    }
    assert await add(quantity="1001", runs="2", interval="10") == {
        "error": "Quantity more than maximum 1000"
    }
    for runs in ("1", "0", "-2", "abc", "2.5"):
        assert await add(quantity="10", runs=runs, interval="x") == {"error": "Incorrect runs"}
    assert await add(quantity="10", interval="10") == {"error": "Incorrect runs"}
    for interval in ("0", "-1", "abc", "1.5"):
        assert await add(quantity="10", runs="2", interval=interval) == {
            "error": "Incorrect interval"
        }
    assert await add(quantity="10", runs="2") == {"error": "Incorrect interval"}
    assert await api.balance(key) == Decimal("100")

    order_id = await place(key, service, link=new_link(), quantity="1000", runs="3", interval="1")
    assert await api.balance(key) == Decimal("97")  # 1000 per run × 3 runs at 1 per 1000
    status = await api.call(key=key, action="status", order=order_id)
    assert (status["charge"], status["runs"]) == ("3.0000", "3")


async def test_drip_feed_without_runs_is_a_plain_order(api, shop, place):
    _, key = await shop.customer("10")
    service = await shop.service(rate="2", dripfeed=True)
    order_id = await place(key, service, link=new_link(), quantity="500", runs="", interval="")
    status = await api.call(key=key, action="status", order=order_id)
    assert "runs" not in status and "orders" not in status
    assert status["charge"] == "1.0000"


def _date(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).strftime("%d/%m/%Y")


async def test_validation_order_for_subscriptions(api, shop, place):
    _, key = await shop.customer("0.5")
    service = await shop.service(type="Subscriptions", rate="1", min_quantity=10, max_quantity=500)

    async def add(**fields: object) -> dict:
        fields = {"username": "natgeo", "min": "10", "max": "100", "delay": "0", **fields}
        return await api.call(key=key, action="add", service=service, **fields)

    min_max = {"error": "Incorrect min/max"}
    for low, high in (("9", "100"), ("10", "501"), ("101", "100"), ("abc", "100"), ("0", "5")):
        assert await add(min=low, max=high, delay="7", expiry="x") == min_max, (low, high)
    for delay in ("7", "120", "-5", "abc", "1.5"):
        assert await add(delay=delay, expiry="x") == {"error": "Incorrect delay"}, delay
    for expiry in ("x", "31/12/2000", _date(0), _date(-1), "2099-12-31", "32/01/2099"):
        assert await add(expiry=expiry) == {"error": "Incorrect expiry"}, expiry
    assert await add(posts="abc") == {"error": "Incorrect posts"}  # beyond API.md: see report
    assert await add(posts="6") == NO_FUNDS  # 100 × 6 = 600 units: 0.6 > 0.5
    assert await api.balance(key) == Decimal("0.5")

    for delay in ("0", "5", "10", "15", "30", "60", "90"):
        await place(key, service, username="u", min="10", max="10", delay=delay)
    await place(
        key, service, username="u", min="10", max="500", delay="0", expiry=_date(1), posts=""
    )
    assert await api.balance(key) == Decimal("0.5")  # without posts: nothing up front
    await place(key, service, username="u", min="10", max="100", delay="0", posts="5")
    assert await api.balance(key) == Decimal("0")


async def test_the_same_link_twice_on_one_service(api, shop, place, set_order):
    _, key = await shop.customer("10")
    service = await shop.service(rate="1")
    other_service = await shop.service(rate="1")
    package = await shop.service(type="Package", rate="1")
    link = new_link()
    first = await place(key, service, link=link, quantity="100")
    assert await api.call(key=key, action="add", service=service, link=link, quantity="200") == {
        "error": ACTIVE_LINK
    }
    await place(key, other_service, link=link, quantity="100")  # another service: fine
    await place(key, package, link=link)
    assert await api.call(key=key, action="add", service=package, link=link) == {
        "error": ACTIVE_LINK
    }
    assert await api.balance(key) == Decimal("10") - Decimal("0.2") - Decimal("1")

    await set_order(first, status="In progress")
    assert (await api.call(key=key, action="add", service=service, link=link, quantity="100"))[
        "error"
    ] == ACTIVE_LINK
    await set_order(first, status="Completed")
    second = await place(key, service, link=link, quantity="100")
    await set_order(second, status="Canceled")
    await place(key, service, link=link, quantity="100")


async def test_not_enough_funds_changes_nothing(api, shop, place, orders_of, check_books):
    customer_id, key = await shop.customer("0.299999")
    service = await shop.service(rate="3")
    assert (
        await api.call(key=key, action="add", service=service, link=new_link(), quantity="100")
        == NO_FUNDS
    )
    assert await api.balance(key) == Decimal("0.299999")
    assert await orders_of(customer_id) == []

    exact_id, exact_key = await shop.customer("0.3")
    await place(exact_key, service, link=new_link(), quantity="100")
    assert (await api.call(key=exact_key, action="balance"))["balance"] == "0.00"
    assert (
        await api.call(key=exact_key, action="add", service=service, link=new_link(), quantity="10")
        == NO_FUNDS
    )
    assert len(await orders_of(exact_id)) == 1
    await check_books()


async def test_idempotency_key_returns_the_first_order_and_charges_once(
    api, shop, place, orders_of, check_books
):
    customer_id, key = await shop.customer("10")
    service = await shop.service(rate="5")
    first = await place(key, service, link=new_link(), quantity="100", idempotency_key="abc-1")
    again = await place(key, service, link=new_link(), quantity="900", idempotency_key="abc-1")
    assert again == first
    assert await api.balance(key) == Decimal("9.5")
    other = await place(key, service, link=new_link(), quantity="100", idempotency_key="abc-2")
    assert other != first
    assert await orders_of(customer_id) == [first, other]

    # another customer's key space is their own
    _, other_key = await shop.customer("1")
    theirs = await place(
        other_key, service, link=new_link(), quantity="100", idempotency_key="abc-1"
    )
    assert theirs not in (first, other)
    assert await api.balance(key) == Decimal("9")
    await check_books()


async def test_idempotency_key_of_a_refused_add_can_be_retried(api, shop, place, db):
    customer_id, key = await shop.customer("0.1")
    service = await shop.service(rate="1")
    link = new_link()
    fields = {"link": link, "quantity": "1000", "idempotency_key": "retry-me"}
    assert await api.call(key=key, action="add", service=service, **fields) == NO_FUNDS
    async with db.write() as conn:
        await adjust_funds(conn, customer_id, 1_000_000, "top up")
    order_id = await place(key, service, **fields)
    assert await place(key, service, **fields) == order_id
    assert await api.balance(key) == Decimal("0.1")


async def test_concurrent_adds_never_spend_the_same_money(api, shop, orders_of, check_books):
    customer_id, key = await shop.customer("0.3")
    service = await shop.service(rate="1")
    replies = await asyncio.gather(
        *(
            api.call(key=key, action="add", service=service, link=new_link(), quantity="100")
            for _ in range(10)
        )
    )
    placed = [reply for reply in replies if reply.get("status") == "success"]
    assert len(placed) == 3
    assert [reply for reply in replies if reply not in placed] == [NO_FUNDS] * 7
    assert await api.balance(key) == Decimal("0")
    assert len(await orders_of(customer_id)) == 3
    await check_books()


async def test_concurrent_adds_with_one_idempotency_key_make_one_order(
    api, shop, orders_of, check_books
):
    customer_id, key = await shop.customer("10")
    service = await shop.service(rate="1")
    replies = await asyncio.gather(
        *(
            api.call(
                key=key,
                action="add",
                service=service,
                link=new_link(),
                quantity="100",
                idempotency_key="burst",
            )
            for _ in range(8)
        )
    )
    order_ids = await orders_of(customer_id)
    assert len(order_ids) == 1
    assert replies == [{"status": "success", "order": order_ids[0]}] * 8
    assert await api.balance(key) == Decimal("9.9")
    await check_books()


async def test_a_custom_price_is_what_the_customer_pays(api, shop, place, db):
    customer_id, key = await shop.customer("10")
    _, other_key = await shop.customer("10")
    service = await shop.service(rate="2")
    async with db.write() as conn:
        await set_customer_price(conn, customer_id, service, 500_000)  # 0.5 per 1000
    await place(key, service, link=new_link(), quantity="1000")
    await place(other_key, service, link=new_link(), quantity="1000")
    assert await api.balance(key) == Decimal("9.5")
    assert await api.balance(other_key) == Decimal("8")
