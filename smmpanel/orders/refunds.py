"""The refund rule: what an order has had back, in all, once it is in a status.

One rule for the life cycle, which refunds the difference when an order moves, and for the
audit, which checks every order's refunds against it.
"""

from typing import NamedTuple

from smmpanel.money import partial_refund_micros
from smmpanel.orders.statuses import (
    REFUND_PRO_RATA,
    REFUND_REST,
    SUBSCRIPTION_ENDED,
    SUBSCRIPTIONS,
    refund_cause,
)


def order_units(quantity: int, runs: int | None, posts: int | None, is_subscription: bool) -> int:
    """The units an order was charged for."""
    if is_subscription:
        return quantity * posts if posts else 0
    return quantity * (runs or 1)


def undelivered_posts_units(posts: int | None, posts_delivered: int, max_quantity: int) -> int:
    """What an ended subscription left undelivered, in units: the posts paid up front and not
    delivered, each at `max`; nothing for one paid per post."""
    if not posts:
        return 0
    return max(0, posts - posts_delivered) * max_quantity


class Charged(NamedTuple):
    """What an order's refunds depend on: what it was charged for, and what it left undelivered
    (a subscription's post fields are None for other orders)."""

    type: str
    charge: int
    quantity: int
    runs: int | None
    remains: int
    posts: int | None
    posts_delivered: int | None
    max_quantity: int | None

    @property
    def is_subscription(self) -> bool:
        return self.type == SUBSCRIPTIONS

    @property
    def units(self) -> int:
        return order_units(self.quantity, self.runs, self.posts, self.is_subscription)

    def undelivered(self, status: str) -> int:
        """The units not delivered once in `status`: an ended subscription's posts not
        delivered (Completed, Expired), else the remains."""
        if self.is_subscription and status in SUBSCRIPTION_ENDED:
            return undelivered_posts_units(
                self.posts, self.posts_delivered or 0, self.max_quantity or 0
            )
        return self.remains

    def refund_due(self, status: str) -> int:
        """All that is refunded once in `status`, in millionths: the whole charge when
        Canceled; `charge × undelivered / units` rounded down when Partial or an ended
        subscription (nothing for one paid per post); else nothing."""
        cause = refund_cause(status, self.is_subscription)
        if cause == REFUND_REST:
            return self.charge
        if cause == REFUND_PRO_RATA:
            return partial_refund_micros(self.charge, self.undelivered(status), self.units)
        return 0
