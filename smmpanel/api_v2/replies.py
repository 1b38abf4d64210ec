"""Rendering API v2 replies exactly as the contract spells them."""

from typing import Any

from sqlalchemy import Row

from smmpanel.errors import Refusal
from smmpanel.money import render_charge, render_rate
from smmpanel.orders.statuses import SUBSCRIPTIONS


def error(message: str) -> dict:
    return {"error": message}


def refused(refusal: Refusal) -> dict:
    return {"error": refusal.message}


def order_status(row: tuple, children: list[int] | None, currency: str) -> dict:
    """One order's status from `db.hotpath.CALLER_STATUS_SQL`'s order columns and its child
    orders."""
    order_id, status, charge, start_count, remains, runs, type_, posts_delivered = row
    reply = {
        "order": str(order_id),
        "status": status,
        "charge": render_charge(charge),
        "start_count": str(start_count),
        "remains": str(remains),
        "currency": currency,
    }
    if type_ == SUBSCRIPTIONS:
        reply["posts"] = str(posts_delivered or 0)
        reply["orders"] = children or []
    elif runs:
        reply["runs"] = str(runs)
        reply["orders"] = children or []
    return reply


def service_entry(row: Row[Any]) -> dict:
    return {
        "service": row.id,
        "name": row.name,
        "category": row.category,
        "rate": render_rate(row.rate),
        "min": str(row.min_quantity),
        "max": str(row.max_quantity),
        "type": row.type,
        "desc": row.description,
        "dripfeed": 1 if row.dripfeed else 0,
        "refill": bool(row.refill),
        "cancel": bool(row.cancel),
    }
