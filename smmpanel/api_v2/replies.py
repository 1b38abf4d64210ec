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


def order_status(row: dict, currency: str) -> dict:
    reply = {
        "order": str(row["id"]),
        "status": row["status"],
        "charge": render_charge(row["charge"]),
        "start_count": str(row["start_count"]),
        "remains": str(row["remains"]),
        "currency": currency,
    }
    if row["type"] == SUBSCRIPTIONS:
        reply["posts"] = str(row["posts_delivered"] or 0)
        reply["orders"] = row.get("orders", [])
    elif row["runs"]:
        reply["runs"] = str(row["runs"])
        reply["orders"] = row.get("orders", [])
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
