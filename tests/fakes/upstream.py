"""A fake upstream panel speaking API v2 over plain asyncio HTTP, able to misbehave on purpose.

Run: python tests/fakes/upstream.py --port P. It keeps its orders in memory. Control it with
JSON POSTs to /_control: {"add": MODE, "status": MODE, "delay": seconds, "balance": "12.5",
"services": [...], "modes": {"services": MODE, "balance": MODE}}; MODE is one of ok, slow, html,
garbage, empty, http500, busy, error, funds, drop, unknown_status, same_id. Each misbehaviour but
error and funds does the work first, then loses or spoils the answer (busy: HTTP 503 with a JSON
error, as our own panel answers when it fails). GET /_state returns the orders and how often each
link was sent;
POST /_order {"id": .., "status": .., "remains": .., "start_count": ..} changes an order;
POST /_post {"id": SUBSCRIPTION, "quantity": ..} places the order of a new post of a
subscription: a new order (Pending) listed in the subscription's "orders", one more "posts".
"""

import argparse
import asyncio
import json
from urllib.parse import parse_qsl

KEY = "upstream-test-key"
BUSY = json.dumps({"error": "Temporary error, please try again later"}).encode()


class FakePanel:
    def __init__(self) -> None:
        self.modes = {
            "add": "ok",
            "status": "ok",
            "refill": "ok",
            "cancel": "ok",
            "services": "ok",
            "balance": "ok",
        }
        self.delay = 0.0
        self.balance = "1000.00"
        self.services: list[dict] = []
        self.orders: dict[int, dict] = {}
        self.refills: dict[int, dict] = {}
        self.sent_links: dict[str, int] = {}
        self.calls: dict[str, int] = {}
        self.next_id = 1000

    def control(self, settings: dict) -> dict:
        for action in ("add", "status", "refill", "cancel"):
            if action in settings:
                self.modes[action] = settings[action]
        self.modes.update(settings.get("modes", {}))
        self.delay = float(settings.get("delay", self.delay))
        self.balance = str(settings.get("balance", self.balance))
        self.services = settings.get("services", self.services)
        return {"ok": True}

    def state(self) -> dict:
        return {
            "orders": self.orders,
            "sent_links": self.sent_links,
            "calls": self.calls,
            "refills": self.refills,
        }

    def set_order(self, change: dict) -> dict:
        order = self.orders[int(change.pop("id"))]
        order.update({k: str(v) for k, v in change.items()})
        return order

    def new_post(self, post: dict) -> dict:
        subscription = self.orders[int(post["id"])]
        self.next_id += 1
        quantity = str(post["quantity"])
        self.orders[self.next_id] = {
            "fields": {"parent": str(post["id"]), "quantity": quantity},
            "status": "Pending",
            "charge": "0.1000",
            "start_count": "0",
            "remains": quantity,
        }
        subscription.setdefault("orders", []).append(self.next_id)
        subscription["posts"] = str(int(subscription.get("posts", "0")) + 1)
        return {"order": self.next_id}

    def api(self, fields: dict[str, str]) -> object:
        action = fields.get("action", "")
        self.calls[action] = self.calls.get(action, 0) + 1
        if fields.get("key") != KEY:
            return {"error": "Invalid API key"}
        handler = getattr(self, f"action_{action}", None)
        return handler(fields) if handler else {"error": "Incorrect request"}

    def action_balance(self, fields: dict) -> object:
        if self.modes["balance"] == "error":
            return {"error": "Account suspended"}
        return {"status": "success", "balance": self.balance, "currency": "USD"}

    def action_services(self, fields: dict) -> object:
        if self.modes["services"] == "error":
            return {"error": "Service list unavailable"}
        return self.services

    def action_add(self, fields: dict) -> object:
        mode = self.modes["add"]
        if mode == "error":
            return {"error": "Incorrect link"}
        if mode == "funds":
            return {"error": "Not enough funds on balance"}
        link = fields.get("link") or fields.get("username", "")
        self.sent_links[link] = self.sent_links.get(link, 0) + 1
        if mode != "same_id" or not self.orders:
            self.next_id += 1
        order_id = self.next_id
        self.orders[order_id] = {
            "fields": fields,
            "status": "Pending",
            "charge": "0.1000",
            "start_count": "0",
            "remains": fields.get("quantity", "0"),
        }
        return {"order": order_id}

    def action_status(self, fields: dict) -> object:
        if "orders" in fields:
            ids = [part.strip() for part in fields["orders"].split(",") if part.strip()]
            return {given: self._status(given) for given in ids}
        return self._status(fields.get("order", ""))

    def _status(self, given: str) -> dict:
        order = self.orders.get(int(given)) if given.isdigit() else None
        if order is None:
            return {"error": "Incorrect order ID"}
        status = "Frobnicating" if self.modes["status"] == "unknown_status" else order["status"]
        reply = {k: order[k] for k in ("charge", "start_count", "remains")}
        reply.update(status=status, currency="USD")
        for extra in ("runs", "orders", "posts"):
            if extra in order:
                reply[extra] = order[extra]
        return reply

    def action_refill(self, fields: dict) -> object:
        if self.modes["refill"] == "error":
            return {"error": "Refill is not available for this order"}
        refill_id = len(self.refills) + 1
        self.refills[refill_id] = {"order": fields.get("order"), "status": "Pending"}
        return {"refill": refill_id}

    def action_refill_status(self, fields: dict) -> object:
        refill = self.refills.get(int(fields.get("refill", "0") or 0))
        return {"status": refill["status"]} if refill else {"error": "Refill not found"}

    def action_cancel(self, fields: dict) -> object:
        ids = [p for p in (fields.get("orders") or fields.get("order", "")).split(",") if p]
        if self.modes["cancel"] == "error":
            return [{"order": int(i), "cancel": {"error": "Cancel is not available"}} for i in ids]
        return [{"order": int(i), "cancel": 1} for i in ids]


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, bytes] | None:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {
        k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)
    }
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return method, target, body


def response(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def serve_connection(panel: FakePanel, reader, writer) -> None:  # type: ignore[no-untyped-def]
    try:
        while True:
            try:
                method, target, body = await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                return
            reply = await answer(panel, target, body)
            if reply is None:  # drop the connection without a word
                return
            writer.write(reply)
            await writer.drain()
    finally:
        writer.close()


async def answer(panel: FakePanel, target: str, body: bytes) -> bytes | None:
    path = target.split("?", 1)[0]
    if path == "/_control":
        return response("200 OK", json.dumps(panel.control(json.loads(body))).encode())
    if path == "/_state":
        return response("200 OK", json.dumps(panel.state()).encode())
    if path == "/_order":
        return response("200 OK", json.dumps(panel.set_order(json.loads(body))).encode())
    if path == "/_post":
        return response("200 OK", json.dumps(panel.new_post(json.loads(body))).encode())
    fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    mode = panel.modes.get(fields.get("action", ""), "ok")
    if panel.delay:
        await asyncio.sleep(panel.delay)
    misbehaviour = {
        "html": lambda: response("200 OK", b"<html><body>Maintenance</body></html>", "text/html"),
        "garbage": lambda: response("200 OK", b"\x00\xffnot json{"),
        "empty": lambda: response("200 OK", b""),
        "http500": lambda: response("500 Internal Server Error", b"oops", "text/plain"),
        "busy": lambda: response("503 Service Unavailable", BUSY),
    }
    if mode == "drop":
        panel.api(fields)  # the upstream did the work, the answer is lost
        return None
    if mode == "slow":
        panel.api(fields)
        await asyncio.sleep(3600)
    if mode in misbehaviour:
        panel.api(fields)
        return misbehaviour[mode]()
    return response("200 OK", json.dumps(panel.api(fields)).encode())


async def main(port: int) -> None:
    panel = FakePanel()
    server = await asyncio.start_server(
        lambda r, w: serve_connection(panel, r, w), "127.0.0.1", port, backlog=1024
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
