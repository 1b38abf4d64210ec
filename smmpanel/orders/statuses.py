"""Order statuses as the API spells them, and what each does to the money."""

PENDING = "Pending"
IN_PROGRESS = "In progress"
PROCESSING = "Processing"
COMPLETED = "Completed"
PARTIAL = "Partial"
CANCELED = "Canceled"

ORDER_STATUSES = (PENDING, IN_PROGRESS, PROCESSING, COMPLETED, PARTIAL, CANCELED)
FINISHED = frozenset({COMPLETED, PARTIAL, CANCELED})

# Subscriptions (the type) have their own life cycle.
SUBSCRIPTIONS = "Subscriptions"
ACTIVE = "Active"
PAUSED = "Paused"
EXPIRED = "Expired"
SUBSCRIPTION_STATUSES = (ACTIVE, PAUSED, COMPLETED, EXPIRED, CANCELED)
SUBSCRIPTION_FINISHED = frozenset({COMPLETED, EXPIRED, CANCELED})

# A finished order may only move to a status that refunds more, never back.
ALLOWED_AFTER_FINISH = {
    COMPLETED: frozenset({PARTIAL, CANCELED}),
    PARTIAL: frozenset({CANCELED}),
    EXPIRED: frozenset({CANCELED}),
    CANCELED: frozenset(),
}

REFILL_PENDING = "Pending"
REFILL_STATUSES = ("Pending", "In progress", "Completed", "Rejected")
REFILL_OPEN = frozenset({"Pending", "In progress"})

CANCEL_PENDING = "Pending"
CANCEL_ACCEPTED = "Accepted"
CANCEL_REJECTED = "Rejected"

REFUND_PRO_RATA = "refund:partial"
REFUND_REST = "refund:cancel"


def refund_cause(status: str, is_subscription: bool) -> str | None:
    """Which refund a move to `status` makes: pro rata of remains, the whole rest, or none."""
    if status == CANCELED:
        return REFUND_REST
    if status == PARTIAL or (is_subscription and status in (COMPLETED, EXPIRED)):
        return REFUND_PRO_RATA
    return None


def is_finished(status: str) -> bool:
    return status in FINISHED or status == EXPIRED
