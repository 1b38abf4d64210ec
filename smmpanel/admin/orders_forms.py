"""Reading the order pages' forms and filters, and telling the operator what a change did.

Only what a form can get wrong is checked here, with messages a person reads; what an order
may become is the life cycle's to decide (smmpanel/orders/lifecycle.py).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from babel.lists import format_list
from starlette.exceptions import HTTPException

from smmpanel.admin.orders_queries import MANUAL, OrderFilters
from smmpanel.errors import DomainError
from smmpanel.money import render_balance
from smmpanel.orders.lifecycle import order_units
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
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pagination import LAST_PAGE

# At most 18 digits: every such number fits the database's 64-bit integers.
WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")
UPSTREAM_ID_LENGTH: int = orders.c.upstream_order_id.type.length  # type: ignore[attr-defined]
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


class FormRefused(Exception):
    """What the operator typed cannot be used; the message is already translated."""


def explain(error: Exception) -> str:
    """A refusal as the page shows it: the form's own, or the domain's."""
    if isinstance(error, DomainError):
        return i18n.explain(error)
    return str(error)


def not_found() -> HTTPException:
    return HTTPException(404)


def upstream_order_id(text: str) -> str:
    if not text:
        raise FormRefused(_("Type the order's id at the provider, as its own order list shows."))
    if len(text) > UPSTREAM_ID_LENGTH:
        raise FormRefused(
            _("An upstream order id has at most %(limit)s characters.")
            % {"limit": UPSTREAM_ID_LENGTH}
        )
    return text


def whole_number(text: str, label: str) -> int | None:
    """A count typed in a form: None when left empty."""
    text = text.strip()
    if not text:
        return None
    if not WHOLE_NUMBER.fullmatch(text):
        raise FormRefused(_("%(field)s must be a whole number, 0 or more.") % {"field": label})
    return int(text)


def page_number(text: str) -> int:
    number = whole_number(text, _("Page")) or 1
    if number > LAST_PAGE:
        raise FormRefused(_("There is no page %(number)s.") % {"number": number})
    return number


def order_filters(params: Mapping[str, str]) -> OrderFilters:
    """The list's search and filters from the query string."""
    search = params.get("q", "").strip()
    status = params.get("status", "") or None
    if status is not None and status not in ALL_STATUSES:
        raise FormRefused(_("Choose a status from the list."))
    forward_state = params.get("forward", "") or None
    if forward_state is not None and forward_state not in FORWARD_LABELS:
        raise FormRefused(_("Choose a forwarding state from the list."))
    provider_text = params.get("provider", "")
    provider = MANUAL if provider_text == MANUAL else whole_number(provider_text, _("Provider"))
    searched_id = search if WHOLE_NUMBER.fullmatch(search) else ""
    return OrderFilters(
        search=search,
        status=status,
        service_id=whole_number(params.get("service", ""), _("Service")),
        provider=provider,
        forward_state=forward_state,
        order_id=int(searched_id) if searched_id else None,
    )


def known_statuses(order) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    return SUBSCRIPTION_STATUSES if order.type == SUBSCRIPTIONS else ORDER_STATUSES


def status_choices(order) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
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

    def changes_nothing(self, order) -> bool:  # type: ignore[no-untyped-def]
        return (
            self.status == order.status
            and self.start_count in (None, order.start_count)
            and self.remains in (None, order.remains)
        )


def manual_change(order, typed: Mapping[str, str]) -> ManualChange:  # type: ignore[no-untyped-def]
    """The change form read against the order it changes."""
    status = typed.get("status", "") or order.status
    if status not in known_statuses(order):
        raise FormRefused(_("Choose a status from the list."))
    start_count = whole_number(typed.get("start_count", ""), _("Start count"))
    remains = whole_number(typed.get("remains", ""), _("Remains"))
    becomes_partial = status == PARTIAL and order.status != PARTIAL
    check_remains(order, remains, becomes_partial=becomes_partial)
    return ManualChange(status=status, start_count=start_count, remains=remains)


def check_remains(order, remains: int | None, *, becomes_partial: bool) -> None:  # type: ignore[no-untyped-def]
    """Remains count undelivered units: never more than were ordered; a new Partial needs some."""
    posts = getattr(order, "posts", None)
    units = order_units(order.quantity, order.runs, posts, order.type == SUBSCRIPTIONS)
    if remains is not None and units and remains > units:
        raise FormRefused(
            _("Remains cannot be more than %(units)s, the units ordered.") % {"units": units}
        )
    if becomes_partial and not remains:
        raise FormRefused(
            _("A Partial order needs its remains: between 1 and %(units)s units not delivered.")
            % {"units": units}
        )


def status_label(status: str) -> str:
    return _(status)


def change_message(order_id: int, before, after, refunded: int, currency: str) -> str:  # type: ignore[no-untyped-def]
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
        "id": order_id,
        "changes": format_list(changed, locale=i18n.babel_locale()) or _("nothing"),
    }
    return f"{message} {refund_message(refunded, currency)}"


def refund_message(refunded: int, currency: str) -> str:
    if not refunded:
        return _("Nothing refunded.")
    return _("Refunded %(amount)s %(currency)s.") % {
        "amount": render_balance(refunded),
        "currency": currency,
    }
