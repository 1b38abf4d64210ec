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
# Every status an order or a subscription can show, each once, for lists and filters.
ALL_STATUSES = tuple(dict.fromkeys(ORDER_STATUSES + SUBSCRIPTION_STATUSES))
SUBSCRIPTION_FINISHED = frozenset({COMPLETED, EXPIRED, CANCELED})
# A subscription ends (and refunds its posts not delivered) as Completed or Expired.
SUBSCRIPTION_ENDED = frozenset({COMPLETED, EXPIRED})
ALL_FINISHED = FINISHED | SUBSCRIPTION_FINISHED

# A finished order may only move to a status that refunds more, never back.
ALLOWED_AFTER_FINISH = {
    COMPLETED: frozenset({PARTIAL, CANCELED}),
    PARTIAL: frozenset({CANCELED}),
    EXPIRED: frozenset({CANCELED}),
    CANCELED: frozenset(),
}

REFILL_PENDING = "Pending"
REFILL_REJECTED = "Rejected"
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
    if status == PARTIAL or (is_subscription and status in SUBSCRIPTION_ENDED):
        return REFUND_PRO_RATA
    return None


def is_finished(status: str) -> bool:
    return status in ALL_FINISHED


# Where an order stands with its upstream provider (NULL: fulfilled by hand).
FORWARD_QUEUED = "queued"  # due to be sent at next_action_at
FORWARD_SENDING = "sending"  # claimed by a worker, the call may be in flight
FORWARD_SENT = "sent"  # the upstream took it; polled at next_action_at
FORWARD_IN_DOUBT = "in_doubt"  # no answer: the operator decides, nothing is re-sent alone
FORWARD_REJECTED = "rejected"  # the upstream refused it: canceled and refunded
FORWARD_WITHDRAWN = "withdrawn"  # in doubt, the operator chose to cancel and refund it
FORWARD_DRIPFEED = "dripfeed"  # runs placed here as child orders, one per interval
FORWARD_DRIPFEED_PLACED = "dripfeed_placed"  # every run placed; waits for the children
