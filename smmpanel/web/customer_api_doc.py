"""This panel's API v2 as the API page documents it, laid out like the user's own API document.

Titles and descriptions are message ids: the template translates them. Example replies are
built with the API's own reply functions, so they show exactly what the API answers.
"""

import json
from dataclasses import dataclass, field

from smmpanel.api_v2 import replies
from smmpanel.catalog.types import SERVICE_TYPES
from smmpanel.errors import N_
from smmpanel.money import render_balance
from smmpanel.orders import refusals
from smmpanel.web.customer_fields import type_fields

EXAMPLE_SERVICES = 2


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    optional: bool = False
    literal: bool = False  # the value itself (an action's name), not a text to translate


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    params: list[Param]
    example: str
    service_type: str | None = None
    service_ids: list[int] = field(default_factory=list)


def _params(action: str, *params: Param) -> list[Param]:
    return [Param("key", N_("Your API key")), Param("action", action, literal=True), *params]


def _example(reply: object) -> str:
    return json.dumps(reply, indent=2, ensure_ascii=False)


def _order_status(order_id: int, status: str, charge: int, currency: str) -> dict:
    # The order columns of db.hotpath.CALLER_STATUS_SQL: id, status, charge, start_count,
    # remains, runs, type, posts_delivered.
    row = (order_id, status, charge, 0, 0, None, "Default", None)
    return replies.order_status(row, None, currency)


def _add_sections(ids_by_type: dict[str, list[int]]) -> list[Section]:
    """One `add` form per service type of the catalogue (every type while it is empty)."""
    types = {
        name: ids_by_type.get(name, [])
        for name in SERVICE_TYPES  # the user's document's order
        if name in ids_by_type or not ids_by_type
    }
    last = len(types)
    example = _example({"status": "success", "order": 23501})
    # As in the user's document: the forms one after another, then their one example reply.
    return [
        Section(
            anchor=f"add-{index}",
            title=N_("New order"),
            params=_params(
                "add",
                Param("service", N_("Service ID")),
                *(Param(f.name, f.description, f.optional) for f in type_fields(type_name)),
            ),
            example=example if index == last else "",
            service_type=type_name,
            service_ids=service_ids,
        )
        for index, (type_name, service_ids) in enumerate(types.items(), 1)
    ]


def _services_example(first_services: list) -> str:
    return _example([replies.service_entry(row) for row in first_services])


def api_sections(
    ids_by_type: dict[str, list[int]], first_services: list, currency: str, balance: int
) -> list[Section]:
    """`ids_by_type`: the enabled services' ids by type (catalog.service.enabled_ids_by_type);
    `first_services`: the first EXAMPLE_SERVICES of the catalogue, as the API lists them."""
    order_ids = Param("orders", N_("Order IDs separated by comma (up to 100)"))
    not_available = replies.refused(refusals.CANCEL_UNAVAILABLE())
    return [
        Section(
            "services", N_("Service list"), _params("services"), _services_example(first_services)
        ),
        *_add_sections(ids_by_type),
        Section(
            "status",
            N_("Status of an order"),
            _params("status", Param("order", N_("Order ID"))),
            _example(_order_status(32, "Pending", 36_000, currency)),
        ),
        Section(
            "multi-status",
            N_("Status of several orders"),
            _params("status", order_ids),
            _example(
                {
                    "12": _order_status(12, "Processing", 1_260_000, currency),
                    "2": replies.refused(refusals.INCORRECT_ORDER()),
                    "13": _order_status(13, "Pending", 630_000, currency),
                }
            ),
        ),
        Section(
            "refill",
            N_("Create refill"),
            _params("refill", Param("order", N_("Order ID"))),
            _example({"refill": 7}),
        ),
        Section(
            "multi-refill",
            N_("Create multiple refill"),
            _params("refill", order_ids),
            _example(
                [
                    {"order": 1, "refill": 7},
                    {"order": 3, "refill": replies.refused(refusals.INCORRECT_ORDER())},
                ]
            ),
        ),
        Section(
            "refill-status",
            N_("Get refill status"),
            _params("refill_status", Param("refill", N_("Refill ID"))),
            _example({"status": "Completed"}),
        ),
        Section(
            "cancel",
            N_("Create cancel"),
            _params("cancel", order_ids),
            _example([{"order": 1, "cancel": 1}, {"order": 2, "cancel": not_available}]),
        ),
        Section(
            "balance",
            N_("Balance"),
            _params("balance"),
            _example(
                {"status": "success", "balance": render_balance(balance), "currency": currency}
            ),
        ),
    ]
