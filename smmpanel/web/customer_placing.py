"""Orders from the pages: the charge shown before placing, and why one was refused."""

from collections.abc import Mapping

from smmpanel.catalog.service import orderable_service
from smmpanel.db import Database
from smmpanel.errors import Refusal
from smmpanel.orders import refusals
from smmpanel.orders.validation import parse_positive_int, validate_order
from smmpanel.pagekit import i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.web.customer_fields import FIELD_TEXTS


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
