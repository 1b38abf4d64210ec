"""What every gateway module speaks: the panel starts a payment, the browser goes to the
gateway, the gateway tells the panel (a notice) how it went.

A gateway module provides:
- `REQUIRED_SETTINGS` and `OPTIONAL_SETTINGS`: the method's settings it reads (credentials,
  base URL);
- `currency_allowed(code) -> bool`; `amount_step(code) -> int`: the smallest amount it takes in
  that currency, in millionths (amounts are its multiples: whole TWD for ECPay);
- `async start(payment: Starting, settings, links: Links, http) -> Checkout`;
- `claimed_id(received: Received) -> str | None`: the gateway id a notice names, unverified,
  to find the payment (and so the method's keys) it must be verified with;
- `verify(received, settings) -> Notice`: raises NotVerified unless the gateway signed it;
- `ACCEPTED` and `REFUSED`: the replies the gateway expects.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

PAID = "paid"
FAILED = "failed"
INFO = "info"  # how to pay (an ATM account, a store code), nothing paid yet
UNCHANGED = "unchanged"  # news that moves nothing (still waiting, a status we don't act on)


class NotVerified(Exception):
    """A notice the gateway did not sign, or signed with other keys."""


class GatewayUnavailable(Exception):
    """The gateway refused or did not answer when a payment was started."""


@dataclass(frozen=True)
class Starting:
    """A payment about to go to its gateway."""

    payment_id: int
    amount: int  # millionths of `currency`
    currency: str
    description: str
    created_at: datetime  # in UTC


@dataclass(frozen=True)
class Links:
    """The panel's addresses a gateway is given."""

    notify: str  # server-to-server notification
    info: str  # ECPay's payment-info notification (ATM account, store code)
    back: str  # the customer's page of this payment


@dataclass(frozen=True)
class Checkout:
    """Where the customer's browser goes: `url` by GET, or `form` posted to `url`."""

    gateway_id: str
    url: str
    form: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Received:
    """A notice as it arrived: the raw body and the headers (lower-case names)."""

    body: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Notice:
    """What a verified notice says, in the panel's terms."""

    gateway_id: str
    outcome: str  # PAID, FAILED, INFO or UNCHANGED
    amount: int | None = None  # millionths of `currency` actually paid
    currency: str | None = None
    merchant: str | None = None  # the merchant the gateway says it paid
    simulated: bool = False  # a test payment made in the gateway's back office
    more_is_fine: bool = False  # paid more than asked: credit what was paid
    summary: str = ""  # one line for the operator
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    media_type: str = "text/plain"
