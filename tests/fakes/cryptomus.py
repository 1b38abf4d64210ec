"""A fake Cryptomus speaking its invoice API over plain asyncio HTTP, able to misbehave on
purpose, and the webhooks it sends, signed as Cryptomus signs them.

Run: python tests/fakes/cryptomus.py --port P. It keeps its invoices in memory.
POST /v1/payment creates an invoice (https://doc.cryptomus.com/business/payments/creating-invoice)
when the `merchant` header is MERCHANT and `sign` is md5(base64(body) . PAYMENT_KEY), the body
encoded as PHP's json_encode does (slashes escaped): otherwise HTTP 401 {"message":"Invalid
Sign."}, Cryptomus's answer. An order_id it knows answers that invoice again, as Cryptomus does.
GET /pay/UUID is the invoice's page: its amount and a Pay button. Pressing it (POST /pay/UUID)
sends the invoice's webhook with status "paid", as /_notify does, and sends the browser on to
the invoice's url_success, or its url_return if it has none (an invoice already final: 409).
POST /_control {"mode": MODE} makes POST /v1/payment misbehave; MODE is one of ok, slow,
garbage, html, http500, drop, refuse (HTTP 422 with validation errors), no_url (an answer
without the page).
GET /_state returns {"invoices": {order_id: invoice}, "calls": n}; an invoice keeps the
request as sent ("request": {"body", "merchant", "sign"}).
POST /_notify {"order_id": .., "status": .., "payment_amount": .., "payer_currency": ..,
"payer_amount": ..} sends the invoice's webhook to its url_callback and returns
{"status", "body"} of the answer and the webhook "sent".
"""

import argparse
import asyncio
import base64
import hashlib
import html
import json
import secrets
import time
import uuid
from decimal import Decimal

import httpx

MERCHANT = "5c0f6d3e-8a41-4f2b-9d7e-1b2c3d4e5f60"
PAYMENT_KEY = "cryptomus-test-payment-key-0123456789"
INVALID_SIGN = {"message": "Invalid Sign."}
FINAL_STATUSES = {"paid", "paid_over", "wrong_amount", "fail", "cancel", "system_fail"}
COMMISSION = Decimal("0.02")


def php_encode(value: object, *, escape_unicode: bool = True) -> str:
    """As PHP's json_encode: compact, `/` as `\\/`, unicode as \\uXXXX unless
    escape_unicode is False (JSON_UNESCAPED_UNICODE, which still escapes U+2028 and U+2029)."""
    text = json.dumps(value, ensure_ascii=escape_unicode, separators=(",", ":"))
    text = text.replace("/", "\\/")
    if not escape_unicode:
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text


def md5_sign(text: str, key: str) -> str:
    return hashlib.md5(base64.b64encode(text.encode()) + key.encode()).hexdigest()


def webhook_body(fields: dict, key: str = PAYMENT_KEY, *, escape_unicode: bool = False) -> bytes:
    """A webhook as Cryptomus posts it: `fields` and their sign, made of the fields encoded
    with unicode unescaped (as its documentation verifies) unless `escape_unicode`."""
    signed = md5_sign(php_encode(fields, escape_unicode=escape_unicode), key)
    return php_encode({**fields, "sign": signed}).encode()


def eight(amount: object) -> str:
    """An amount as Cryptomus writes it, with 8 decimals."""
    return f"{Decimal(str(amount)):.8f}"


def webhook_fields(
    order_id: str,
    amount: str,
    currency: str,
    status: str = "paid",
    *,
    payment_amount: str | None = None,
    payer_currency: str | None = None,
    payer_amount: str | None = None,
) -> dict:
    """A payment webhook's fields in Cryptomus's order; the payer pays `payer_amount` of
    `payer_currency` (by default the invoice's own) for the invoice."""
    payer_amount = payer_amount or amount
    paid = Decimal(payment_amount or payer_amount)
    return {
        "type": "payment",
        "uuid": str(uuid.uuid4()),
        "order_id": order_id,
        "amount": eight(amount),
        "payment_amount": eight(paid),
        "payment_amount_usd": f"{paid:.2f}",
        "merchant_amount": eight(paid * (1 - COMMISSION)),
        "commission": eight(paid * COMMISSION),
        "is_final": status in FINAL_STATUSES,
        "status": status,
        "from": "TFakePayerAddress" + secrets.token_hex(8),
        "wallet_address_uuid": None,
        "network": "tron",
        "currency": currency,
        "payer_currency": payer_currency or currency,
        "payer_amount": eight(payer_amount),
        "payer_amount_exchange_rate": None,
        "transfer_id": None,
        "additional_data": None,
        "txid": secrets.token_hex(32),
    }


class FakeCryptomus:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.mode = "ok"
        self.invoices: dict[str, dict] = {}
        self.calls = 0

    def control(self, settings: dict) -> dict:
        self.mode = settings.get("mode", self.mode)
        return {"ok": True}

    def state(self) -> dict:
        return {"invoices": self.invoices, "calls": self.calls}

    def create(self, headers: dict[str, str], body: bytes) -> tuple[str, dict]:
        try:
            fields = json.loads(body)
        except ValueError:
            return "400 Bad Request", {"state": 1, "message": "The body is not JSON."}
        signed = isinstance(fields, dict) and md5_sign(php_encode(fields), PAYMENT_KEY)
        if headers.get("merchant") != MERCHANT or headers.get("sign") != signed:
            return "401 Unauthorized", INVALID_SIGN
        missing = [name for name in ("amount", "currency", "order_id") if not fields.get(name)]
        if missing:
            return "422 Unprocessable Entity", {
                "state": 1,
                "errors": {name: [f"The {name} field is required."] for name in missing},
            }
        order_id = str(fields["order_id"])
        if order_id not in self.invoices:
            self.invoices[order_id] = self._invoice(fields, headers, body)
        return "200 OK", {"state": 0, "result": self._result(self.invoices[order_id])}

    def _invoice(self, fields: dict, headers: dict[str, str], body: bytes) -> dict:
        invoice_uuid = str(uuid.uuid4())
        return {
            **fields,
            "uuid": invoice_uuid,
            "amount": eight(fields["amount"]),
            "url": f"{self.base}/pay/{invoice_uuid}",
            "status": "check",
            "expired_at": int(time.time()) + int(fields.get("lifetime", 3600)),
            "request": {
                "body": body.decode(),
                "merchant": headers.get("merchant"),
                "sign": headers.get("sign"),
            },
        }

    def _result(self, invoice: dict) -> dict:
        shown = ("uuid", "order_id", "amount", "currency", "url", "expired_at", "status")
        return {
            **{name: invoice[name] for name in shown},
            "payment_amount": None,
            "payer_amount": None,
            "payer_currency": None,
            "network": None,
            "address": None,
            "from": None,
            "txid": None,
            "payment_status": invoice["status"],
            "is_final": False,
            "additional_data": None,
        }

    def invoice_by_uuid(self, invoice_uuid: str) -> dict | None:
        for invoice in self.invoices.values():
            if invoice["uuid"] == invoice_uuid:
                return invoice
        return None

    def page(self, invoice: dict) -> bytes:
        due = html.escape(f"{invoice['amount']} {invoice['currency']}")
        return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Cryptomus test invoice</title></head><body>
<h1>Cryptomus test invoice</h1>
<p>Pay <strong id="amount-due">{due}</strong></p>
<form method="post" action="/pay/{html.escape(invoice["uuid"])}">
<button type="submit">Pay</button></form>
</body></html>""".encode()

    async def pay(self, invoice: dict) -> str | None:
        """The customer pays in full: the webhook goes out, then where the browser goes next."""
        await self.notify({"order_id": invoice["order_id"], "status": "paid"})
        return invoice.get("url_success") or invoice.get("url_return")

    async def notify(self, change: dict) -> dict:
        invoice = self.invoices[change.pop("order_id")]
        invoice["status"] = change.get("status", "paid")
        fields = webhook_fields(
            invoice["order_id"], invoice["amount"], invoice["currency"], **change
        )
        body = webhook_body(fields)
        async with httpx.AsyncClient() as client:
            reply = await client.post(
                invoice["url_callback"],
                content=body,
                headers={"content-type": "application/json"},
                timeout=30,
            )
        return {"status": reply.status_code, "body": reply.text, "sent": body.decode()}


async def read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {
        k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)
    }
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return method, target, headers, body


def response(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def see_other(location: str) -> bytes:
    return f"HTTP/1.1 303 See Other\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()


def json_response(status: str, value: object) -> bytes:
    return response(status, json.dumps(value).encode())


async def serve_connection(fake: FakeCryptomus, reader, writer) -> None:  # type: ignore[no-untyped-def]
    try:
        while True:
            try:
                method, target, headers, body = await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                return
            reply = await answer(fake, method, target.split("?", 1)[0], headers, body)
            if reply is None:  # drop the connection without a word
                return
            writer.write(reply)
            await writer.drain()
    finally:
        writer.close()


async def answer(
    fake: FakeCryptomus, method: str, path: str, headers: dict[str, str], body: bytes
) -> bytes | None:
    if path == "/_control":
        return json_response("200 OK", fake.control(json.loads(body)))
    if path == "/_state":
        return json_response("200 OK", fake.state())
    if path == "/_notify":
        return json_response("200 OK", await fake.notify(json.loads(body)))
    if path.startswith("/pay/"):
        return await invoice_page(fake, method, fake.invoice_by_uuid(path.removeprefix("/pay/")))
    if path != "/v1/payment":
        return json_response("404 Not Found", {"state": 1, "message": "Not found."})
    fake.calls += 1
    return await payment_answer(fake, headers, body)


async def invoice_page(fake: FakeCryptomus, method: str, invoice: dict | None) -> bytes:
    if invoice is None:
        return response("404 Not Found", b"no such invoice", "text/plain")
    if method != "POST":
        return response("200 OK", fake.page(invoice), "text/html")
    if invoice["status"] in FINAL_STATUSES:
        return response(
            "409 Conflict", f"This invoice is {invoice['status']}.".encode(), "text/plain"
        )
    onward = await fake.pay(invoice)
    if onward is None:
        return response("200 OK", b"Paid.", "text/plain")
    return see_other(onward)


async def payment_answer(fake: FakeCryptomus, headers: dict[str, str], body: bytes) -> bytes | None:
    """The invoice is created whatever the mode; the misbehaviour loses or spoils the answer."""
    status, reply = fake.create(headers, body)
    if fake.mode == "drop":
        return None
    if fake.mode == "slow":
        await asyncio.sleep(3600)
    spoiled = {
        "garbage": lambda: response("200 OK", b"\x00\xffnot json{"),
        "html": lambda: response("200 OK", b"<html><body>Maintenance</body></html>", "text/html"),
        "http500": lambda: response("500 Internal Server Error", b"oops", "text/plain"),
        "refuse": lambda: json_response(
            "422 Unprocessable Entity",
            {"state": 1, "errors": {"amount": ["The amount must be at least 1."]}},
        ),
        "no_url": lambda: json_response("200 OK", {"state": 0, "result": {"uuid": "x"}}),
    }
    if fake.mode in spoiled:
        return spoiled[fake.mode]()
    return json_response(status, reply)


async def main(port: int) -> None:
    fake = FakeCryptomus(port)
    server = await asyncio.start_server(
        lambda r, w: serve_connection(fake, r, w), "127.0.0.1", port, backlog=1024
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
