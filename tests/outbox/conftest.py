"""Fixtures of the outbox tests: a database of each test's own (the worker's claim takes every
due message, so no other test's may be in it), a real SMTP server and a fake Telegram Bot API,
both on loopback in the test process."""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from harness import drop_postgres_database, free_port, migrated

from smmpanel.config import Settings, get_settings
from smmpanel.db import Database

BOT_TOKEN = "123456:test-token"
CHAT_ID = "-100200300"


@pytest_asyncio.fixture
async def outbox_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    url = await migrated(backend, tmp_path)
    yield url
    if backend == "postgresql":
        await drop_postgres_database(url)


@pytest_asyncio.fixture
async def outbox_db(outbox_url: str) -> AsyncIterator[Database]:
    database = Database(outbox_url, pool_size=4)
    yield database
    await database.dispose()


@pytest_asyncio.fixture
async def second_worker_db(outbox_url: str) -> AsyncIterator[Database]:
    """A second pool on the same database: a second worker process would have its own."""
    database = Database(outbox_url, pool_size=4)
    yield database
    await database.dispose()


@dataclass
class MailCatcher:
    """aiosmtpd's handler: keeps each message, or answers `refusal` (a 5xx line) to DATA."""

    messages: list[EmailMessage] = field(default_factory=list)
    refusal: str | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refusal:
            return self.refusal
        assert isinstance(envelope.content, bytes)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    port: int
    catcher: MailCatcher
    controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?starttls=false"

    def start(self) -> None:
        self.controller = Controller(self.catcher, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """Not started: a test starts it, so that it can first find the port closed."""
    server = SmtpServer(free_port(), MailCatcher())
    yield server
    server.stop()


@dataclass
class FakeTelegram:
    url: str
    received: list[dict[str, Any]]


@pytest_asyncio.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    received: list[dict[str, Any]] = []

    async def send_message(request: web.Request) -> web.Response:
        if request.match_info["token"] != BOT_TOKEN:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        payload = await request.json()
        await asyncio.sleep(0.01)  # a round trip long enough for two senders to overlap
        received.append(payload)
        return web.json_response({"ok": True, "result": {"message_id": len(received)}})

    app = web.Application()
    app.router.add_post("/bot{token}/sendMessage", send_message)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield FakeTelegram(f"http://127.0.0.1:{port}", received)
    await runner.cleanup()


@pytest.fixture
def alert_settings(
    monkeypatch: pytest.MonkeyPatch, telegram: FakeTelegram
) -> Iterator[Callable[..., Settings]]:
    """This process's settings send alerts to the fake Telegram (queue_alert reads them)."""
    monkeypatch.setenv("SMMPANEL_TELEGRAM_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SMMPANEL_TELEGRAM_CHAT_ID", CHAT_ID)
    monkeypatch.setenv("SMMPANEL_TELEGRAM_API_URL", telegram.url)
    get_settings.cache_clear()
    yield lambda **more: Settings(**more)
    get_settings.cache_clear()
