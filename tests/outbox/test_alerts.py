"""Operator alerts through a fake Telegram Bot API on loopback: one message per event, each sent
once also when two workers send at once, never more a minute than the rate allows."""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from conftest import BOT_TOKEN, CHAT_ID, FakeTelegram
from sqlalchemy import select

from smmpanel.config import Settings
from smmpanel.db import Database
from smmpanel.db.base import utcnow
from smmpanel.outbox.channels import configured_senders
from smmpanel.outbox.models import FAILED, SENT, TELEGRAM, outbox
from smmpanel.outbox.queue import queue_alert
from smmpanel.outbox.sending import RetryPolicy, send_due


def policy(per_minute: int = 20) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=1, first_wait=timedelta(seconds=5), alerts_per_minute=per_minute
    )


async def queue_doubts(db: Database, order_ids: range) -> list[bool]:
    async with db.write() as conn:
        return [
            await queue_alert(
                conn,
                kind="order_doubt",
                dedup_key=str(order_id),
                context={
                    "order_id": str(order_id),
                    "url": f"https://p.example/admin/orders/{order_id}",
                },
            )
            for order_id in order_ids
        ]


async def drain(
    db: Database,
    settings: Settings,
    rate: RetryPolicy,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    tried = 0
    while done := await send_due(db, configured_senders(settings), rate, clock=clock):
        tried += done
    return tried


def order_ids_told(telegram: FakeTelegram) -> list[str]:
    return sorted(payload["text"].split("#")[1].split(" ")[0] for payload in telegram.received)


async def test_each_alert_is_sent_once_also_by_two_workers_at_once(
    outbox_db: Database,
    second_worker_db: Database,
    telegram: FakeTelegram,
    alert_settings: Callable[..., Settings],
) -> None:
    assert await queue_doubts(outbox_db, range(1, 13)) == [True] * 12
    assert await queue_doubts(outbox_db, range(1, 13)) == [False] * 12  # the same events again
    settings = alert_settings()

    await asyncio.gather(
        drain(outbox_db, settings, policy()), drain(second_worker_db, settings, policy())
    )

    assert order_ids_told(telegram) == sorted(str(number) for number in range(1, 13))
    assert {payload["chat_id"] for payload in telegram.received} == {CHAT_ID}
    assert "Order #1 in doubt" in [p["text"] for p in telegram.received if "#1 " in p["text"]][0]
    async with outbox_db.read() as conn:
        statuses = set(
            await conn.scalars(select(outbox.c.status).where(outbox.c.channel == TELEGRAM))
        )
    assert statuses == {SENT}


async def test_alerts_wait_for_their_turn_under_the_rate(
    outbox_db: Database,
    second_worker_db: Database,
    telegram: FakeTelegram,
    alert_settings: Callable[..., Settings],
) -> None:
    await queue_doubts(outbox_db, range(1, 8))
    settings = alert_settings()
    now = utcnow()

    await asyncio.gather(
        drain(outbox_db, settings, policy(3), lambda: now),
        drain(second_worker_db, settings, policy(3), lambda: now),
    )
    assert len(telegram.received) == 3

    await drain(outbox_db, settings, policy(3), lambda: now + timedelta(seconds=59))
    assert len(telegram.received) == 3
    await drain(outbox_db, settings, policy(3), lambda: now + timedelta(seconds=61))
    assert len(telegram.received) == 6
    await drain(outbox_db, settings, policy(3), lambda: now + timedelta(seconds=122))
    assert order_ids_told(telegram) == [str(number) for number in range(1, 8)]


async def test_alerts_go_by_email_too_when_an_address_is_set(
    outbox_db: Database,
    telegram: FakeTelegram,
    alert_settings: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from smmpanel.config import get_settings

    monkeypatch.setenv("SMMPANEL_ALERT_EMAIL", "ops@example.com, owner@example.com")
    get_settings.cache_clear()
    await queue_doubts(outbox_db, range(5, 6))
    async with outbox_db.read() as conn:
        stored = list(
            await conn.execute(select(outbox.c.channel, outbox.c.recipient, outbox.c.alert))
        )
    assert sorted(stored) == [
        ("email", "ops@example.com, owner@example.com", True),
        ("telegram", CHAT_ID, True),
    ]


async def test_nothing_is_stored_when_no_alert_channel_is_set_up(outbox_db: Database) -> None:
    from smmpanel.config import get_settings

    get_settings.cache_clear()
    assert not get_settings().telegram_configured and not get_settings().alert_addresses
    assert await queue_doubts(outbox_db, range(1, 2)) == [False]


async def test_a_refused_token_fails_the_alert_without_showing_the_token(
    outbox_db: Database, telegram: FakeTelegram, alert_settings: Callable[..., Settings]
) -> None:
    await queue_doubts(outbox_db, range(1, 2))
    wrong = alert_settings(telegram_bot_token="999:wrong-token")

    await drain(outbox_db, wrong, policy())

    async with outbox_db.read() as conn:
        (row,) = await conn.execute(select(outbox.c.status, outbox.c.last_error))
    assert row.status == FAILED
    assert "HTTP 401: Unauthorized" in row.last_error
    assert "wrong-token" not in row.last_error and BOT_TOKEN not in row.last_error
    assert telegram.received == []
