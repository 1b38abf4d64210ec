"""Reading the order pages' forms and filters, and telling the operator what a change did.

Only what a form can get wrong is checked here, with messages a person reads; what an order
may become is the life cycle's to decide (smmpanel/orders/lifecycle.py).
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from babel.lists import format_list
from sqlalchemy import Row
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from smmpanel.admin.orders_queries import MANUAL, OrderFilters
from smmpanel.errors import N_, check_fits, refusal
from smmpanel.orders.lifecycle import OrderChange, order_units
from smmpanel.orders.models import orders
from smmpanel.orders.statuses import (
    ALL_STATUSES,
    ALLOWED_AFTER_FINISH,
    CANCELED,
    FORWARD_DRIPFEED,
    FORWARD_DRIPFEED_PLACED,
    FORWARD_IN_DOUBT,
    FORWARD_QUEUED,
    FORWARD_REJECTED,
    FORWARD_SENDING,
    FORWARD_SENT,
    FORWARD_WITHDRAWN,
    ORDER_STATUSES,
    PARTIAL,
    SUBSCRIPTION_STATUSES,
    SUBSCRIPTIONS,
    is_finished,
)
from smmpanel.pagekit import i18n
from smmpanel.pagekit.forms import ids, is_id, optional_count, text
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.i18n import ngettext
from smmpanel.pagekit.money_format import format_money
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
    FORWARD_QUEUED: N_("Queued"),
    FORWARD_SENDING: N_("Sending"),
    FORWARD_SENT: N_("Sent"),
    FORWARD_IN_DOUBT: N_("In doubt"),
    FORWARD_REJECTED: N_("Rejected"),
    FORWARD_WITHDRAWN: N_("Canceled by the operator"),
    FORWARD_DRIPFEED: N_("Drip-feed running"),
    FORWARD_DRIPFEED_PLACED: N_("Drip-feed runs placed"),
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
    return _("Refunded %(amount)s.") % {
        "amount": format_money(refunded, "amount", i18n.current_language.get(), currency)
    }


# ---- the list's bulk actions: each checked order changed as its own page would change it

BULK_STATUS, BULK_CANCEL, BULK_RESEND, BULK_START_COUNT = (
    "status",
    "cancel",
    "resend",
    "start_count",
)
BULK_ACTIONS = (BULK_STATUS, BULK_CANCEL, BULK_RESEND, BULK_START_COUNT)
# Partial needs each order's own remains; Canceled is the cancel-and-refund action.
BULK_STATUSES = tuple(status for status in ALL_STATUSES if status not in (PARTIAL, CANCELED))
# The flash travels in a cookie: name a few refused orders, count the rest.
REFUSALS_NAMED = 10

CHECK_ORDERS = refusal("form_check_orders", "Check at least one order in the list.")
CHOOSE_BULK_ACTION = refusal(
    "form_choose_bulk_action", "Choose what to do with the checked orders."
)
CHOOSE_BULK_STATUS = refusal("form_choose_bulk_status", "Choose the status to set from the list.")
NO_START_COUNT = refusal("form_no_start_count", "Type the start count to set.")
BULK_NO_ORDER = refusal("bulk_no_such_order", "no such order")
BULK_ALREADY = refusal("bulk_order_already", "already %(status)s")
BULK_CANNOT_BECOME = refusal(
    "bulk_order_cannot_become", "it is %(status)s and cannot become %(new_status)s"
)
BULK_NOT_IN_DOUBT = refusal("bulk_order_not_in_doubt", "not in doubt")
BULK_SAME_START_COUNT = refusal("bulk_same_start_count", "its start count already is %(count)s")


@dataclass(frozen=True)
class BulkChange:
    action: str
    order_ids: list[int]
    status: str = ""
    start_count: int | None = None


@dataclass
class BulkOutcome:
    changed: int = 0
    refunded: int = 0
    refused: list[tuple[int, str]] = dataclasses.field(default_factory=list)


def bulk_change(form: FormData) -> BulkChange:
    """The bulk form: the checked orders and what to do with each."""
    order_ids = ids(form, "order")
    if not order_ids:
        raise CHECK_ORDERS()
    action = text(form, "action")
    if action not in BULK_ACTIONS:
        raise CHOOSE_BULK_ACTION()
    status = text(form, "status") if action == BULK_STATUS else ""
    if action == BULK_STATUS and status not in BULK_STATUSES:
        raise CHOOSE_BULK_STATUS()
    start_count = None
    if action == BULK_START_COUNT:
        start_count = optional_count(text(form, "start_count"), _("Start count"))
        if start_count is None:
            raise NO_START_COUNT()
    return BulkChange(action, order_ids, status, start_count)


def bulk_manual_change(order: Row[Any], bulk: BulkChange) -> ManualChange:
    """One order's change, read as the order's own change form would read it."""
    if bulk.start_count is not None:
        if bulk.start_count == order.start_count:
            raise BULK_SAME_START_COUNT(count=order.start_count)
        return manual_change(order, {"start_count": str(bulk.start_count)})
    status = CANCELED if bulk.action == BULK_CANCEL else bulk.status
    check_bulk_status(order, status)
    return manual_change(order, {"status": status})


def check_bulk_status(order: Row[Any], status: str) -> None:
    """Only the moves the order's own form offers, and a move at all."""
    if status == order.status:
        raise BULK_ALREADY(status=N_(status))
    if status not in status_choices(order):
        raise BULK_CANNOT_BECOME(status=N_(order.status), new_status=N_(status))


def check_in_doubt(order: Row[Any]) -> None:
    if order.forward_state != FORWARD_IN_DOUBT:
        raise BULK_NOT_IN_DOUBT()


def bulk_message(outcome: BulkOutcome, currency: str) -> str:
    """What the bulk change did: how many changed, the refunds, and each refused order's why."""
    parts = [
        ngettext("%(num)d order changed.", "%(num)d orders changed.", outcome.changed)
        % {"num": outcome.changed}
    ]
    if outcome.refunded:
        parts.append(refund_message(outcome.refunded, currency))
    refused = outcome.refused
    if refused:
        one = _("#%(id)s: %(why)s")
        named = [one % {"id": order_id, "why": why} for order_id, why in refused[:REFUSALS_NAMED]]
        parts.append(_("Not changed: %(orders)s.") % {"orders": _("; ").join(named)})
    if len(refused) > REFUSALS_NAMED:
        more = len(refused) - REFUSALS_NAMED
        parts.append(
            ngettext("%(num)d more order not changed.", "%(num)d more orders not changed.", more)
            % {"num": more}
        )
    return " ".join(parts)


def list_address(back: str, orders_path: str) -> str:
    """The order list the bulk form was sent from: only that page, with its filters."""
    parts = urlsplit(back)
    if parts.scheme or parts.netloc or parts.path != orders_path:
        return orders_path
    return urlunsplit(("", "", orders_path, parts.query, ""))
