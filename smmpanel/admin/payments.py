"""Operator pages: every payment (the ones to review first), one payment with the gateway's
notices about it, and settling it by hand: approving credits it once, rejecting needs a reason.

Both go through the domain's `approve` and `reject`, as `smmpanel payment approve` does: a
payment already settled is refused there, whatever the page showed.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import APIRouter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from smmpanel.accounts.models import customers
from smmpanel.accounts.names import name_key
from smmpanel.accounts.service import customer_name
from smmpanel.admin.audit import note
from smmpanel.db.base import AnyRow
from smmpanel.errors import N_, Refusal, refusal
from smmpanel.pagekit import forms, i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.money_format import format_money
from smmpanel.pagekit.pages import OperatorVisit, Visit
from smmpanel.pagekit.pagination import list_address
from smmpanel.payments.methods import list_methods, method_by_id
from smmpanel.payments.models import (
    EXPIRED,
    FAILED,
    PAID,
    PAYMENT_STATUSES,
    PENDING,
    REVIEW,
    payments,
)
from smmpanel.payments.service import (
    APPROVABLE,
    NO_SUCH_PAYMENT,
    PAGE_SIZE,
    REJECTABLE,
    Payment,
    approve,
    notices_of,
    payment_by_id,
    payment_rows,
    reject,
)

router = APIRouter()
PAYMENTS = "/admin/payments"
FILTER_FIELDS = ("status", "method", "customer", "before")
LONGEST_REASON = 1000
# The statuses as the operator's pages name them.
STATUS_LABELS = {
    PENDING: N_("Pending"),
    REVIEW: N_("To review"),
    PAID: N_("Paid"),
    FAILED: N_("Failed"),
    EXPIRED: N_("Expired"),
}

CHOOSE_PAYMENT_STATUS = refusal(
    "form_choose_payment_status", "Choose a payment status from the list."
)
CHOOSE_PAYMENT_METHOD = refusal(
    "form_choose_payment_method", "Choose a payment method from the list."
)


def status_label(status: str) -> str:
    return _(STATUS_LABELS.get(status, status))


def payment_path(payment_id: int) -> str:
    return f"{PAYMENTS}/{payment_id}"


# ---- the list


@dataclass(frozen=True)
class PaymentFilters:
    status: str | None
    method_id: int | None
    customer: str  # a customer's name as typed; empty for all
    before_id: int | None  # the keyset: payments older than this one


@dataclass(frozen=True)
class Listing:
    """One page of payments, newest first, and the review queue above it."""

    rows: list[AnyRow]
    older_than: int | None  # the id the next page starts below; None on the last page
    to_review: list[AnyRow]
    review_count: int
    no_such_customer: bool = False


def payment_filters(typed: Mapping[str, str]) -> PaymentFilters:
    status = typed["status"] or None
    if status is not None and status not in PAYMENT_STATUSES:
        raise CHOOSE_PAYMENT_STATUS()
    method = typed["method"]
    if method and not forms.is_id(method):
        raise CHOOSE_PAYMENT_METHOD()
    before = typed["before"]
    return PaymentFilters(
        status=status,
        method_id=int(method) if method else None,
        customer=typed["customer"],
        before_id=int(before) if forms.is_id(before) else None,
    )


async def find_payments(conn: AsyncConnection, filters: PaymentFilters) -> Listing:
    customer_id = None
    if filters.customer:
        customer_id = await _customer_named(conn, filters.customer)
        if customer_id is None:
            return Listing([], None, [], 0, no_such_customer=True)
    method_id = filters.method_id
    rows = await payment_rows(
        conn,
        status=filters.status,
        customer_id=customer_id,
        method_id=method_id,
        before_id=filters.before_id,
        limit=PAGE_SIZE + 1,
    )
    older_than = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    to_review: list[AnyRow] = []
    review_count = 0
    if filters.status is None and filters.before_id is None:
        to_review = await payment_rows(
            conn, status=REVIEW, customer_id=customer_id, method_id=method_id
        )
        review_count = await _review_count(conn, customer_id, method_id)
    return Listing(rows[:PAGE_SIZE], older_than, to_review, review_count)


async def _customer_named(conn: AsyncConnection, name: str) -> int | None:
    query = select(customers.c.id).where(customers.c.name_key == name_key(name))
    return await conn.scalar(query)


async def _review_count(
    conn: AsyncConnection, customer_id: int | None, method_id: int | None
) -> int:
    query = select(func.count()).select_from(payments).where(payments.c.status == REVIEW)
    if customer_id is not None:
        query = query.where(payments.c.customer_id == customer_id)
    if method_id is not None:
        query = query.where(payments.c.method_id == method_id)
    return await conn.scalar(query) or 0


@router.get(PAYMENTS)
async def payment_list(current: OperatorVisit) -> Response:
    typed = {name: current.request.query_params.get(name, "").strip() for name in FILTER_FIELDS}
    try:
        filters = payment_filters(typed)
    except Refusal as refused:
        return await _list_page(current, typed, None, i18n.explain(refused))
    async with current.db.read() as conn:
        listing = await find_payments(conn, filters)
    return await _list_page(current, typed, listing)


async def _list_page(
    current: Visit, typed: dict[str, str], listing: Listing | None, error: str | None = None
) -> Response:
    async with current.db.read() as conn:
        methods = await list_methods(conn)
    kept = {name: value for name, value in typed.items() if name != "before"}
    return current.render(
        "admin/payments.html",
        400 if error else 200,
        typed=typed,
        listing=listing,
        error=error,
        methods=methods,
        statuses=tuple(STATUS_LABELS),
        status_label=status_label,
        first_page=list_address(PAYMENTS, 1, **kept),
        older_page=lambda before_id: list_address(PAYMENTS, 1, **kept, before=before_id),
        review_page=list_address(PAYMENTS, 1, **(kept | {"status": REVIEW})),
    )


# ---- one payment


@router.get(PAYMENTS + "/{payment_id:id}")
async def payment_page(payment_id: int, current: OperatorVisit) -> Response:
    return await _payment_page(current, payment_id)


async def _payment_page(
    current: Visit,
    payment_id: int,
    status_code: int = 200,
    error: str | None = None,
    reason: str = "",
) -> Response:
    async with current.db.read() as conn:
        payment = await _payment_or_none(conn, payment_id)
        if payment is None:
            return forms.not_found(current)
        method = await method_by_id(conn, payment.method_id)
        customer = await customer_name(conn, payment.customer_id)
        notices = await notices_of(conn, payment_id)
    return current.render(
        "admin/payment.html",
        status_code,
        payment=payment,
        method=method,
        customer=customer,
        notices=notices,
        status_label=status_label,
        approvable=payment.status in APPROVABLE,
        rejectable=payment.status in REJECTABLE,
        error=error,
        reason=reason,
        longest_reason=LONGEST_REASON,
    )


async def _payment_or_none(conn: AsyncConnection, payment_id: int) -> Payment | None:
    try:
        return await payment_by_id(conn, payment_id)
    except Refusal as refused:
        if refused.kind is NO_SUCH_PAYMENT:
            return None
        raise


@router.post(PAYMENTS + "/{payment_id:id}/approve")
async def approve_payment(payment_id: int, current: OperatorVisit) -> Response:
    await current.form()
    try:
        async with current.db.write() as conn:
            approved = await approve(conn, payment_id)
            await note(conn, current, "payment.approve", f"payment:{payment_id}")
    except Refusal as refused:
        return await _refused(current, payment_id, refused)
    added = approved.credited + approved.bonus
    language = i18n.current_language.get()
    message = _("Payment %(id)s approved: %(amount)s added to the balance.") % {
        "id": payment_id,
        "amount": format_money(added, "amount", language, current.panel.currency),
    }
    return current.redirect(payment_path(payment_id), message)


@router.post(PAYMENTS + "/{payment_id:id}/reject")
async def reject_payment(payment_id: int, current: OperatorVisit) -> Response:
    form = await current.form()
    reason = forms.text(form, "reason")
    try:
        if len(reason) > LONGEST_REASON:
            raise forms.FIELD_TOO_LONG(field=_("Reason"), count=LONGEST_REASON)
        async with current.db.write() as conn:
            await reject(conn, payment_id, reason)
            await note(conn, current, "payment.reject", f"payment:{payment_id}", reason)
    except Refusal as refused:
        return await _refused(current, payment_id, refused, reason)
    message = _("Payment %(id)s rejected; nothing was credited.") % {"id": payment_id}
    return current.redirect(payment_path(payment_id), message)


async def _refused(current: Visit, payment_id: int, refused: Refusal, reason: str = "") -> Response:
    if refused.kind is NO_SUCH_PAYMENT:
        return forms.not_found(current)
    shown = {}
    if "status" in refused.params:
        shown["status"] = status_label(str(refused.params["status"]))
    error = i18n.explain(refused, **shown)
    return await _payment_page(current, payment_id, 400, error, reason)
