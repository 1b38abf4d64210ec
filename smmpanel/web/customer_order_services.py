"""The catalogue as the new-order form reads it: one category at a time, at the customer's rates.

A whole catalogue (thousands of services) in one page is what made the form slow and heavy:
the form lists the categories, and only the chosen category's services.
"""

from functools import cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.catalog.models import categories, services
from smmpanel.catalog.service import at_customer_rate, service_description_in, service_name_in
from smmpanel.db.base import AnyRow
from smmpanel.pagekit.money_format import format_money
from smmpanel.web.customer_fields import charge_rule, is_flat, type_fields


async def categories_on_offer(conn: AsyncConnection) -> list[AnyRow]:
    """(id, name) of each category with an enabled service, in the operator's order."""
    on_offer = (
        select(services.c.id)
        .where(services.c.category_id == categories.c.id, services.c.enabled.is_(True))
        .exists()
    )
    query = (
        select(categories.c.id, categories.c.name)
        .where(on_offer)
        .order_by(categories.c.position, categories.c.id)
    )
    return list((await conn.execute(query)).all())


async def category_of(conn: AsyncConnection, service_id: int) -> int | None:
    """The category of an enabled service; None if there is no such service on offer."""
    query = select(services.c.category_id).where(
        services.c.id == service_id, services.c.enabled.is_(True)
    )
    return await conn.scalar(query)


async def category_of_any(conn: AsyncConnection, service_id: int) -> int | None:
    """The category of a service, on offer or not (a reorder of one since disabled)."""
    return await conn.scalar(select(services.c.category_id).where(services.c.id == service_id))


async def services_in(
    conn: AsyncConnection, customer_id: int, category_id: int, language: str
) -> list[AnyRow]:
    """The category's enabled services in the operator's order, at this customer's rates,
    named and described in the page's language."""
    query = select(
        services.c.id,
        service_name_in(language).label("name"),
        services.c.type,
        services.c.min_quantity,
        services.c.max_quantity,
        service_description_in(language).label("description"),
        services.c.dripfeed,
    )
    query = (
        at_customer_rate(query, customer_id)
        .where(services.c.category_id == category_id, services.c.enabled.is_(True))
        .order_by(services.c.position, services.c.id)
    )
    return list((await conn.execute(query)).all())


@cache
def _field_names(type_name: str, dripfeed: bool) -> list[str]:
    return [f.name for f in type_fields(type_name, dripfeed)]


def script_services(rows: list[AnyRow], language: str, currency: str) -> list[dict]:
    """What order-form.js needs of each service to swap fields and count the charge; its rate
    as the page writes it, so the script shows what the server would."""
    return [
        {
            "id": row.id,
            "name": row.name,
            "type": row.type,
            "rate": row.rate,
            "rate_text": format_money(row.rate, "rate", language, currency),
            "flat": is_flat(row.type),
            "min": row.min_quantity,
            "max": row.max_quantity,
            "description": row.description,
            "fields": _field_names(row.type, row.dripfeed),
            **charge_rule(row.type),
        }
        for row in rows
    ]
