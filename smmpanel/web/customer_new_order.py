"""The new-order page: choose a category, then one of its services, fill its type's fields.

Only the chosen category's services are in the page; the script loads another category's from
`/order/services` (JSON), and without the script choosing a category reloads the page.
"""

import re
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from fastapi import APIRouter
from jinja2 import Environment
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import FormData
from starlette.responses import JSONResponse, Response

from smmpanel.catalog.service import catalog_version
from smmpanel.catalog.types import SERVICE_TYPES
from smmpanel.errors import Refusal
from smmpanel.orders.placement import place_in_transaction
from smmpanel.orders.validation import MIN_RUNS, parse_positive_int
from smmpanel.pagekit.i18n import LANGUAGES
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.money_format import format_money
from smmpanel.pagekit.pages import CustomerVisit, Visit
from smmpanel.web.customer_fields import SUBSCRIPTION_DELAYS, field_names, is_flat, type_fields
from smmpanel.web.customer_order_services import (
    categories_on_offer,
    category_of,
    category_of_any,
    script_services,
    services_in,
)
from smmpanel.web.customer_placing import explain_refusal, preview_charge

router = APIRouter()
FORM_FIELDS = ("service", "idempotency_key", *field_names())
SERVICES_PATH = "/order/services"
SAMPLE_CHARGE = 1_234_500_000  # 1234.50: a group, a decimal sign, 2 decimals
SAMPLE_PARTS = re.compile(r"(\D*)1(\D*)234(\D+)50(\D*)")


@dataclass
class OrderForm:
    """What the page shows: the categories, the chosen one's services, the chosen service,
    what was typed, the outcome."""

    categories: list
    category_id: int | None = None
    services: list = field(default_factory=list)
    chosen: Any = None  # a row of services_in
    values: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    charge: int | None = None
    retired_category: int | None = None  # of the asked service, no longer on offer


async def _order_form(current: Visit, service: str, category: str = "") -> OrderForm:
    """The form for `service` (its category) or else `category` (its first service)."""
    service_id = parse_positive_int(service)
    async with current.db.read() as conn:
        order_form = OrderForm(categories=await categories_on_offer(conn))
        category_id = await category_of(conn, service_id) if service_id else None
        if service and category_id is None:
            await _refuse_service(conn, order_form, service_id)
        order_form.category_id = (
            category_id or order_form.retired_category or _category_or_first(order_form, category)
        )
        if order_form.category_id is not None:
            order_form.services = await services_in(
                conn, current.customer_id, order_form.category_id, current.language
            )
    if service:
        order_form.chosen = next((s for s in order_form.services if s.id == service_id), None)
    elif order_form.services:
        order_form.chosen = order_form.services[0]
    return order_form


async def _refuse_service(
    conn: AsyncConnection, order_form: OrderForm, service_id: int | None
) -> None:
    """Why the asked service cannot be ordered; one since disabled points to its category."""
    category_id = await category_of_any(conn, service_id) if service_id else None
    if category_id is None:
        order_form.error = _("Choose a service from the list.")
        return
    order_form.error = _("Service %(id)s is no longer offered.") % {"id": service_id}
    if category_id in {row.id for row in order_form.categories}:
        order_form.retired_category = category_id


def _category_or_first(order_form: OrderForm, category: str) -> int | None:
    category_id = parse_positive_int(category)
    known = [row.id for row in order_form.categories]
    if category_id in known:
        return category_id
    return known[0] if known else None


def _script_data(current: Visit, order_form: OrderForm) -> dict:
    """What order-form.js needs: the shown category's services, and where to load another's."""
    return {
        "services": script_services(order_form.services, current.language, current.panel.currency),
        "services_url": SERVICES_PATH,
        "money": money_shape(current.language, current.panel.currency),
        "labels": {"rate": _("Rate per 1000"), "price": _("Price")},
    }


def money_shape(language: str, currency: str) -> dict[str, str]:
    """How the page writes a charge, read off one written by the page's rule, for the script
    to write the charge it counts the same way: "USD 1,234.50" gives "USD ", ",", "." and ""."""
    written = format_money(SAMPLE_CHARGE, "charge", language, currency)
    found = SAMPLE_PARTS.fullmatch(written)
    if found is None:
        raise ValueError(f"unexpected money format {written!r}")
    prefix, group, decimal, suffix = found.groups()
    return {"prefix": prefix, "group": group, "decimal": decimal, "suffix": suffix}


@lru_cache(maxsize=len(LANGUAGES))
def _type_templates(templates: Environment, language: str) -> Markup:
    """Every type's empty fields: the same on every page of a language, so rendered once.
    `language` is the one being rendered (i18n.current_language), the key of the cache."""
    return Markup(
        templates.get_template("web/order_type_templates.html").render(
            type_templates=[(name, type_fields(name)) for name in SERVICE_TYPES],
            delays=SUBSCRIPTION_DELAYS,
            min_runs=MIN_RUNS,
        )
    )


async def _render(current: Visit, order_form: OrderForm, status_code: int = 200) -> Response:
    chosen = order_form.chosen
    return current.render(
        "web/order_new.html",
        status_code,
        form=order_form,
        chosen=chosen,
        fields=type_fields(chosen.type, chosen.dripfeed) if chosen else [],
        flat=bool(chosen) and is_flat(chosen.type),
        balance=current.balance,
        delays=SUBSCRIPTION_DELAYS,
        min_runs=MIN_RUNS,
        type_templates=_type_templates(current.pages.templates, current.language),
        script_data=_script_data(current, order_form),
        idempotency_key=order_form.values.get("idempotency_key") or secrets.token_urlsafe(16),
    )


@router.get("/order/new")
async def new_order_page(current: CustomerVisit, service: str = "", category: str = "") -> Response:
    kept = current.kept_form
    chosen = kept.get("service", service) if kept else service
    order_form = await _order_form(current, chosen, category)
    if kept:
        order_form.values = kept
    return await _render(current, order_form, 400 if order_form.error else 200)


@router.get(SERVICES_PATH)
async def category_services(current: CustomerVisit, category: str = "") -> Response:
    """The category's services at this customer's rates, as order-form.js reads them.

    Revalidated by an ETag of the catalogue's version (which moves with each service and each
    customer price) and the customer: an unchanged category costs one small read.
    """
    category_id = parse_positive_int(category)
    async with current.db.read() as conn:
        etag = _etag(await catalog_version(conn), current, category_id)
        if current.request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=_cache_headers(etag))
        rows = (
            await services_in(conn, current.customer_id, category_id, current.language)
            if category_id
            else []
        )
    found = script_services(rows, current.language, current.panel.currency)
    return JSONResponse({"services": found}, headers=_cache_headers(etag))


def _etag(version: object, current: Visit, category_id: int | None) -> str:
    # The rates are written in the page's language and currency: each has its own answer.
    shown_as = f"{current.language}-{current.panel.currency}"
    return f'"{version}-{current.customer_id}-{category_id}-{shown_as}"'


def _cache_headers(etag: str) -> dict[str, str]:
    # private: the rates are this customer's; no-cache: asked again each time, 304 if unchanged
    # (the ETag names the customer, so another one signed in on the browser gets their own).
    return {"ETag": etag, "Cache-Control": "private, no-cache"}


def _typed(form: FormData) -> dict[str, str]:
    return {name: str(form[name]) for name in FORM_FIELDS if name in form}


@router.post("/order/new")
async def place_new_order(current: CustomerVisit) -> Response:
    form = await current.form()
    values = _typed(form)
    try:
        if form.get("intent") == "preview":
            charge = await preview_charge(current.db, current.customer_id, values)
            return await _render(current, await _form_again(current, values, charge=charge))
        order_id = await place_in_transaction(current.db, current.customer_id, values)
    except Refusal as refused:
        order_form = await _form_again(current, values, error=explain_refusal(refused))
        return await _render(current, order_form, 400)
    return current.redirect(f"/orders/{order_id}", _("Order %(id)s placed.") % {"id": order_id})


async def _form_again(
    current: Visit, values: dict[str, str], error: str | None = None, charge: int | None = None
) -> OrderForm:
    """The form shown again after a preview or a refusal, with what was typed."""
    order_form = await _order_form(current, values.get("service", ""))
    order_form.values = values
    order_form.error = error or order_form.error
    order_form.charge = charge
    return order_form
