"""The row an order list shows, on the customer's pages and on the operator's."""

from sqlalchemy import Select, select

from smmpanel.catalog.models import services
from smmpanel.catalog.service import service_name_in
from smmpanel.orders.models import orders


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
