"""Reading the order pages' forms and filters, and telling the operator what a change did.

Only what a form can get wrong is checked here, with messages a person reads; what an order
may become is the life cycle's to decide (smmpanel/orders/lifecycle.py).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from babel.lists import format_list
from sqlalchemy import Row
from starlette.exceptions import HTTPException

from smmpanel.admin.orders_queries import MANUAL, OrderFilters
from smmpanel.errors import N_, check_fits, refusal
from smmpanel.money import render_balance
from smmpanel.orders.lifecycle import OrderChange, order_units
from smmpanel.orders.models import orders
from smmpanel.orders.statuses import (
    ALL_STATUSES,
    ALLOWED_AFTER_FINISH,
    FORWARD_DRIPFEED,
    FORWARD_DRIPFEED_PLACED,
    FORWARD_IN_DOUBT,
    FORWARD_QUEUED,
    FORWARD_REJECTED,
    FORWARD_SENDING,
    FORWARD_SENT,
    ORDER_STATUSES,
    PARTIAL,
    SUBSCRIPTION_STATUSES,
    SUBSCRIPTIONS,
    is_finished,
)
from smmpanel.pagekit import i18n
from smmpanel.pagekit.forms import is_id, optional_count
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pagination import LAST_PAGE

NO_UPSTREAM_ID = refusal(
    "form_no_upstream_order_id",
    "Type the order's id at the provider, as its own order list shows.",
)
NO_SUCH_PAGE = refusal("form_no_such_page", "There is no page %(number)s.")
CHOOSE_STATUS = refusal("form_choose_order_status", "Choose a status from the list.")
CHOOSE_FORWARD_STATE = refusal(
    "form_choose_forward_state", "Choose a forwarding state from the list."
)
REMAINS_ABOVE_UNITS = refusal(
    "form_remains_above_units", "Remains cannot be more than %(units)s, the units ordered."
)
PARTIAL_WITHOUT_REMAINS = refusal(
    "form_partial_without_remains",
    "A Partial order needs its remains: between 1 and %(units)s units not delivered.",
)
# English labels, translated where shown; NULL is an order fulfilled by hand.
FORWARD_LABELS = {
    FORWARD_QUEUED: "Queued",
    FORWARD_SENDING: "Sending",
    FORWARD_SENT: "Sent",
    FORWARD_IN_DOUBT: "In doubt",
    FORWARD_REJECTED: "Rejected",
    FORWARD_DRIPFEED: "Drip-feed running",
    FORWARD_DRIPFEED_PLACED: "Drip-feed runs placed",
}


def not_found() -> HTTPException:
    return HTTPException(404)


def upstream_order_id(text: str) -> str:
    if not text:
        raise NO_UPSTREAM_ID()
    check_fits(orders.c.upstream_order_id, text, N_("Upstream order id"))
    return text


def page_number(text: str) -> int:
    number = optional_count(text, _("Page")) or 1
    if number > LAST_PAGE:
        raise NO_SUCH_PAGE(number=number)
    return number


def order_filters(params: Mapping[str, str]) -> OrderFilters:
    """The list's search and filters from the query string."""
    search = params.get("q", "").strip()
    status = params.get("status", "") or None
    if status is not None and status not in ALL_STATUSES:
        raise CHOOSE_STATUS()
    forward_state = params.get("forward", "") or None
    if forward_state is not None and forward_state not in FORWARD_LABELS:
        raise CHOOSE_FORWARD_STATE()
    provider_text = params.get("provider", "")
    provider = MANUAL if provider_text == MANUAL else optional_count(provider_text, _("Provider"))
    return OrderFilters(
        search=search,
        status=status,
        service_id=optional_count(params.get("service", ""), _("Service")),
        provider=provider,
        forward_state=forward_state,
        order_id=int(search) if is_id(search) else None,
    )


def known_statuses(order: Row[Any]) -> tuple[str, ...]:
    return SUBSCRIPTION_STATUSES if order.type == SUBSCRIPTIONS else ORDER_STATUSES


def status_choices(order: Row[Any]) -> tuple[str, ...]:
    """The statuses the change form offers: a finished order only those that refund more."""
    known = known_statuses(order)
    if not is_finished(order.status):
        return known
    allowed = ALLOWED_AFTER_FINISH.get(order.status, frozenset())
    return (order.status, *(status for status in known if status in allowed))


@dataclass(frozen=True)
class ManualChange:
    status: str
    start_count: int | None
    remains: int | None

    def changes_nothing(self, order: Row[Any]) -> bool:
        return (
            self.status == order.status
            and self.start_count in (None, order.start_count)
            and self.remains in (None, order.remains)
        )


def manual_change(order: Row[Any], typed: Mapping[str, str]) -> ManualChange:
    """The change form read against the order it changes."""
    status = typed.get("status", "") or order.status
    if status not in known_statuses(order):
        raise CHOOSE_STATUS()
    start_count = optional_count(typed.get("start_count", ""), _("Start count"))
    remains = optional_count(typed.get("remains", ""), _("Remains"))
    becomes_partial = status == PARTIAL and order.status != PARTIAL
    check_remains(order, remains, becomes_partial=becomes_partial)
    return ManualChange(status=status, start_count=start_count, remains=remains)


def check_remains(order: Row[Any], remains: int | None, *, becomes_partial: bool) -> None:
    """Remains count undelivered units: never more than were ordered; a new Partial needs some."""
    posts = getattr(order, "posts", None)
    units = order_units(order.quantity, order.runs, posts, order.type == SUBSCRIPTIONS)
    if remains is not None and units and remains > units:
        raise REMAINS_ABOVE_UNITS(units=units)
    if becomes_partial and not remains:
        raise PARTIAL_WITHOUT_REMAINS(units=units)


def status_label(status: str) -> str:
    return _(status)


def change_message(before: Row[Any], after: OrderChange, currency: str) -> str:
    """What a manual change did, for the flash on the next page."""
    changed = []
    if before.status != after.status:
        changed.append(
            _("status %(old)s → %(new)s")
            % {"old": status_label(before.status), "new": status_label(after.status)}
        )
    for field, label in (("start_count", _("start count")), ("remains", _("remains"))):
        old, new = getattr(before, field), getattr(after, field)
        if old != new:
            changed.append(
                _("%(field)s %(old)s → %(new)s") % {"field": label, "old": old, "new": new}
            )
    message = _("Order %(id)s changed: %(changes)s.") % {
        "id": after.order_id,
        "changes": format_list(changed, locale=i18n.babel_locale()) or _("nothing"),
    }
    return f"{message} {refund_message(after.refunded, currency)}"


def refund_message(refunded: int, currency: str) -> str:
    if not refunded:
        return _("Nothing refunded.")
    return _("Refunded %(amount)s %(currency)s.") % {
        "amount": render_balance(refunded),
        "currency": currency,
    }
