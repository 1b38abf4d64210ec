"""The new-order page: choose a service from this customer's catalogue, fill its type's fields."""

import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from smmpanel.accounts.service import balance_of
from smmpanel.catalog.service import enabled_services
from smmpanel.errors import Refusal
from smmpanel.money import render_rate
from smmpanel.orders.placement import place_in_transaction
from smmpanel.orders.validation import parse_positive_int
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import CustomerVisit, Visit
from smmpanel.web.customer_fields import (
    SUBSCRIPTION_DELAYS,
    charge_rule,
    field_names,
    is_flat,
    type_fields,
)
from smmpanel.web.customer_placing import explain_refusal, preview_charge

router = APIRouter()
FORM_FIELDS = ("service", "idempotency_key", *field_names())


@dataclass
class OrderForm:
    """What the page shows: the catalogue, the chosen service, what was typed, the outcome."""

    services: list
    chosen: Any = None  # a row of enabled_services
    values: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    charge: int | None = None

    @property
    def groups(self) -> list[tuple[str, list]]:
        """The services under their categories, in the catalogue's order."""
        groups: list[tuple[str, list]] = []
        for service in self.services:
            if not groups or groups[-1][0] != service.category:
                groups.append((service.category, []))
            groups[-1][1].append(service)
        return groups

    def choose(self, given: str) -> None:
        service_id = parse_positive_int(given)
        self.chosen = next((s for s in self.services if s.id == service_id), None)
        if given and self.chosen is None:
            self.error = _("Choose a service from the list.")
        if not given and self.services:
            self.chosen = self.services[0]


async def _order_form(current: Visit) -> OrderForm:
    async with current.db.read() as conn:
        return OrderForm(services=await enabled_services(conn, current.customer_id))


def _script_data(order_form: OrderForm, currency: str) -> dict:
    """What order-form.js needs to swap fields and count the charge without the server."""
    services = {
        str(service.id): {
            "type": service.type,
            "rate": service.rate,
            "rate_text": render_rate(service.rate),
            "flat": is_flat(service.type),
            "min": service.min_quantity,
            "max": service.max_quantity,
            "description": service.description,
            "fields": [f.name for f in type_fields(service.type, service.dripfeed)],
            **charge_rule(service.type),
        }
        for service in order_form.services
    }
    labels = {"rate": _("Rate per 1000"), "price": _("Price")}
    return {"services": services, "currency": currency, "labels": labels}


async def _render(current: Visit, order_form: OrderForm, status_code: int = 200) -> Response:
    async with current.db.read() as conn:
        balance = await balance_of(conn, current.customer_id)
    chosen = order_form.chosen
    types = dict.fromkeys(service.type for service in order_form.services)
    return current.render(
        "web/order_new.html",
        status_code,
        form=order_form,
        chosen=chosen,
        fields=type_fields(chosen.type, chosen.dripfeed) if chosen else [],
        flat=bool(chosen) and is_flat(chosen.type),
        balance=balance,
        delays=SUBSCRIPTION_DELAYS,
        type_templates=[(name, type_fields(name)) for name in types],
        script_data=_script_data(order_form, current.panel.currency),
        idempotency_key=order_form.values.get("idempotency_key") or secrets.token_urlsafe(16),
    )


@router.get("/order/new")
async def new_order_page(current: CustomerVisit, service: str = "") -> Response:
    order_form = await _order_form(current)
    order_form.choose(service)
    return await _render(current, order_form, 400 if order_form.error else 200)


def _typed(form: FormData) -> dict[str, str]:
    return {name: str(form[name]) for name in FORM_FIELDS if name in form}


@router.post("/order/new")
async def place_new_order(current: CustomerVisit) -> Response:
    form = await current.form()
    order_form = await _order_form(current)
    order_form.values = _typed(form)
    order_form.choose(order_form.values.get("service", ""))
    try:
        if form.get("intent") == "preview":
            order_form.charge = await preview_charge(
                current.db, current.customer_id, order_form.values
            )
            return await _render(current, order_form)
        order_id = await place_in_transaction(current.db, current.customer_id, order_form.values)
    except Refusal as refused:
        order_form.error = explain_refusal(refused)
        return await _render(current, order_form, 400)
    return current.redirect(f"/orders/{order_id}", _("Order %(id)s placed.") % {"id": order_id})
