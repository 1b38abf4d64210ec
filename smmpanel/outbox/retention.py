"""How long the outbox keeps what it is done with: sent messages `keep` (outbox_keep_days),
failed ones three times as long, as an operator may still be looking into why they failed.
Pending messages are never removed."""

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select

from smmpanel.db import Database
from smmpanel.outbox.models import FAILED, SENT, outbox

FAILED_KEPT_TIMES = 3
BATCH = 500  # rows per write transaction: SQLite has one writer, and the senders wait on it


async def prune_outbox(db: Database, now: datetime, keep: timedelta) -> int:
    """Delete what is past keeping, a batch per transaction; how many were deleted."""
    past_keeping = or_(
        and_(outbox.c.status == SENT, outbox.c.created_at < now - keep),
        and_(outbox.c.status == FAILED, outbox.c.created_at < now - keep * FAILED_KEPT_TIMES),
    )
    deleted = 0
    while True:
        async with db.write() as conn:
            batch = select(outbox.c.id).where(past_keeping).limit(BATCH).scalar_subquery()
            gone = (await conn.execute(delete(outbox).where(outbox.c.id.in_(batch)))).rowcount
        deleted += gone
        if gone < BATCH:
            return deleted
