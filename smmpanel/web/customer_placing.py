"""Orders placed from the pages, through the same domain function as the API's `add`."""

import re
from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError

from smmpanel.catalog.service import orderable_service
from smmpanel.db import Database, is_unique_violation
from smmpanel.orders import errors
from smmpanel.orders.errors import OrderRefused
from smmpanel.orders.placement import explain_conflict, place_order
from smmpanel.orders.validation import parse_positive_int, validate_order
from smmpanel.pagekit import i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.web.customer_fields import FIELD_TEXTS

_REQUIRED = re.compile(r"(\w+) is required")
_BELOW = re.compile(r"Quantity less than minimal (\d+)")
_ABOVE = re.compile(r"Quantity more than maximum (\d+)")


async def place(db: Database, customer_id: int, fields: Mapping[str, str]) -> int:
    """Place and charge one order in its own transaction; its id. Raises OrderRefused."""
    try:
        async with db.write() as conn:
            return await place_order(conn, customer_id, fields)
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        async with db.read() as conn:
            return await explain_conflict(conn, customer_id, fields)


async def preview_charge(db: Database, customer_id: int, fields: Mapping[str, str]) -> int:
    """What placing these fields would charge, checked as placing checks them; nothing stored."""
    service_id = parse_positive_int(fields.get("service", ""))
    async with db.read() as conn:
        service = service_id and await orderable_service(conn, service_id, customer_id)
    if not service:
        raise OrderRefused(errors.INCORRECT_SERVICE)
    return validate_order(service, fields).charge


def explain_refusal(refused: OrderRefused) -> str:
    """The API's refusal as a sentence in the page's language."""
    message = refused.message
    if found := _REQUIRED.fullmatch(message):
        label = FIELD_TEXTS.get(found.group(1), (found.group(1), ""))[0]
        return _("%(field)s is required.") % {"field": _(label)}
    if found := _BELOW.fullmatch(message):
        return _("Quantity less than minimal %(minimum)s") % {"minimum": found.group(1)}
    if found := _ABOVE.fullmatch(message):
        return _("Quantity more than maximum %(maximum)s") % {"maximum": found.group(1)}
    return i18n.explain(refused)
