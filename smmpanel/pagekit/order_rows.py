"""The row an order list shows, on the customer's pages and on the operator's."""

from typing import Protocol

from sqlalchemy import Select, select

from smmpanel.catalog.models import services
from smmpanel.catalog.service import service_name_in
from smmpanel.orders.models import orders

# The statuses in which the provider has reported an order's start count and remains.
REPORTED_STATUSES = frozenset({"Completed", "Partial", "Canceled", "Expired"})


def order_rows(language: str = "en") -> Select:
    """Each order's own figures and its service's name, as a page in `language` shows it."""
    return select(
        orders.c.id,
        orders.c.created_at,
        orders.c.service_id,
        service_name_in(language).label("service"),
        orders.c.link,
        orders.c.quantity,
        orders.c.runs,
        orders.c.charge,
        orders.c.start_count,
        orders.c.remains,
        orders.c.status,
    ).join(services, services.c.id == orders.c.service_id)


class ReportedFigures(Protocol):
    @property
    def status(self) -> str: ...
    @property
    def start_count(self) -> int | None: ...
    @property
    def remains(self) -> int | None: ...


def not_started(order: ReportedFigures) -> bool:
    """Whether the provider has not reported on the order yet: its start count and remains are
    unknown, not 0 (the templates' test `order is not_started`)."""
    status = order.status
    return status == "Pending" or (
        status not in REPORTED_STATUSES and not order.start_count and not order.remains
    )
