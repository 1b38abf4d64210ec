"""Operator pages: a customer's discount on the list rates (the form is in
admin/customer_discount.html, on the customer's page)."""

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smmpanel.admin.audit import note
from smmpanel.admin.customers import detail_path, subject
from smmpanel.catalog.customer_discounts import parse_discount, percent_text, set_discount
from smmpanel.errors import Refusal
from smmpanel.pagekit import forms, i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit

router = APIRouter()


@router.post("/admin/customers/{customer_id:id}/discount")
async def change_discount(current: OperatorVisit, customer_id: int) -> Response:
    form = await current.form()
    try:
        discount_bp = parse_discount(forms.text(form, "percent"))
    except Refusal as error:
        return current.redirect(discount_path(customer_id), i18n.explain(error), "error")
    async with current.db.write() as conn:
        old = await set_discount(conn, customer_id, discount_bp)
        if old is None:
            raise HTTPException(404)
        detail = f"{percent_text(old)}% → {percent_text(discount_bp)}%"
        await note(conn, current, "customer.discount", subject(customer_id), detail)
    message = (
        _("The discount is now %(percent)s%% on the list rates.")
        % {"percent": percent_text(discount_bp)}
        if discount_bp
        else _("No discount: the list rates apply.")
    )
    return current.redirect(discount_path(customer_id), message)


def discount_path(customer_id: int) -> str:
    return f"{detail_path(customer_id)}#discount"
