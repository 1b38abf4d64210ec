"""The outbox keeps sent messages outbox_keep_days, failed ones three times as long, and pending
ones until they are sent: the worker's prune_outbox job deletes the rest."""

from datetime import timedelta

from sqlalchemy import insert, select

from smmpanel.config import Settings
from smmpanel.db import Database
from smmpanel.db.base import utcnow
from smmpanel.outbox.models import EMAIL, FAILED, PENDING, SENT, outbox
from smmpanel.outbox.retention import BATCH, prune_outbox
from smmpanel.worker.context import WorkerContext
from smmpanel.worker.jobs import JOBS

KEEP = timedelta(days=30)


async def stored(db: Database, status: str, age_days: int, count: int = 1) -> None:
    created = utcnow() - timedelta(days=age_days)
    row = {
        "channel": EMAIL,
        "kind": "verify_email",
        "recipient": "someone@example.com",
        "subject": f"{status} {age_days}",
        "body": "",
        "status": status,
        "next_attempt_at": created,
        "created_at": created,
    }
    async with db.write() as conn:
        await conn.execute(insert(outbox), [row] * count)


async def subjects_left(db: Database) -> list[str]:
    async with db.read() as conn:
        return sorted(set(await conn.scalars(select(outbox.c.subject))))


async def test_sent_go_after_the_kept_days_failed_after_three_times_pending_never(
    outbox_db: Database,
) -> None:
    for status, age in [(SENT, 29), (SENT, 31), (FAILED, 89), (FAILED, 91), (PENDING, 400)]:
        await stored(outbox_db, status, age)

    assert await prune_outbox(outbox_db, utcnow(), KEEP) == 2
    assert await subjects_left(outbox_db) == ["failed 89", "pending 400", "sent 29"]
    assert await prune_outbox(outbox_db, utcnow(), KEEP) == 0


async def test_many_old_messages_go_in_batches(outbox_db: Database) -> None:
    await stored(outbox_db, SENT, 40, count=BATCH + 3)
    await stored(outbox_db, SENT, 1)
    assert await prune_outbox(outbox_db, utcnow(), KEEP) == BATCH + 3
    assert await subjects_left(outbox_db) == ["sent 1"]


async def test_the_worker_job_keeps_the_days_of_the_setting(outbox_db: Database) -> None:
    await stored(outbox_db, SENT, 8)
    await stored(outbox_db, SENT, 6)
    job = next(job for job in JOBS if job.name == "prune_outbox")
    settings = Settings(outbox_keep_days=7)
    context = WorkerContext(db=outbox_db, settings=settings, upstream=None)  # type: ignore[arg-type]
    assert await job.run(context) == 1
    assert await subjects_left(outbox_db) == ["sent 6"]
