"""A fast upstream panel on loopback for bench/worker.py: API v2 `add` and `status` only.

It answers like tests/fakes/upstream.py (same key, same reply shapes, orders kept in memory,
a count of how often each link was sent) but on uvloop + httptools + orjson, with no control
modes or delays, so that the upstream is not what limits the worker being measured.

    .venv/bin/python bench/upstream.py --port 8200

API (any path but the control ones; form body): key=upstream-test-key and
- action=add, service, link, quantity        -> {"order": 1001}
- action=status, order=ID                    -> {"status": ..., "start_count": ..., ...}
- action=status, orders=ID,ID,...            -> {"ID": {...}, "ID": {"error": ...}}
- action=balance                             -> {"status": "success", "balance": ...}
Control (JSON):
- POST /_orders [{"id": .., "status": .., "start_count": .., "remains": ..}, ...]: change many
- POST /_order {"id": .., ...}: change one (as the fake does)
- GET /_state -> {"orders": count, "sent_links": {link: times}, "calls": {action: count}}
"""

import argparse
import asyncio
from urllib.parse import parse_qsl

import httptools
import orjson
import uvloop

KEY = "upstream-test-key"
OK = b"200 OK"


class Panel:
    def __init__(self) -> None:
        # Upstream id (as text) -> the status reply for it, kept ready to serialise.
        self.orders: dict[str, dict] = {}
        self.sent_links: dict[str, int] = {}
        self.calls: dict[str, int] = {}
        self.next_id = 1000

    def answer(self, path: str, body: bytes) -> bytes:
        if path == "/_state":
            return orjson.dumps(
                {"orders": len(self.orders), "sent_links": self.sent_links, "calls": self.calls}
            )
        if path == "/_orders":
            changes = orjson.loads(body)
            return orjson.dumps([self.change(change) for change in changes])
        if path == "/_order":
            return orjson.dumps(self.change(orjson.loads(body)))
        fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return orjson.dumps(self.api(fields))

    def change(self, change: dict) -> dict:
        order = self.orders[str(change.pop("id"))]
        order.update({name: str(value) for name, value in change.items()})
        return order

    def api(self, fields: dict[str, str]) -> object:
        action = fields.get("action", "")
        self.calls[action] = self.calls.get(action, 0) + 1
        if fields.get("key") != KEY:
            return {"error": "Invalid API key"}
        if action == "add":
            link = fields.get("link") or fields.get("username", "")
            self.sent_links[link] = self.sent_links.get(link, 0) + 1
            self.next_id += 1
            self.orders[str(self.next_id)] = {
                "charge": "0.1000",
                "start_count": "0",
                "status": "Pending",
                "remains": fields.get("quantity", "0"),
                "currency": "USD",
            }
            return {"order": self.next_id}
        if action == "status":
            if "orders" in fields:
                wanted = (part.strip() for part in fields["orders"].split(","))
                return {given: self.status(given) for given in wanted if given}
            return self.status(fields.get("order", ""))
        if action == "balance":
            return {"status": "success", "balance": "1000000.00", "currency": "USD"}
        return {"error": "Incorrect request"}

    def status(self, given: str) -> dict:
        return self.orders.get(given) or {"error": "Incorrect order ID"}


class HttpProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, one request at a time per connection (as httpx sends them)."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()  # type: ignore[union-attr]

    def on_message_begin(self) -> None:
        self.url, self.body = b"", []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        path = httptools.parse_url(self.url).path.decode() if self.url else "/"
        try:
            status, payload = OK, self.panel.answer(path, b"".join(self.body))
        except Exception as exc:  # a bad control request: say so, keep serving
            status, payload = b"400 Bad Request", orjson.dumps({"error": repr(exc)})
        head = b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (
            status,
            len(payload),
        )
        self.transport.write(head + payload)  # type: ignore[union-attr]
        if not self.parser.should_keep_alive():
            self.transport.close()  # type: ignore[union-attr]


async def main(port: int) -> None:
    panel = Panel()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: HttpProtocol(panel), "127.0.0.1", port, backlog=1024)
    print(f"serving on http://127.0.0.1:{port}/", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    uvloop.run(main(parser.parse_args().port))
