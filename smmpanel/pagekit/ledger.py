"""A customer's ledger as the pages show it: the customer's funds page and the operator's."""

from functools import partial
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.service import ledger_page as ledger_entries
from smmpanel.errors import N_
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pagination import Page, read_page

LEDGER_PER_PAGE = 50
# The ledger's kinds (accounts.models.LEDGER_KINDS) as the pages name them.
KIND_LABELS = {
    "deposit": N_("Deposit"),
    "charge": N_("Order charge"),
    "refund": N_("Refund"),
    "adjustment": N_("Adjustment"),
}
# What an order's entry says, by the entry's cause (accounts.models: unique per order and cause).
ORDER_CAUSES = {
    "charge": N_("Order %(id)s"),
    "refund:partial": N_("Order %(id)s, refund of what was not delivered"),
    "refund:cancel": N_("Order %(id)s, refund of the cancel"),
}

# A payment's entries, by cause (unique per payment and cause).
PAYMENT_CAUSES = {
    "payment": N_("Payment %(id)s"),
    "payment:bonus": N_("Bonus of payment %(id)s"),
}
# A payment's statuses (payments.models.PAYMENT_STATUSES) as the pages name them.
PAYMENT_STATUS_LABELS = {
    "pending": N_("Waiting for payment"),
    "paid": N_("Paid"),
    "failed": N_("Failed"),
    "expired": N_("Expired"),
    "review": N_("Being checked by the operator"),
}


class LedgerEntry(Protocol):
    kind: str
    order_id: int | None
    payment_id: int | None
    cause: str | None
    reason: str


async def ledger_page(conn: AsyncConnection, customer_id: int, number: int) -> Page:
    """A page of the customer's ledger, newest entries first."""
    return await read_page(partial(ledger_entries, conn, customer_id), number, LEDGER_PER_PAGE)


def kind_label(entry: LedgerEntry) -> str:
    return _(KIND_LABELS.get(entry.kind, entry.kind))


def describe_entry(entry: LedgerEntry) -> str:
    """What an entry is for, in the page's language; an operator's own words as typed."""
    if entry.order_id is not None and entry.cause in ORDER_CAUSES:
        return _(ORDER_CAUSES[entry.cause]) % {"id": entry.order_id}
    if entry.payment_id is not None and entry.cause in PAYMENT_CAUSES:
        return _(PAYMENT_CAUSES[entry.cause]) % {"id": entry.payment_id}
    if entry.cause == "opening":
        return _("Opening balance")
    return entry.reason


def payment_status(status: str) -> str:
    return _(PAYMENT_STATUS_LABELS.get(status, status))
