"""Orders placed from the pages, through the same domain function as the API's `add`."""

from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError

from smmpanel.catalog.service import orderable_service
from smmpanel.db import Database, is_unique_violation
from smmpanel.errors import Refusal
from smmpanel.orders import refusals
from smmpanel.orders.placement import explain_conflict, place_order
from smmpanel.orders.validation import parse_positive_int, validate_order
from smmpanel.pagekit import i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.web.customer_fields import FIELD_TEXTS


async def place(db: Database, customer_id: int, fields: Mapping[str, str]) -> int:
    """Place and charge one order in its own transaction; its id. Raises Refusal."""
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
        raise refusals.INCORRECT_SERVICE()
    return validate_order(service, fields).charge


def explain_refusal(refused: Refusal) -> str:
    """An order's refusal in the page's language, a missing field named by its form label."""
    field = refused.params.get("field")
    if isinstance(field, str) and field in FIELD_TEXTS:
        return i18n.explain(refused, field=_(FIELD_TEXTS[field][0]))
    return i18n.explain(refused)
