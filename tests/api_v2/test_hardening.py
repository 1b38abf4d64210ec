"""Hostile transport: deep JSON, mis-encoded multipart, odd methods and paths, floods of keys,
forged client addresses. Every reply of /api/v2 stays the contract's JSON."""

import secrets
import socket
import threading
import time
from decimal import Decimal

import httpx
import pytest
from api_helpers import new_link
from raw_http import exchange
from sqlalchemy import select
from test_transport import INCORRECT_REQUEST, INVALID_KEY, raw

from smmpanel.accounts.service import create_api_key
from smmpanel.api_v2.ratelimit import MAX_TRACKED_BUCKETS, RateLimiter
from smmpanel.orders.models import orders

TOO_MANY_REQUESTS = {"error": "Too many requests"}


def nested_arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    "value", [nested_arrays(1000), nested_objects(600), nested_arrays(4), nested_objects(4)]
)
async def test_deeply_nested_json_fields_are_incorrect_request(api, shop, value):
    _, key = await shop.customer("5")
    body = f'{{"key": "{key}", "action": "balance", "x": {value}}}'
    headers = {"content-type": "application/json"}
    assert await raw(api, content=body.encode(), headers=headers) == INCORRECT_REQUEST
    assert await api.balance(key) == Decimal("5")


async def test_shallow_json_values_still_read(api, shop):
    _, key = await shop.customer("5")
    body = {"key": key, "action": "balance", "x": [[1, 2], {"a": [3]}]}
    assert (await raw(api, json=body))["balance"] == "5.00"


def multipart_order(key: str, service: int, comments: bytes) -> dict:
    fields = {"key": key, "action": "add", "service": str(service), "link": new_link()}
    parts = {name: (None, value.encode()) for name, value in fields.items()}
    return {"files": {**parts, "comments": (None, comments)}}


async def comments_of(db, order_id: int) -> str:
    async with db.read() as conn:
        return await conn.scalar(select(orders.c.comments).where(orders.c.id == order_id))


async def test_invalid_utf8_in_a_multipart_field_is_incorrect_request(api, shop, db, orders_of):
    customer_id, key = await shop.customer("5")
    service = await shop.service(type="Custom Comments", rate="1", min_quantity=1)
    refused = multipart_order(key, service, "caf\u00e9\n".encode() + b"\xff\xfe bad")
    assert await raw(api, **refused) == INCORRECT_REQUEST
    assert await orders_of(customer_id) == []
    placed = await raw(api, **multipart_order(key, service, "caf\u00e9\n\u4f60\u597d".encode()))
    assert await comments_of(db, placed["order"]) == "caf\u00e9\n\u4f60\u597d"
    assert await api.balance(key) == Decimal("5") - Decimal("0.002")


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "MKCOL", "SEARCH", "CONNECT"])
async def test_every_method_the_server_parses_gets_incorrect_request(api, shop, method):
    _, key = await shop.customer("5")
    for path in ("/api/v2", "/api/v2/"):
        reply = http_exchange(
            api.panel.port, f"{method} {path}?key={key}&action=balance HTTP/1.1\r\n".encode()
        )
        assert reply.startswith(b"HTTP/1.1 200 "), reply
        assert_json_reply(reply, b'{"error":"Incorrect request"}')


async def test_a_method_the_parser_does_not_know_gets_the_json_error(api):
    reply = http_exchange(api.panel.port, b"BREW /api/v2 HTTP/1.1\r\n")
    assert reply.startswith(b"HTTP/1.1 400 "), reply
    assert_json_reply(reply, b'{"error":"Incorrect request"}')


@pytest.mark.parametrize("path", ["/api/v2//", "/api/v2/balance", "/api/v2/v2/"])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_other_paths_under_the_api_are_incorrect_request(api, shop, path, method):
    _, key = await shop.customer("5")
    fields = {"key": key, "action": "balance"}
    kwargs = {"data": fields} if method == "POST" else {"params": fields}
    assert await raw(api, method, path, **kwargs) == INCORRECT_REQUEST


def http_exchange(port: int, request_line: bytes) -> bytes:
    return exchange(port, request_line + b"Host: x\r\nConnection: close\r\n\r\n", timeout=10)


def assert_json_reply(reply: bytes, body: bytes) -> None:
    head, _, content = reply.partition(b"\r\n\r\n")
    assert b"\r\ncontent-type: application/json\r\n" in head.lower() + b"\r\n", head
    assert content == body


def random_key() -> str:
    return secrets.token_urlsafe(30)


@pytest.fixture
def limited_panel(panel, database_url):
    """Start panels on the session's database with rate-limit settings of their own."""
    started = []

    def start(**settings: str):
        env = {f"SMMPANEL_{name.upper()}": value for name, value in settings.items()}
        started.append(type(panel)(database_url, env=env))
        return started[-1]

    yield start
    for process in started:
        process.stop()


async def replies_to(url: str, requests: list[dict]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=10) as client:
        return [await client.post(url, **request) for request in requests]


def limited(responses: list[httpx.Response]) -> int:
    """How many were refused as too many, after checking each is the contract's 429."""
    refused = [response for response in responses if response.status_code == 429]
    assert all(response.json() == TOO_MANY_REQUESTS for response in refused)
    return len(refused)


async def test_random_invalid_keys_from_one_address_are_limited(limited_panel, shop):
    panel = limited_panel(api_address_rate_limit="1", api_address_rate_burst="20")
    _, key = await shop.customer("3")
    started = time.monotonic()
    requests = [{"data": {"key": random_key(), "action": "balance"}} for _ in range(600)]
    requests += [{"data": {"action": "balance"}} for _ in range(10)]
    responses = await replies_to(panel.api_url, requests)
    allowed_at_most = 20 + int(time.monotonic() - started) + 1
    assert limited(responses) >= len(responses) - allowed_at_most
    assert responses[0].json() == INVALID_KEY
    # Requests without a key draw on the same address's bucket (a token a second refills).
    assert TOO_MANY_REQUESTS in [response.json() for response in responses[-10:]]
    # A valid key is limited by its own customer's bucket, not by the address's failures.
    [valid] = await replies_to(panel.api_url, [{"data": {"key": key, "action": "balance"}}])
    assert valid.json()["balance"] == "3.00"


async def test_two_keys_of_one_customer_share_one_bucket(limited_panel, shop, db):
    panel = limited_panel(api_rate_limit="1", api_rate_burst="2")
    customer_id, key = await shop.customer("1")
    _, other_customer_key = await shop.customer("1")
    async with db.write() as conn:
        second_key = await create_api_key(conn, customer_id)
    fields = [{"data": {"key": k, "action": "balance"}} for k in (key, key, second_key)]
    responses = await replies_to(panel.api_url, fields)
    assert [response.status_code for response in responses] == [200, 200, 429]
    assert limited(responses) == 1
    [other] = await replies_to(
        panel.api_url, [{"data": {"key": other_customer_key, "action": "balance"}}]
    )
    assert other.status_code == 200


@pytest.mark.fast
def test_an_exhausted_bucket_stays_exhausted_however_many_others_come():
    clock = FakeClock()
    limiter = RateLimiter(per_second=1, burst=2, clock=clock)
    assert [limiter.allow("flooder") for _ in range(3)] == [True, True, False]
    others = [limiter.allow(f"other-{number}") for number in range(MAX_TRACKED_BUCKETS + 10_000)]
    assert not limiter.allow("flooder")
    # The table is full of buckets in use: newcomers wait until the oldest has refilled.
    assert others.count(True) == MAX_TRACKED_BUCKETS - 1
    clock.now += 2  # every bucket has refilled: each equals a new one, and makes room
    assert all(limiter.allow(f"late-{number}") for number in range(MAX_TRACKED_BUCKETS))


async def test_an_exhausted_key_stays_limited_after_50_000_other_keys(limited_panel, shop, backend):
    if backend != "sqlite":
        pytest.skip("the limiter lives in the process: the database makes no difference")
    panel = limited_panel(
        api_rate_limit="1",
        api_rate_burst="100",
        api_address_rate_limit="5",
        api_address_rate_burst="20",
    )
    _, key = await shop.customer("1")
    started = time.monotonic()
    flood = [f"key={random_key()}" for _ in range(50_001)]
    statuses = pipelined(panel.port, [f"key={key}&action=balance"] * 101 + flood)
    elapsed = time.monotonic() - started
    # The burst, then the key is limited: at most one more for each second that went by.
    assert statuses[:100] == [200] * 100
    assert statuses[100:101].count(200) <= elapsed
    assert statuses[101:].count(429) >= 50_001 - 20 - 5 * elapsed - 1
    after = pipelined(panel.port, [f"key={key}&action=balance"] * 100)
    assert after.count(200) <= time.monotonic() - started + 1  # refilled at 1/s, nothing more


def pipelined(port: int, bodies: list[str]) -> list[int]:
    """POST each form body on one connection without waiting for replies; their statuses."""
    requests = b"".join(
        b"POST /api/v2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
        b"\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body.encode())
        for body in bodies
    )
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sender = threading.Thread(target=sock.sendall, args=(requests,))
        sender.start()
        replies = b""
        while replies.count(b"HTTP/1.1 ") < len(bodies):
            replies += sock.recv(1 << 20)
        sender.join()
    return [int(reply[:3]) for reply in replies.split(b"HTTP/1.1 ")[1:]]


@pytest.mark.fast
def test_buckets_refill_at_the_set_rate():
    clock = FakeClock()
    limiter = RateLimiter(per_second=2, burst=2, clock=clock)
    assert [limiter.allow("k") for _ in range(3)] == [True, True, False]
    clock.now += 0.5
    assert [limiter.allow("k") for _ in range(2)] == [True, False]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(limited_panel):
    untrusted = limited_panel(api_address_rate_limit="1", api_address_rate_burst="3")
    trusted = limited_panel(
        api_address_rate_limit="1", api_address_rate_burst="3", trusted_proxies="127.0.0.1"
    )
    requests = [
        {"data": {"action": "balance"}, "headers": {"x-forwarded-for": f"203.0.113.{n}"}}
        for n in range(10)
    ]
    assert limited(await replies_to(untrusted.api_url, requests)) >= 6
    assert limited(await replies_to(trusted.api_url, requests)) == 0
    one_address = [
        {**request, "headers": {"x-forwarded-for": "203.0.113.7"}} for request in requests
    ]
    assert limited(await replies_to(trusted.api_url, one_address)) >= 6
