"""The worker's side of the outbox: take the due messages, send them, record how it went.

A message is claimed in a short write that moves its next attempt past a lease and counts the
attempt, so two workers never send it at once and a worker that dies mid-send only delays it.
It is sent outside any transaction, then marked sent, or given a later attempt (each wait twice
the one before) until it has had its attempts and is marked failed, its last error kept.
A channel that is not set up has no sender: its messages wait, pending, until it is.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.config import Settings
from smmpanel.db import Database
from smmpanel.db.base import utcnow
from smmpanel.db.dialect import locked, one_of
from smmpanel.outbox.models import FAILED, PENDING, SENT, outbox

log = logging.getLogger("smmpanel.outbox")

# Longer than any one send may take (the channels time out well before), so a lease ends only
# when its worker is gone.
LEASE = timedelta(minutes=5)
LONGEST_WAIT = timedelta(hours=6)
RATE_WINDOW = timedelta(minutes=1)
# A batch that times out on every message (channels give up after 20 seconds) still ends
# within its lease.
BATCH = 10
ERROR_LENGTH = 1000
# Their body carries a single-use link: it is not kept once the message is done with.
SECRET_KINDS = frozenset({"password_reset", "verify_email"})


@dataclass(frozen=True)
class Message:
    id: int
    channel: str
    kind: str
    recipient: str
    subject: str
    body: str
    # Attempts counted so far, this one included.
    attempts: int


class SendFailed(Exception):
    """A channel could not deliver a message; the text says why, for the operator."""


Sender = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    first_wait: timedelta
    alerts_per_minute: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "RetryPolicy":
        return cls(
            max_attempts=settings.outbox_max_attempts,
            first_wait=timedelta(seconds=settings.outbox_first_retry_seconds),
            alerts_per_minute=settings.alerts_per_minute,
        )

    def wait_after(self, attempts: int) -> timedelta:
        return min(self.first_wait * 2 ** (attempts - 1), LONGEST_WAIT)


async def send_due(
    db: Database,
    senders: Mapping[str, Sender],
    policy: RetryPolicy,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Send a batch of due messages on the channels that have a sender; how many were tried."""
    if not senders:
        return 0
    async with db.write() as conn:
        claimed = await claim_due(conn, list(senders), policy, clock())
    outcomes = [(message, await _attempt(senders[message.channel], message)) for message in claimed]
    if outcomes:
        async with db.write() as conn:
            for message, error in outcomes:
                await record_outcome(conn, message, error, policy, clock())
    return len(claimed)


async def claim_due(
    conn: AsyncConnection, channels: list[str], policy: RetryPolicy, now: datetime
) -> list[Message]:
    """Take up to a batch of due messages on `channels`: alerts only as far as their rate
    allows. Each is leased: its next attempt moved past the lease, the attempt counted."""
    due = (
        select(outbox.c.id)
        .where(
            outbox.c.status == PENDING,
            outbox.c.next_attempt_at <= now,
            one_of(conn, outbox.c.channel, channels),
        )
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(BATCH)
    )
    mail_ids = list(await conn.scalars(locked(conn, due.where(~outbox.c.alert), skip_locked=True)))
    alert_ids = await _alerts_within_rate(conn, due.where(outbox.c.alert), policy, now)
    ids = mail_ids + alert_ids
    if not ids:
        return []
    await conn.execute(
        update(outbox)
        .where(one_of(conn, outbox.c.id, ids))
        .values(attempts=outbox.c.attempts + 1, attempted_at=now, next_attempt_at=now + LEASE)
    )
    rows = await conn.execute(
        select(
            outbox.c.id,
            outbox.c.channel,
            outbox.c.kind,
            outbox.c.recipient,
            outbox.c.subject,
            outbox.c.body,
            outbox.c.attempts,
        )
        .where(one_of(conn, outbox.c.id, ids))
        .order_by(outbox.c.id)
    )
    return [Message(**row._mapping) for row in rows]


async def _alerts_within_rate(
    conn: AsyncConnection, due_alerts: Select[tuple[int]], policy: RetryPolicy, now: datetime
) -> list[int]:
    # The due alerts are locked (waiting for, not skipping, another worker's) before the recent
    # attempts are counted: a second worker counts only once the first has committed its claim.
    due_ids = list(await conn.scalars(locked(conn, due_alerts)))
    if not due_ids:
        return []
    recent = await conn.scalar(
        select(func.count()).where(outbox.c.alert, outbox.c.attempted_at > now - RATE_WINDOW)
    )
    room = max(policy.alerts_per_minute - (recent or 0), 0)
    return due_ids[:room]


async def _attempt(sender: Sender, message: Message) -> str | None:
    """None when sent, else why not."""
    try:
        await sender(message)
    except SendFailed as failed:
        return str(failed) or type(failed).__name__
    except Exception as error:  # a bug in one channel must not strand the batch's leases
        log.exception("sending failed", extra={"outbox_id": message.id})
        return f"{type(error).__name__}: {error}"
    return None


async def record_outcome(
    conn: AsyncConnection, message: Message, error: str | None, policy: RetryPolicy, now: datetime
) -> None:
    """Mark a claimed message sent, or due again later, or failed for good. Only while the
    claim is still this one: a worker whose lease ran out and was taken over changes nothing."""
    if error is None:
        values: dict[str, object] = {"status": SENT, "sent_at": now, "last_error": ""}
    elif message.attempts >= policy.max_attempts:
        values = {"status": FAILED, "last_error": error[:ERROR_LENGTH]}
    else:
        values = {
            "next_attempt_at": now + policy.wait_after(message.attempts),
            "last_error": error[:ERROR_LENGTH],
        }
    if "status" in values and message.kind in SECRET_KINDS:
        values["body"] = ""
    await conn.execute(
        update(outbox)
        .where(
            outbox.c.id == message.id,
            outbox.c.status == PENDING,
            outbox.c.attempts == message.attempts,
        )
        .values(**values)
    )
