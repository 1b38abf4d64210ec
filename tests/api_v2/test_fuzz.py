"""Bad input, at random: whatever arrives at /api/v2, the reply is JSON, never a 5xx, and only an
accepted order moves money.

Each example is one request with random fields (known names and random ones), random values
(unicode, NUL, lone surrogates, huge and negative numbers, floats, empty), a random encoding
(form, query string, multipart, JSON of any shape, raw bytes, invalid UTF-8, wrong content type)
and a random method; half the time it carries a funded customer's key, an action and a real
service id, with plausible fields for that service's type so that many orders are accepted too.
The test is synchronous: hypothesis drives it, httpx sends, and the books are read through the
panel's own `Database` on an event loop in a thread of its own.
"""

import asyncio
import json
import re
import threading
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import quote_from_bytes

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from smmpanel.accounts.audit import audit
from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.accounts.service import create_api_key, create_customer
from smmpanel.api_v2 import actions, route
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.catalog.types import SERVICE_TYPES
from smmpanel.db import Database
from smmpanel.errors import RefusalKind
from smmpanel.money import parse, to_micros
from smmpanel.orders import refusals
from smmpanel.orders.models import orders

EXAMPLES_PER_BACKEND = 250

KNOWN_ERRORS = {
    kind.template for kind in vars(refusals).values() if isinstance(kind, RefusalKind)
} | {route.INCORRECT_REQUEST, route.INVALID_KEY, route.TOO_MANY_REQUESTS, actions.TOO_MANY_IDS}
ERROR_PATTERNS = re.compile(
    r"[a-z_]+ is required|Quantity less than minimal \d+|Quantity more than maximum \d+"
)

FIELD_NAMES = [
    "key", "action", "service", "link", "quantity", "runs", "interval", "orders", "order",
    "comments", "username", "usernames", "hashtags", "hashtag", "media", "answer_number",
    "groups", "min", "max", "posts", "delay", "expiry", "refill", "refills", "idempotency_key",
]  # fmt: skip
ACTIONS = ["add"] * 12 + [
    "services", "status", "balance", "refill", "refill_status", "cancel", "ADD", " add ",
    "Add\x00", "", "unknown", "add\ud800",
]  # fmt: skip
METHODS = ["POST"] * 8 + ["GET"] * 3 + ["PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
CONTENT_TYPES = [
    None, "", "application/json", "application/json; charset=latin-1", "text/plain",
    "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=",
    "multipart/form-data; boundary=zz", "application/octet-stream", "text/html; charset=utf-16",
    "APPLICATION/JSON", "image/png", "\u00e9/\u00e9",
]  # fmt: skip
TRICKY = [
    "", " ", "0", "-1", "1", "10", "100", "999999999", "1000000000", "99999999999999999999",
    "1e3", "1.5", "-0", "+5", " 50 ", "0x10", "NaN", "inf", "null", "true", "[]", "{}",
    "\u00b2", "\u0661\u0662\u0663", "\U0001d7cf\U0001d7ce\U0001d7ce", "5\x00", "\x00", "\ud800",
    "\udfff", "a\r\nb\nc", "\u2028x\u2029", ",,,", "1,2,3", ",".join(map(str, range(1, 150))),
    "31/12/2099", "29/02/2023", "01/01/1970", "https://example.com/p", "example.com/x",
    "http://[::1", "javascript:alert(1)", "https://x.com/" + "\U0001f600" * 1990,
    "x" * 5000, "\u00e9" * 300, "<script>", "'; DROP TABLE orders; --",
]  # fmt: skip

any_text = st.text(st.characters(exclude_categories=()), max_size=40)  # NUL, surrogates too
printable_text = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=40)
numbers = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-5, 20_000).map(str),
)
values = st.one_of(st.sampled_from(TRICKY), printable_text, numbers, any_text)
names = st.one_of(st.sampled_from(FIELD_NAMES), printable_text, any_text)
tame_values = st.one_of(st.sampled_from(TRICKY), printable_text, numbers).filter(
    lambda text: "\x00" not in text and not re.search("[\ud800-\udfff]", text)
)
tame_names = st.one_of(st.sampled_from(FIELD_NAMES), printable_text)
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**30), 10**30),
        st.floats(allow_nan=True, allow_infinity=True),
        values,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=8,
)


class LoopThread:
    """An event loop in a thread of its own, for async database work from a sync test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@dataclass
class Target:
    """The shared panel, a funded customer, a service of every type, and a view of the books."""

    panel: Any  # conftest's PanelProcess
    loop: LoopThread
    db: Database
    customer_id: int
    key: str
    services: dict[int, str]  # id -> type, or "disabled", or "missing" (no such id)
    http: httpx.Client
    seen_orders: set[int] = field(default_factory=set)

    def books(self) -> tuple[int, int]:
        """(ledger rows in the whole database, the funded customer's balance)."""
        return self.loop.run(self._books())

    async def _books(self) -> tuple[int, int]:
        async with self.db.read() as conn:
            rows = await conn.scalar(select(func.count()).select_from(ledger_entries))
            balance = await conn.scalar(
                select(customers.c.balance).where(customers.c.id == self.customer_id)
            )
        return rows, balance

    def charge_of(self, order_id: int) -> int | None:
        return self.loop.run(self._charge_of(order_id))

    async def _charge_of(self, order_id: int) -> int | None:
        async with self.db.read() as conn:
            return await conn.scalar(
                select(orders.c.charge).where(
                    orders.c.id == order_id, orders.c.customer_id == self.customer_id
                )
            )

    def audit(self) -> list[str]:
        async def run() -> list[str]:
            async with self.db.read() as conn:
                return await audit(conn)

        return self.loop.run(run())


async def funded_customer(db: Database) -> tuple[int, str]:
    async with db.write() as conn:
        customer_id = await create_customer(
            conn, f"fuzz-{uuid.uuid4().hex[:10]}", to_micros(parse("100000"))
        )
        return customer_id, await create_api_key(conn, customer_id)


async def one_service_of_each_type(db: Database) -> dict[int, str]:
    """A service of every type, and a disabled one."""
    async with db.write() as conn:
        category_id = await category_id_for(conn, "Fuzz")
        flags = {"dripfeed": True, "refill": True, "cancel": True}
        limits = {"rate": to_micros(parse("1.5")), "min_quantity": 10, "max_quantity": 5000}
        return {
            await create_service(
                conn,
                category_id,
                name=f"fuzz {name} {uuid.uuid4().hex[:6]}",
                type=name,
                **limits,
                **flags,
            ): name
            for name in SERVICE_TYPES
        } | {
            await create_service(
                conn, category_id, name="fuzz disabled", type="Default", enabled=False, **limits
            ): "disabled"
        }


def drain(pipe: IO[bytes]) -> None:
    """Read the shared panel's log as it comes. Nobody reads that pipe: once a few failures
    have filled it, the panel blocks writing its log, and every later request times out."""

    def read_all() -> None:
        for _line in pipe:
            pass

    threading.Thread(target=read_all, daemon=True).start()


@pytest.fixture(scope="module")
def target(panel: Any, database_url: str) -> Iterator[Target]:
    loop = LoopThread()
    db = Database(database_url, pool_size=2)
    customer_id, key = loop.run(funded_customer(db))
    services = loop.run(one_service_of_each_type(db))
    services[max(services) + 1000] = "missing"
    drain(panel.process.stderr)
    with httpx.Client(timeout=10.0) as http:
        yield Target(panel, loop, db, customer_id, key, services, http)
    loop.run(db.dispose())
    loop.close()


@dataclass
class Request:
    method: str
    query: list[tuple[str, str]]
    body: bytes | None
    content_type: str | None
    shape: str  # how it was made, to read a failure
    slash: bool  # /api/v2/ answers as /api/v2 does


def plausible_link(draw: st.DrawFn) -> str:
    """A fresh link (an active one refuses a second order), now and then a long one."""
    unique = uuid.uuid4().hex
    return draw(
        st.sampled_from(
            [
                f"https://example.com/{unique}",
                f"https://example.com/{unique}",
                f"example.com/p/{unique}",
                f"https://example.com/{unique}?q=" + "x" * 1900,
                # 1900 characters of three bytes each: long for an index entry
                f"https://example.com/{unique}/" + "".join(map(chr, range(0x4E00, 0x4E00 + 1900))),
            ]
        )
    )


def padded(numbers: st.SearchStrategy[int]) -> st.SearchStrategy[str]:
    """A number as a client may send it: plain, or with blanks around it."""
    return st.tuples(numbers, st.sampled_from(["", " ", "\t", " " * 25])).map(
        lambda pair: with_blank(*pair)
    )


def with_blank(number: int, blank: str) -> str:
    return f"{blank}{number}" if len(blank) > 1 else f"{number}{blank}"


def plausible_fields(service_type: str, draw: st.DrawFn) -> dict[str, str]:
    """Fields an order of this type would carry, most of them valid."""
    candidates = {
        "link": plausible_link(draw),
        "quantity": draw(padded(st.one_of(st.integers(10, 5000), st.integers(1, 6000)))),
        "comments": "Nice, great\r\nWow\n\nsuper",
        "usernames": "alice\nbob",
        "hashtags": "#a\n#b",
        "hashtag": "#tag",
        "username": "someone",
        "media": "https://example.com/media/1",
        "answer_number": draw(st.one_of(padded(st.integers(0, 5)), st.just("x"))),
        "groups": "g1\ng2",
        "min": draw(padded(st.sampled_from([10, 100, 5]))),
        "max": draw(padded(st.sampled_from([100, 200, 6000]))),
        "delay": draw(padded(st.sampled_from([0, 30, 7]))),
    }
    spec = SERVICE_TYPES.get(service_type)
    wanted = set(spec.required) if spec else {"link", "quantity"}
    if draw(st.booleans()) and spec and "runs" in spec.optional:
        candidates |= {"runs": str(draw(st.integers(1, 5))), "interval": "10"}
        wanted |= {"runs", "interval"}
    return {name: value for name, value in candidates.items() if name in wanted}


def keyed_fields(draw: st.DrawFn, target: Target, action: str | None = None) -> dict[str, str]:
    """The funded customer's key, an action and a real (or missing) service id."""
    service_id = draw(st.sampled_from(sorted(target.services)))
    action = action or draw(st.sampled_from(ACTIONS))
    fields = {"key": target.key, "action": action, "service": str(service_id)}
    if action == "add":
        fields |= plausible_fields(target.services[service_id], draw)
    return fields


def clean_add(draw: st.DrawFn, target: Target) -> Request:
    """An order as a client library sends it: most are accepted, and must be charged once."""
    fields = keyed_fields(draw, target, action="add")
    method, encoding = draw(st.sampled_from([("POST", "form"), ("POST", "json"), ("GET", "query")]))
    if encoding == "json":  # as JSON clients send it: the service id a number
        document = fields | {"service": int(fields["service"])}
        return Request(
            method, [], orjson.dumps(document), "application/json", "clean add json", False
        )
    body, content_type = encode_body(draw, encoding, fields)
    query = list(fields.items()) if encoding == "query" else []
    return Request(method, query, body, content_type, f"clean add {encoding}", False)


@st.composite
def requests(draw: st.DrawFn, target: Target) -> Request:
    if draw(st.integers(0, 3)) == 0:
        return clean_add(draw, target)
    keyed = draw(st.booleans())
    fields: dict[str, Any] = keyed_fields(draw, target) if keyed else {}
    wild = draw(st.integers(0, 3)) == 0  # a quarter of requests may carry NUL, lone surrogates
    noise = draw(
        st.dictionaries(
            names if wild else tame_names,
            values if wild else tame_values,
            max_size=draw(st.sampled_from([0, 1, 2, 5])),
        )
    )
    if keyed and draw(st.integers(0, 3)) > 0:
        noise = {name: value for name, value in noise.items() if name not in ("key", "action")}
    if keyed and wild:  # spoil one field of an otherwise good request: it may reach the database
        fields[draw(st.sampled_from(sorted(fields)))] = draw(values)
    fields |= noise
    method = draw(st.sampled_from(METHODS))
    if method == "GET" and draw(st.integers(0, 3)) > 0:
        encoding = "query"  # as GET clients send it
    else:
        encoding = draw(st.sampled_from(["form", "query", "multipart", "json", "json", "raw"]))
    query: list[tuple[str, str]] = []
    if encoding == "query":
        query, fields = list(fields.items()), {}
    elif fields and draw(st.integers(0, 4)) == 0:
        moved = draw(st.sets(st.sampled_from(sorted(fields)), max_size=3))
        query = [(name, fields[name]) for name in moved]
        if draw(st.booleans()):
            fields = {name: value for name, value in fields.items() if name not in moved}
    body, content_type = encode_body(draw, encoding, fields)
    if draw(st.integers(0, 5)) == 0:
        content_type = draw(st.sampled_from(CONTENT_TYPES))
    if body and draw(st.integers(0, 19)) == 0:
        body = body[: draw(st.integers(0, len(body)))]
    shape = f"{'keyed ' if keyed else ''}{'wild ' if wild else ''}{method} {encoding}"
    return Request(method, query, body, content_type, shape, draw(st.booleans()))


def encode_body(
    draw: st.DrawFn, encoding: str, fields: dict[str, Any]
) -> tuple[bytes | None, str | None]:
    if encoding == "query":
        return (None, None)
    if encoding == "form":
        return urlencode(list(fields.items())).encode(), "application/x-www-form-urlencoded"
    if encoding == "multipart":
        return multipart(draw, fields)
    if encoding == "json":
        return json_body(draw, fields), "application/json"
    return draw(st.binary(max_size=300)), draw(st.sampled_from(CONTENT_TYPES))


def raw(text: str) -> bytes:
    """UTF-8, with lone surrogates passed through as the invalid bytes they make."""
    return text.encode("utf-8", "surrogatepass")


def urlencode(pairs: list[tuple[str, str]]) -> str:
    return "&".join(
        f"{quote_from_bytes(raw(name), safe='')}={quote_from_bytes(raw(value), safe='')}"
        for name, value in pairs
    )


def multipart(draw: st.DrawFn, fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = draw(st.sampled_from([b"b0undary", b"x" * 70, b"--weird--"]))
    parts = []
    for name, value in fields.items():
        disposition = b'form-data; name="' + raw(name) + b'"'
        if draw(st.integers(0, 9)) == 0:  # a file part: not a field
            disposition += b'; filename="f.txt"'
        parts.append(b"--" + boundary + b"\r\nContent-Disposition: " + disposition)
        parts.append(b"\r\n\r\n" + raw(value) + b"\r\n")
    body = b"".join(parts) + b"--" + boundary + b"--\r\n"
    return body, "multipart/form-data; boundary=" + boundary.decode()


def json_body(draw: st.DrawFn, fields: dict[str, Any]) -> bytes:
    document: Any = dict(fields)
    for name in draw(st.sets(st.sampled_from(sorted(fields)), max_size=3)) if fields else ():
        document[name] = draw(json_values)
    if draw(st.integers(0, 9)) == 0:
        document = draw(json_values)
    text = json.dumps(document, ensure_ascii=draw(st.booleans()), allow_nan=True)
    return raw(text)


def send(target: Target, request: Request) -> httpx.Response:
    url = target.panel.api_url + ("/" if request.slash else "")
    if request.query:
        url += "?" + urlencode(request.query)
    headers: dict[str, bytes] = {}
    if request.content_type is not None:
        headers["content-type"] = request.content_type.encode()  # bytes: any octets go
    return target.http.request(
        request.method, httpx.URL(url), content=request.body, headers=headers
    )


def check_reply(reply: Any) -> None:
    """A reply is a success (no `error` key at its top) or one known error, as is every error
    nested in a multi-id reply."""
    if isinstance(reply, dict):
        if "error" in reply:
            assert list(reply) == ["error"], reply
            message = reply["error"]
            assert isinstance(message, str) and message, reply
            assert message in KNOWN_ERRORS or ERROR_PATTERNS.fullmatch(message), message
            return
        for value in reply.values():
            check_reply(value)
    elif isinstance(reply, list):
        for value in reply:
            check_reply(value)


def check_request(target: Target, request: Request) -> Any:
    """Send it; the reply must be JSON, HTTP 200 (or 429), and only a new order moves money."""
    before = target.books()

    response = send(target, request)

    assert response.status_code in (200, 429), (response.status_code, response.text)
    assert response.headers.get("content-type") == "application/json"
    reply = None
    if request.method != "HEAD":
        reply = orjson.loads(response.content)
        check_reply(reply)
    if response.status_code == 429:
        assert reply in (None, {"error": route.TOO_MANY_REQUESTS})
    after = target.books()
    new_order = placed_order(reply)
    if new_order is not None and new_order not in target.seen_orders:
        target.seen_orders.add(new_order)
        charge = target.charge_of(new_order)
        assert charge is not None and charge >= 0  # 0: a subscription paid post by post
        assert after[1] == before[1] - charge
        assert after[0] - before[0] in ((1,) if charge else (0, 1))  # one charge row
    else:
        assert after == before, (request, reply)
    assert target.panel.process.poll() is None
    return reply


@settings(
    max_examples=EXAMPLES_PER_BACKEND,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_any_request_gets_a_json_reply_and_moves_money_only_for_an_order(
    target: Target, data: st.DataObject
) -> None:
    request = data.draw(requests(target))
    reply = check_request(target, request)
    event(f"{request.shape}: {outcome(reply)}")


CJK_PATH = "".join(map(chr, range(0x4E00, 0x4E00 + 1900)))
# Inputs that reach the database, or once failed, kept as plain examples (service type by name).
HARD_INPUTS = {
    "comments with NUL": ("Custom Comments", {"comments": "fine\nbad\x00line"}),
    "username with a lone surrogate": ("Comment Likes", {"username": "ab\ud800"}),
    "idempotency_key with NUL": ("Default", {"idempotency_key": "k\x00"}),
    "long link of 3-byte characters": ("Default", {"link": f"https://x.com/{CJK_PATH}"}),
    "answer_number with leading blanks": ("Poll", {"answer_number": " " * 25 + "1"}),
    "answer_number with trailing tabs": ("Poll", {"answer_number": "1" + "\t" * 25}),
    "delay in superscript digits": ("Subscriptions", {"delay": "\u00b3\u2070"}),
    "quantity in Arabic-Indic digits": ("Default", {"quantity": "\u0661\u0660\u0660"}),
}


@pytest.mark.parametrize("case", sorted(HARD_INPUTS))
def test_hard_inputs(target: Target, case: str) -> None:
    service_type, overrides = HARD_INPUTS[case]
    service_id = next(sid for sid, name in target.services.items() if name == service_type)
    fields = {
        "key": target.key,
        "action": "add",
        "service": str(service_id),
        "link": f"https://example.com/{uuid.uuid4().hex}",
        "quantity": "100",
        "answer_number": "1",
        "username": "someone",
        "min": "10",
        "max": "100",
        "delay": "0",
    } | overrides
    body = urlencode(list(fields.items())).encode()
    request = Request("POST", [], body, "application/x-www-form-urlencoded", case, False)
    check_request(target, request)


def outcome(reply: Any) -> str:
    if isinstance(reply, dict) and "error" in reply:
        return re.sub(r"\d+", "N", reply["error"])
    return "success" if reply is not None else "no body"


def placed_order(reply: Any) -> int | None:
    if isinstance(reply, dict) and reply.get("status") == "success" and "order" in reply:
        assert isinstance(reply["order"], int) and set(reply) == {"status", "order"}, reply
        return reply["order"]
    return None


def test_fuzzing_placed_orders_and_kept_the_books(target: Target) -> None:
    """Runs after the fuzz: it must have placed orders (or it tested only refusals)."""
    assert len(target.seen_orders) >= 10
    assert target.audit() == []


def odd_bodies(key: str) -> dict[str, tuple[dict, str]]:
    """Bodies no random draw makes: (request arguments, the outcome: success or an error)."""
    form = {"content-type": "application/x-www-form-urlencoded"}
    balance = f"key={key}&action=balance".encode()
    return {
        "over 1 MB": ({"content": balance + b"&x=" + b"a" * 1_100_000, "headers": form}, "error"),
        "chunked, over 1 MB": (
            {"content": iter([balance + b"&x="] + [b"a" * 100_000] * 12), "headers": form},
            "error",
        ),
        "chunked": ({"content": iter([balance[:10], balance[10:]]), "headers": form}, "success"),
        "3000 multipart fields": (
            {
                "files": [(f"f{n}", (None, "v")) for n in range(3000)],
                "data": {"key": key, "action": "balance"},
            },
            "error",
        ),
        "JSON nested 5000 deep": (
            {
                "content": b'{"key": "%s", "action": "balance", "x": %s%s}'
                % (key.encode(), b"[" * 5000, b"]" * 5000),
                "headers": {"content-type": "application/json"},
            },
            "error",
        ),
    }


@pytest.mark.parametrize("case", list(odd_bodies("")))
def test_odd_bodies(target: Target, case: str) -> None:
    arguments, expected = odd_bodies(target.key)[case]
    before = target.books()

    response = target.http.post(target.panel.api_url, **arguments)

    assert response.status_code == 200, response.text
    reply = response.json()
    if expected == "error":
        assert reply == {"error": route.INCORRECT_REQUEST}
    else:
        assert reply["status"] == "success"
    assert target.books() == before
