"""Transport: paths, encodings, methods, JSON replies with HTTP 200, and the common errors."""

import secrets
import string
from decimal import Decimal

import httpx
import pytest
from api_helpers import expected_charge, new_link

from smmpanel.accounts.service import (
    create_api_key,
    revoke_api_key,
    set_customer_status,
)

INCORRECT_REQUEST = {"error": "Incorrect request"}
INVALID_KEY = {"error": "Invalid API key"}
FORM = "application/x-www-form-urlencoded"


async def raw(api, method: str = "POST", path: str = "/api/v2", **kwargs):
    """A request as a client library sends it; the reply must be JSON with HTTP 200."""
    response = await api.http.request(
        method, api.panel.url + path, follow_redirects=False, **kwargs
    )
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    return response.json()


@pytest.mark.parametrize("path", ["/api/v2", "/api/v2/"])
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_both_paths_answer_without_redirect(api, shop, path, method):
    _, key = await shop.customer("12.5")
    fields = {"key": key, "action": "balance"}
    kwargs = {"data": fields} if method == "POST" else {"params": fields}
    assert await raw(api, method, path, **kwargs) == {
        "status": "success",
        "balance": "12.50",
        "currency": "USD",
    }


async def test_every_encoding_places_the_same_order(api, shop):
    """Form, multipart, JSON and a GET query string each carry every field of an `add`,
    multi-line text included (three comments, one of them with a comma: rate 12 → 0.036)."""
    _, key = await shop.customer("10")
    service = await shop.service(type="Custom Comments", rate="12", min_quantity=1)
    links = [new_link() for _ in range(4)]

    def fields(link: str) -> dict:
        return {
            "key": key,
            "action": "add",
            "service": service,
            "link": link,
            "comments": "Nice, great\r\nSecond\nThird",
        }

    replies = [
        await raw(api, data=fields(links[0])),
        await raw(
            api, files={name: (None, str(value)) for name, value in fields(links[1]).items()}
        ),
        await raw(api, json=fields(links[2])),
        await raw(api, "GET", params=fields(links[3])),
    ]
    assert all(reply.keys() == {"status", "order"} for reply in replies), replies
    order_ids = [reply["order"] for reply in replies]
    assert len(set(order_ids)) == 4
    multi = await api.call(key=key, action="status", orders=",".join(map(str, order_ids)))
    assert [multi[str(oid)]["charge"] for oid in order_ids] == ["0.0360"] * 4
    assert await api.balance(key) == Decimal("10") - 4 * expected_charge("12", 3)


async def test_multipart_with_a_file_part_still_reads_the_fields(api, shop):
    _, key = await shop.customer("3")
    reply = await raw(
        api,
        data={"key": key, "action": "balance"},
        files={"attachment": ("a.txt", b"ignored", "text/plain")},
    )
    assert reply == {"status": "success", "balance": "3.00", "currency": "USD"}


async def test_json_body_with_numbers_and_a_text_content_type(api, shop):
    _, key = await shop.customer("1")
    service = await shop.service(rate="2")
    body = (
        f'{{"key": "{key}", "action": "add", "service": {service}, '
        f'"link": "{new_link()}", "quantity": 100}}'
    )
    reply = await raw(api, content=body.encode(), headers={"content-type": "text/plain"})
    assert reply["status"] == "success" and type(reply["order"]) is int
    assert await api.balance(key) == Decimal("0.8")


async def test_body_wins_over_query_string(api, shop):
    _, key = await shop.customer("7")
    _, other_key = await shop.customer("99")
    query = {"key": other_key, "action": "services"}
    assert await raw(api, params=query, data={"key": key, "action": "balance"}) == {
        "status": "success",
        "balance": "7.00",
        "currency": "USD",
    }
    assert await raw(api, params=query, json={"key": key, "action": "balance"}) == {
        "status": "success",
        "balance": "7.00",
        "currency": "USD",
    }


async def test_query_string_and_body_fields_merge(api, shop):
    _, key = await shop.customer("4.25")
    reply = await raw(api, params={"key": key}, data={"action": "balance"})
    assert reply == {"status": "success", "balance": "4.25", "currency": "USD"}


async def test_json_null_is_a_missing_field(api, shop):
    _, key = await shop.customer("1")
    assert await raw(api, json={"key": key, "action": None}) == INCORRECT_REQUEST


def _bad_requests(key: str) -> dict[str, dict]:
    good = f"key={key}&action=balance"
    return {
        "unknown action": {"data": {"key": key, "action": "withdraw"}},
        "missing action": {"data": {"key": key}},
        "empty action": {"data": {"key": key, "action": ""}},
        "missing key": {"data": {"action": "balance"}},
        "empty key": {"data": {"key": "", "action": "balance"}},
        "nothing at all": {},
        "malformed JSON": {
            "content": f'{{"key": "{key}", "action": "balance"'.encode(),
            "headers": {"content-type": "application/json"},
        },
        "JSON that is not an object": {
            "content": f'["{key}", "balance"]'.encode(),
            "headers": {"content-type": "application/json"},
        },
        "JSON with invalid UTF-8": {
            "content": f'{{"key": "{key}", "action": "balance", "x": "'.encode() + b'\xff"}',
            "headers": {"content-type": "application/json"},
        },
        "form with raw invalid UTF-8": {
            "content": good.encode() + b"&link=\xff\xfe",
            "headers": {"content-type": FORM},
        },
        "form with percent-encoded invalid UTF-8": {
            "content": (good + "&link=%FF%FE").encode(),
            "headers": {"content-type": FORM},
        },
        "form with a NUL character": {
            "content": (good + "&link=a%00b").encode(),
            "headers": {"content-type": FORM},
        },
        "body over one megabyte": {
            "content": (good + "&comments=" + "a" * 1_100_000).encode(),
            "headers": {"content-type": FORM},
        },
        "malformed multipart": {
            "content": b'--x\r\nContent-Disposition: form-data; name="key"\r\n\r\n' + key.encode(),
            "headers": {"content-type": "multipart/form-data; boundary=x"},
        },
    }


BAD_REQUEST_CASES = list(_bad_requests("k"))


@pytest.mark.parametrize("case", BAD_REQUEST_CASES)
async def test_bad_requests_are_incorrect_request(api, shop, case):
    _, key = await shop.customer("5")
    assert await raw(api, **_bad_requests(key)[case]) == INCORRECT_REQUEST
    assert await api.balance(key) == Decimal("5")


async def test_invalid_utf8_in_a_query_string_is_incorrect_request(api, shop):
    _, key = await shop.customer("5")
    query = f"key={key}&action=balance&link=%FF%FE"
    assert await raw(api, "GET", f"/api/v2?{query}") == INCORRECT_REQUEST


async def test_json_lists_of_ids_are_read_as_comma_separated(api, shop, place):
    _, key = await shop.customer("5")
    service = await shop.service()
    ids = [await place(key, service, link=new_link(), quantity=100) for _ in range(2)]
    reply = await raw(api, json={"key": key, "action": "status", "orders": ids})
    assert list(reply) == [str(order_id) for order_id in ids]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_other_methods_are_incorrect_request(api, shop, method):
    _, key = await shop.customer("5")
    fields = {"key": key, "action": "balance"}
    assert await raw(api, method, params=fields) == INCORRECT_REQUEST
    assert await raw(api, method, "/api/v2/", params=fields) == INCORRECT_REQUEST


async def test_head_answers_json_headers_without_error_status(api, shop):
    _, key = await shop.customer("5")
    response = await api.http.head(api.panel.api_url, params={"key": key, "action": "balance"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


def _random_key() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))


@pytest.mark.parametrize(
    "action", ["balance", "services", "add", "status", "refill", "refill_status", "cancel"]
)
async def test_unknown_key_is_refused_for_every_action(api, action):
    reply = await api.call(
        key=_random_key(),
        action=action,
        order=1,
        orders="1",
        refill=1,
        service=1,
        link=new_link(),
        quantity=100,
    )
    assert reply == INVALID_KEY


async def test_new_keys_are_long_url_safe_and_distinct(shop):
    keys = [(await shop.customer())[1] for _ in range(3)]
    assert len(set(keys)) == 3
    for key in keys:
        assert len(key) >= 32 and key.isascii() and key.isalnum()


async def test_revoked_key_is_invalid_and_the_other_key_still_works(api, shop, db, key_id, place):
    customer_id, key = await shop.customer("2")
    order_id = await place(key, await shop.service(), link=new_link(), quantity=100)
    async with db.write() as conn:
        second_key = await create_api_key(conn, customer_id)
    async with db.write() as conn:
        await revoke_api_key(conn, await key_id(key))
    # The read actions check the key in the statement that reads their answer.
    for fields in (
        {"action": "balance"},
        {"action": "services"},
        {"action": "status", "order": order_id},
        {"action": "status", "orders": f"{order_id},x"},
        {"action": "status", "orders": ",".join([str(order_id)] * 101)},  # too many: key first
    ):
        assert await api.call(key=key, **fields) == INVALID_KEY
    status = await api.call(key=second_key, action="status", order=order_id)
    assert status["status"] == "Pending"
    balance = await api.call(key=second_key, action="balance")
    assert balance["status"] == "success" and balance["currency"] == "USD"
    assert Decimal(balance["balance"]) == Decimal("2.00") - Decimal(status["charge"])


async def test_suspended_customer_is_invalid_until_reactivated(api, shop, db, place):
    customer_id, key = await shop.customer("2")
    service = await shop.service()
    order_id = await place(key, service, link=new_link(), quantity=100)
    async with db.write() as conn:
        await set_customer_status(conn, customer_id, active=False)
    for fields in (
        {"action": "balance"},
        {"action": "status", "order": order_id},
        {"action": "add", "service": service, "link": new_link(), "quantity": 100},
    ):
        assert await api.call(key=key, **fields) == INVALID_KEY
    async with db.write() as conn:
        await set_customer_status(conn, customer_id, active=True)
    assert (await api.call(key=key, action="balance"))["balance"] == "1.90"


async def test_key_and_action_are_trimmed_and_action_is_case_insensitive(api, shop):
    _, key = await shop.customer("1")
    assert await api.call(key=f" {key} ", action=" Balance ") == {
        "status": "success",
        "balance": "1.00",
        "currency": "USD",
    }


KNOWN_ERRORS = {
    "Incorrect service ID",
    "Incorrect link",
    "Incorrect quantity",
    "Incorrect runs",
    "Incorrect interval",
    "Incorrect order ID",
    "Refill not found",
    "link is required",
    "quantity is required",
    "Drip-feed is not supported for this service",
}


def _errors(reply: object) -> list[str]:
    """Every error message in a reply, however deeply the multi forms nest them."""
    if isinstance(reply, dict):
        if "error" in reply:
            return [reply["error"]]
        return [message for value in reply.values() for message in _errors(value)]
    if isinstance(reply, list):
        return [message for item in reply for message in _errors(item)]
    return []


ODD_VALUES = [
    "",
    " ",
    "-1",
    "0",
    "1e3",
    "9" * 30,
    "1.5",
    "NaN",
    "abc",
    "\u0661\u0662",
    "\U0001f642",
    ",,,",
    "1,,2",
    "' OR 1=1 --",
    "%",
    "\\",
    "[]",
    "{}",
    "0x10",
    "+5",
]


@pytest.mark.parametrize("action", ["add", "status", "refill", "refill_status", "cancel"])
async def test_odd_input_gets_an_error_never_a_server_error(api, shop, action):
    """Odd values in every field: JSON with HTTP 200, only errors, nothing charged."""
    _, key = await shop.customer("1")
    service = await shop.service(dripfeed=True, refill=True, cancel=True, min_quantity=1)
    for value in ODD_VALUES:
        fields = {
            "service": value,
            "link": value,
            "quantity": value,
            "runs": value,
            "interval": value,
            "order": value,
            "orders": value,
            "refill": value,
            "refills": value,
        }
        replies = [await api.call(key=key, action=action, **fields)]
        if action == "add":
            replies.append(await api.call(key=key, action=action, **{**fields, "service": service}))
        for reply in replies:
            assert_no_success(reply)
            assert set(_errors(reply)) <= KNOWN_ERRORS, (value, reply)
    assert await api.balance(key) == Decimal("1")


def assert_no_success(reply: object) -> None:
    """Single forms are one error; multi forms hold an error for every id."""
    if isinstance(reply, list):
        results = [item.get("status", item.get("cancel", item.get("refill"))) for item in reply]
    elif "error" in reply:
        results = [reply]
    else:
        results = list(reply.values())
    assert all(set(result) == {"error"} for result in results), reply


async def test_rate_limit_answers_429_with_a_json_error(panel, database_url, shop):
    limited_panel = type(panel)(
        database_url, env={"SMMPANEL_API_RATE_LIMIT": "1", "SMMPANEL_API_RATE_BURST": "1"}
    )
    try:
        _, key = await shop.customer("1")
        async with httpx.AsyncClient(timeout=10) as client:
            fields = {"key": key, "action": "balance"}
            replies = [await client.post(limited_panel.api_url, data=fields) for _ in range(3)]
    finally:
        limited_panel.stop()
    assert replies[0].status_code == 200
    limited = replies[-1]
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/json"
    assert limited.json() == {"error": "Too many requests"}
