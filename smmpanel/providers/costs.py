"""What the upstream charges for an order, in the panel's currency, recorded as `orders.cost`.

The upstream charges its own rate (services.upstream_rate, in its currency) for the units as
our charge counts them (orders.validation). The amount is converted with the exchange rate of
the moment the order goes upstream. An order sent to a service's fallback provider is costed at
the main provider's rate: the fallback's is not known here.
"""

import logging

from smmpanel.catalog.types import SERVICE_TYPES, Units
from smmpanel.errors import Refusal
from smmpanel.money import charge_micros
from smmpanel.panel.rates import Conversion

log = logging.getLogger("smmpanel.forwarding")


def upstream_charge(
    order_type: str,
    upstream_rate: int,
    quantity: int,
    runs: int | None = None,
    posts: int | None = None,
) -> int:
    """The upstream's charge in its currency (millionths), counted as ours is: a package's
    rate is its price; a subscription paid up front is `quantity` (its max) × posts."""
    units = SERVICE_TYPES[order_type].units
    if units is Units.FLAT:
        return upstream_rate
    if units is Units.SUBSCRIPTION:
        return charge_micros(upstream_rate, quantity * (posts or 0))
    return charge_micros(upstream_rate, quantity * (runs or 1))


def cost_in_panel_currency(
    conversion: Conversion, charge: int, currency: str | None, order_id: int
) -> int | None:
    """The upstream's charge in the panel's currency; None (logged) where it cannot be told:
    the provider's currency is not known yet, or no exchange rate is set for it (services
    brought in by a catalogue file are not checked as imports are)."""
    if currency is None:
        log.warning("order cost unknown: no currency known", extra={"order_id": order_id})
        return None
    try:
        return conversion.convert(charge, currency)
    except Refusal as missing:
        log.warning("order cost unknown", extra={"order_id": order_id, "why": str(missing)})
        return None
