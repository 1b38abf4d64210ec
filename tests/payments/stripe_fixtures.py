"""localstripe, a stateful fake of Stripe's API, on a free loopback port; and an inbox on
another for the signed webhook events it sends.

localstripe (1.15) has no Checkout Sessions: POST /v1/checkout/sessions answers a plain-text
404. Run as a script, this module serves localstripe's own application with them added, as
Stripe's API reference shows them (https://docs.stripe.com/api/checkout/sessions): created
from the parameters the panel sends (others refused, as Stripe refuses unknown ones),
retrieved, expired. The session's `url` is a hosted page this server shows (the amount and a
Pay button that completes the session, as Stripe's page does, and sends the browser to its
success_url); a route of its own completes a session without a browser. The rest is
localstripe's: API keys, form decoding, error replies, events and their signatures.
Its store stays in memory: localstripe would otherwise write /tmp/localstripe.pickle at every
change, one file for every run on the machine.

A test module imports the fixtures it uses from here.
"""

import html
import json
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NoReturn

import httpx
import pytest
import stripe

SECRET_KEY = "sk_test_panel"  # localstripe takes any key starting with sk_
WEBHOOK_SECRET = "whsec_test_panel"
SESSION_EVENTS = ("checkout.session.completed", "checkout.session.expired")
HOSTED_PAGE = "/_checkout/pay/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class LocalStripe:
    url: str

    def client(self) -> stripe.StripeClient:
        return stripe.StripeClient(SECRET_KEY, base_addresses={"api": self.url})

    def session(self, session_id: str) -> dict[str, Any]:
        """The Checkout Session as Stripe's library retrieves it."""
        return self.client().v1.checkout.sessions.retrieve(session_id).to_dict()

    def pay(self, session_id: str, payment_status: str = "paid") -> dict[str, Any]:
        """The customer finishes the hosted page: `paid`, or `unpaid` for a method whose
        result comes later."""
        reply = httpx.post(
            f"{self.url}/_checkout/sessions/{session_id}/complete",
            data={"payment_status": payment_status},
            headers={"Authorization": f"Bearer {SECRET_KEY}"},
            timeout=10,
        )
        reply.raise_for_status()
        return dict(reply.json())

    def expire(self, session_id: str) -> dict[str, Any]:
        return self.client().v1.checkout.sessions.expire(session_id).to_dict()


@dataclass(frozen=True)
class Delivered:
    body: bytes
    headers: Mapping[str, str]  # lower-case names


class WebhookInbox:
    """Where localstripe posts its webhook events."""

    def __init__(self, url: str, arrived: "queue.Queue[Delivered]") -> None:
        self.url = url
        self.arrived = arrived

    def about(self, session_id: str, timeout: float = 30.0) -> Delivered:
        """The next event about the session; events of other tests' sessions are passed over."""
        deadline = time.monotonic() + timeout
        while True:
            delivered = self.arrived.get(timeout=max(0.0, deadline - time.monotonic()))
            if json.loads(delivered.body)["data"]["object"]["id"] == session_id:
                return delivered


@contextmanager
def loopback_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 in a thread; its address."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))


def answering(status: int, body: bytes) -> "AbstractContextManager[str]":
    """A server that answers every POST with `status` and `body`, whatever it was asked."""

    class Answer(_Quiet):
        def do_POST(self) -> None:
            self._read_body()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return loopback_server(Answer)


def _wait_until_answering(process: subprocess.Popen, url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited with {process.returncode}")
        try:
            httpx.get(f"{url}/v1/balance", headers={"Authorization": f"Bearer {SECRET_KEY}"})
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("localstripe did not answer in time")


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = LocalStripe(f"http://127.0.0.1:{port}")
    try:
        _wait_until_answering(process, server.url)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def stripe_webhooks(localstripe: LocalStripe) -> Iterator[WebhookInbox]:
    """Where localstripe sends the Checkout Session events, signed with WEBHOOK_SECRET."""
    arrived: queue.Queue[Delivered] = queue.Queue()

    class Keep(_Quiet):
        def do_POST(self) -> None:
            headers = {name.lower(): value for name, value in self.headers.items()}
            arrived.put(Delivered(self._read_body(), headers))
            self.send_response(200)
            self.end_headers()

    with loopback_server(Keep) as url:
        inbox = WebhookInbox(url, arrived)
        httpx.post(
            f"{localstripe.url}/_config/webhooks/panel",
            json={"url": url, "secret": WEBHOOK_SECRET, "events": list(SESSION_EVENTS)},
            timeout=10,
        ).raise_for_status()
        yield inbox


def serve(port: int) -> None:
    """localstripe with Checkout Sessions and their hosted pages, on 127.0.0.1 only."""
    from aiohttp import web
    from babel.numbers import format_currency, get_currency_precision
    from localstripe import resources, server
    from localstripe.errors import UserError
    from localstripe.webhooks import schedule_webhook

    resources.Store.dump_to_disk = lambda self: None

    class CheckoutSession(resources.StripeObject):
        object = "checkout.session"
        _id_prefix = "cs_test_"

        def __init__(
            self,
            mode: Any = None,
            line_items: Any = None,
            success_url: Any = None,
            cancel_url: Any = None,
            client_reference_id: Any = None,
            metadata: Any = None,
            **unknown: Any,
        ) -> None:
            if unknown:
                raise UserError(400, "Received unknown parameter: " + ", ".join(unknown))
            currency, amount = _checked_line_items(line_items)
            if mode != "payment" or not str(success_url).startswith("http"):
                raise UserError(400, "Bad request")
            super().__init__()
            self.mode = mode
            self.success_url = success_url
            self.cancel_url = cancel_url
            self.client_reference_id = client_reference_id
            self.metadata = metadata or {}
            self.currency = currency
            self.amount_subtotal = self.amount_total = amount
            self.status = "open"
            self.payment_status = "unpaid"
            self.payment_intent = None
            self.url = f"http://127.0.0.1:{port}{HOSTED_PAGE}{self.id}"
            self.expires_at = self.created + 24 * 3600

        @classmethod
        def _api_complete(cls, id: str, payment_status: str = "paid") -> "CheckoutSession":
            session = cls._api_retrieve(id)
            if session.status != "open" or payment_status not in ("paid", "unpaid"):
                raise UserError(400, "Bad request")
            intent = resources.PaymentIntent(amount=session.amount_total, currency=session.currency)
            session.status, session.payment_status = "complete", payment_status
            session.payment_intent = intent.id
            schedule_webhook(resources.Event("checkout.session.completed", session))
            return session

        @classmethod
        def _api_expire(cls, id: str) -> "CheckoutSession":
            session = cls._api_retrieve(id)
            if session.status != "open":
                raise UserError(400, "Only open Checkout Sessions can be expired")
            session.status = "expired"
            schedule_webhook(resources.Event("checkout.session.expired", session))
            return session

    def _checked_line_items(line_items: Any) -> tuple[str, int]:
        try:
            (item,) = line_items
            price = item["price_data"]
            quantity = int(item["quantity"])
            amount = int(price["unit_amount"])
            currency = price["currency"]
            assert quantity >= 1 and amount >= 0 and price["product_data"]["name"]
            assert len(currency) == 3 and currency.isalpha() and currency.islower()
        except (AssertionError, KeyError, TypeError, ValueError):
            raise UserError(400, "Bad request") from None
        return currency, amount * quantity

    def _shown_amount(session: CheckoutSession) -> str:
        code = session.currency.upper()
        units = session.amount_total / 10 ** get_currency_precision(code)
        return format_currency(units, code, locale="en_US")

    async def hosted_page(request: web.Request) -> web.Response:
        session = CheckoutSession._api_retrieve(request.match_info["id"])
        if session.status != "open":
            return web.Response(status=410, text=f"This checkout session is {session.status}.")
        back = session.cancel_url and f'<a href="{html.escape(session.cancel_url)}">Back</a>'
        page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Stripe test checkout</title></head><body>
<h1>Stripe test checkout</h1>
<p>Amount due: <strong id="amount-due">{html.escape(_shown_amount(session))}</strong></p>
<form method="post"><button type="submit">Pay</button></form>
<p>{back or ""}</p>
</body></html>"""
        return web.Response(text=page, content_type="text/html")

    async def hosted_page_paid(request: web.Request) -> NoReturn:
        session = CheckoutSession._api_complete(request.match_info["id"])
        # Stripe puts the session's id in place of this template variable: see
        # https://docs.stripe.com/payments/checkout/custom-success-page
        raise web.HTTPSeeOther(session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id))

    @web.middleware
    async def hosted_page_needs_no_key(request: web.Request, handler: Any) -> web.StreamResponse:
        """The customer's browser opens the hosted page without the API key localstripe's
        authentication wants of every other request."""
        if request.path.startswith(HOSTED_PAGE):
            return await request.match_info.handler(request)
        return await handler(request)

    sessions = "/v1/checkout/sessions"
    routes = (
        ("POST", sessions, server.api_create(CheckoutSession, sessions)),
        ("GET", sessions + "/{id}", server.api_retrieve(CheckoutSession, sessions)),
        ("POST", sessions + "/{id}/expire", server.api_extra(CheckoutSession._api_expire, "")),
        (
            "POST",
            "/_checkout/sessions/{id}/complete",
            server.api_extra(CheckoutSession._api_complete, ""),
        ),
        ("GET", HOSTED_PAGE + "{id}", hosted_page),
        ("POST", HOSTED_PAGE + "{id}", hosted_page_paid),
    )
    for method, path, handler in routes:
        server.app.router.add_route(method, path, handler)
    # After localstripe's error_middleware (its UserError replies), before its authentication.
    after_errors = server.app.middlewares.index(server.error_middleware) + 1
    server.app.middlewares.insert(after_errors, hosted_page_needs_no_key)
    web.run_app(server.app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
