"""The row an order list shows, on the customer's pages and on the operator's."""

from sqlalchemy import Select, select

from smmpanel.catalog.models import services
from smmpanel.orders.models import orders


def order_rows() -> Select:
    """Each order's own figures and its service's name."""
    return select(
        orders.c.id,
        orders.c.created_at,
        orders.c.service_id,
        services.c.name.label("service"),
        orders.c.link,
        orders.c.quantity,
        orders.c.runs,
        orders.c.charge,
        orders.c.start_count,
        orders.c.remains,
        orders.c.status,
    ).join(services, services.c.id == orders.c.service_id)
