"""A customer's discount on the list rates, in basis points (1250: 12.50 %).

What it makes of a rate is `money.discounted_micros`, applied wherever a customer's rate is
read (`catalog.service`); a custom price wins over it. An order keeps the charge it was placed
with: a new discount changes only the orders placed after it.
"""

import re

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers
from smmpanel.catalog.service import bump_catalog_version
from smmpanel.db.dialect import locked
from smmpanel.errors import refusal
from smmpanel.money import BASIS_POINTS, render_rate

# 0 to 99.99: whole percent and up to 2 decimals.
_PERCENT = re.compile(r"([0-9]{1,2})(?:\.([0-9]{1,2}))?")

DISCOUNT_INVALID = refusal(
    "customer_discount_invalid",
    "The discount is a percent from 0 to 99.99 with at most 2 decimals, not %(text)s.",
)


def parse_discount(text: str) -> int:
    """A percent typed by a person, in basis points; refused unless 0 to 99.99, 2 decimals."""
    typed = text.strip()
    found = _PERCENT.fullmatch(typed)
    if found is None:
        raise DISCOUNT_INVALID(text=typed)
    whole, decimals = found.groups()
    return int(whole) * 100 + int((decimals or "0").ljust(2, "0"))


def percent_text(discount_bp: int) -> str:
    """Basis points as a percent, trailing zeros trimmed: 1250 -> "12.5", 0 -> "0". (A percent
    in millionths is basis points × 10000, written as a rate is.)"""
    return render_rate(discount_bp * 10_000)


async def set_discount(conn: AsyncConnection, customer_id: int, discount_bp: int) -> int | None:
    """Give the customer this discount; their discount before it, or None if there is no such
    customer. The catalogue version moves on: the API's reply of their services is rebuilt."""
    assert 0 <= discount_bp < BASIS_POINTS, discount_bp
    query = select(customers.c.discount_bp).where(customers.c.id == customer_id)
    old = await conn.scalar(locked(conn, query))
    if old is None:
        return None
    if old != discount_bp:
        await conn.execute(
            update(customers).where(customers.c.id == customer_id).values(discount_bp=discount_bp)
        )
        await bump_catalog_version(conn)
    return old
