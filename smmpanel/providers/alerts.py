"""Operator alerts about providers: short of funds (the upstream says so, or the balance the
worker checked is below the provider's threshold), and syncs or sends that keep failing.

Each is queued in the caller's write transaction through the outbox, at most once a day per
provider and kind (the dedup key holds the day).
"""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.money import render_balance
from smmpanel.outbox.queue import queue_alert
from smmpanel.panel.service import get_settings as get_panel_settings
from smmpanel.providers.models import providers

FAILURES_TO_ALERT = 5
SYNC = "sync"
FORWARDING = "forwarding"
# What failed, in the alert's language (the panel's default, as queue_alert renders it).
WHAT_FAILED = {
    SYNC: {"en": "the catalogue sync", "zh_TW": "同步服務目錄"},
    FORWARDING: {"en": "sending orders", "zh_TW": "送出訂單"},
}
ERROR_IN_ALERT = 300


def _day_key(provider_id: int, now: datetime) -> str:
    return f"{provider_id}:{now.date().isoformat()}"


async def alert_short_of_funds(conn: AsyncConnection, provider_id: int, now: datetime) -> None:
    """At most once a day per provider: it asks again every pause while it stays short."""
    provider = (
        await conn.execute(
            select(providers.c.name, providers.c.balance, providers.c.balance_currency).where(
                providers.c.id == provider_id
            )
        )
    ).one()
    balance = "unknown"
    if provider.balance is not None:
        balance = f"{render_balance(provider.balance)} {provider.balance_currency or ''}".strip()
    await queue_alert(
        conn,
        kind="provider_funds",
        dedup_key=_day_key(provider_id, now),
        context={"provider": provider.name, "balance": balance},
    )


async def alert_if_below_threshold(conn: AsyncConnection, provider_id: int, now: datetime) -> None:
    """After a balance check: the funds alert when the balance is below the provider's
    threshold (none set: never)."""
    row = (
        await conn.execute(
            select(providers.c.balance, providers.c.balance_alert_below).where(
                providers.c.id == provider_id
            )
        )
    ).one()
    threshold = row.balance_alert_below
    if threshold is not None and row.balance is not None and row.balance < threshold:
        await alert_short_of_funds(conn, provider_id, now)


async def count_failure(
    conn: AsyncConnection, provider_id: int, what: str, error: str, now: datetime
) -> None:
    """One more failure in a row; from FAILURES_TO_ALERT on, the failures alert (once a day)."""
    failures = await conn.scalar(
        update(providers)
        .where(providers.c.id == provider_id)
        .values(failures_in_a_row=providers.c.failures_in_a_row + 1)
        .returning(providers.c.failures_in_a_row)
    )
    if failures is None or failures < FAILURES_TO_ALERT:
        return
    name = await conn.scalar(select(providers.c.name).where(providers.c.id == provider_id))
    language = (await get_panel_settings(conn)).default_language
    labels = WHAT_FAILED[what]
    await queue_alert(
        conn,
        kind="provider_failures",
        dedup_key=_day_key(provider_id, now),
        context={
            "provider": str(name),
            "what": labels.get(language, labels["en"]),
            "error": error[:ERROR_IN_ALERT],
        },
    )


async def count_success(conn: AsyncConnection, provider_id: int) -> None:
    """The provider answered: its run of failures ends."""
    await conn.execute(
        update(providers)
        .where(providers.c.id == provider_id, providers.c.failures_in_a_row != 0)
        .values(failures_in_a_row=0)
    )


async def balance_threshold(conn: AsyncConnection, provider_id: int) -> int | None:
    """The balance (micros of the provider's currency) below which its funds alert goes out."""
    return await conn.scalar(
        select(providers.c.balance_alert_below).where(providers.c.id == provider_id)
    )


async def set_balance_threshold(
    conn: AsyncConnection, provider_id: int, micros: int | None
) -> None:
    await conn.execute(
        update(providers).where(providers.c.id == provider_id).values(balance_alert_below=micros)
    )
