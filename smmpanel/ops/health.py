"""GET /healthz: the process answers, the database answers, and its schema is this code's."""

import asyncio
import logging
from dataclasses import dataclass

from smmpanel.db import Database
from smmpanel.db.migrate import database_revision, head_revision, is_known_revision

log = logging.getLogger("smmpanel.ops")

# A load balancer calls often and waits little: a database slower than this counts as down.
HEALTH_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Health:
    healthy: bool
    report: dict[str, str]


async def check_health(db: Database) -> Health:
    """One small read: the migration version, which answers both questions."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS), db.read() as conn:
            revision = await database_revision(conn)
    except Exception as error:  # whatever the driver raises, the database is not usable
        log.warning("health check: database unreachable", extra={"why": str(error)[:500]})
        return Health(
            False, {"status": "error", "database": "unreachable", "migrations": "unknown"}
        )
    head = head_revision()
    if revision == head:
        return Health(True, {"status": "ok", "database": "ok", "migrations": "current"})
    return Health(
        False,
        {
            "status": "error",
            "database": "ok",
            "migrations": _migrations_state(revision),
            "database_revision": revision or "none",
            "code_revision": head,
        },
    )


def _migrations_state(revision: str | None) -> str:
    """`behind`: run `smmpanel migrate`; `ahead`: newer code migrated it, upgrade this one."""
    if revision is None or is_known_revision(revision):
        return "behind"
    return "ahead"
