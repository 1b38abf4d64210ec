"""What the Cryptomus tests share: the fake Cryptomus (tests/fakes/cryptomus.py) in its own
process, the method settings that point at it, signed webhooks as Cryptomus sends them, and a
receiver of the webhooks the fake posts.

A test module imports the fixtures it uses, and those they depend on, from here.
"""

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import harness
import httpx
import pytest
import pytest_asyncio
from fakes.cryptomus import MERCHANT, PAYMENT_KEY, webhook_body, webhook_fields

from smmpanel.payments.gateways import Links, Received, Starting

FAKE_CRYPTOMUS = Path(__file__).resolve().parents[1] / "fakes" / "cryptomus.py"


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class FakeCryptomus:
    """tests/fakes/cryptomus.py in its own process on a free port."""

    def __init__(self) -> None:
        self.port = harness.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, str(FAKE_CRYPTOMUS), "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_until(self._answers, 15, "the fake Cryptomus to start")

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            output = self.process.stderr.read().decode() if self.process.stderr else ""
            raise RuntimeError(f"fake Cryptomus exited: {output}")
        try:
            httpx.get(f"{self.url}/_state", timeout=1)
        except httpx.HTTPError:
            return False
        return True

    def settings(self, **changes: str) -> dict[str, str]:
        """A Cryptomus method's settings, pointing at this fake."""
        return {"merchant": MERCHANT, "payment_key": PAYMENT_KEY, "base_url": self.url} | changes

    def misbehave(self, mode: str) -> None:
        httpx.post(f"{self.url}/_control", json={"mode": mode}, timeout=5).raise_for_status()

    def state(self) -> dict:
        return httpx.get(f"{self.url}/_state", timeout=5).json()

    def invoice(self, order_id: str) -> dict:
        return self.state()["invoices"][order_id]

    async def notify(self, order_id: str, **change: str) -> dict:
        """Make the fake post the invoice's webhook to its url_callback (async: the receiver
        may be served by this test's own event loop)."""
        async with httpx.AsyncClient() as client:
            reply = await client.post(
                f"{self.url}/_notify", json={"order_id": order_id, **change}, timeout=60
            )
        reply.raise_for_status()
        return reply.json()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class WebhookReceiver:
    """A plain HTTP server on loopback that keeps each request it gets and answers 200 "ok"."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.url = ""
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/payments/cryptomus/notify"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")[1:]
            headers = {
                name.strip().lower(): value.strip()
                for name, value in (line.split(":", 1) for line in lines if ":" in line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.received.append(Received(body, headers))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        finally:
            writer.close()


def starting(payment_id: int = 7, amount: int = 12_500_000, currency: str = "USD") -> Starting:
    return Starting(payment_id, amount, currency, "Balance top-up", datetime.now(UTC))


def links(notify: str = "https://panel.example/payments/cryptomus/notify") -> Links:
    return Links(
        notify=notify,
        info="https://panel.example/payments/cryptomus/info",
        back="https://panel.example/funds/payments/7",
    )


def received(body: bytes) -> Received:
    return Received(body, {"content-type": "application/json"})


def signed_webhook(
    order_id: str,
    amount: str,
    currency: str,
    status: str = "paid",
    *,
    key: str = PAYMENT_KEY,
    **payer: str,
) -> Received:
    """A payment webhook as Cryptomus posts it, signed with `key`; `payer` sets what was paid
    (payment_amount, payer_currency, payer_amount)."""
    return received(webhook_body(webhook_fields(order_id, amount, currency, status, **payer), key))


@pytest.fixture(scope="session")
def shared_cryptomus() -> Iterator[FakeCryptomus]:
    fake = FakeCryptomus()
    yield fake
    fake.stop()


@pytest.fixture
def cryptomus_fake(shared_cryptomus: FakeCryptomus) -> FakeCryptomus:
    """The session's fake Cryptomus, behaving again for this test."""
    shared_cryptomus.misbehave("ok")
    return shared_cryptomus


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest_asyncio.fixture
async def webhook_receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()
