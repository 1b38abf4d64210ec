"""Upstream status spellings mapped to ours. Unknown ones map to None: logged, never guessed."""

from smmpanel.orders.statuses import (
    ACTIVE,
    CANCELED,
    COMPLETED,
    EXPIRED,
    IN_PROGRESS,
    PARTIAL,
    PAUSED,
    PENDING,
    PROCESSING,
    REFILL_STATUSES,
)

_ORDER_SPELLINGS = {
    "pending": PENDING,
    "in progress": IN_PROGRESS,
    "inprogress": IN_PROGRESS,
    "processing": PROCESSING,
    "completed": COMPLETED,
    "complete": COMPLETED,
    "partial": PARTIAL,
    "partially completed": PARTIAL,
    "canceled": CANCELED,
    "cancelled": CANCELED,
    "refunded": CANCELED,
    "active": ACTIVE,
    "paused": PAUSED,
    "expired": EXPIRED,
}

_REFILL_SPELLINGS = {status.lower(): status for status in REFILL_STATUSES} | {
    "inprogress": "In progress",
    "processing": "In progress",
    "complete": "Completed",
    "canceled": "Rejected",
    "cancelled": "Rejected",
    "error": "Rejected",
}


def _normal(text: object) -> str:
    return " ".join(str(text).replace("_", " ").replace("-", " ").split()).lower()


def order_status(upstream: object) -> str | None:
    return _ORDER_SPELLINGS.get(_normal(upstream))


def refill_status(upstream: object) -> str | None:
    return _REFILL_SPELLINGS.get(_normal(upstream))
