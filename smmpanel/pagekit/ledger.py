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


class LedgerEntry(Protocol):
    kind: str
    order_id: int | None
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
    if entry.cause == "opening":
        return _("Opening balance")
    return entry.reason
