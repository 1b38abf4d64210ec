"""Operator pages: customers (search, details and last payments, suspend, funds, custom prices,
signing in as the customer)."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smmpanel.accounts.models import CUSTOMER_ACTIVE, CUSTOMER_SUSPENDED
from smmpanel.accounts.service import adjust_funds, list_api_keys, set_customer_status
from smmpanel.admin import customers_queries as queries
from smmpanel.admin.audit import note
from smmpanel.admin.keyset import AFTER, BEFORE, cursor_from, keyset_address
from smmpanel.admin.payments import status_label
from smmpanel.catalog.service import find_service, set_customer_price
from smmpanel.errors import Refusal, refusal
from smmpanel.money import to_micros
from smmpanel.pagekit import forms, i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.ledger import ledger_page
from smmpanel.pagekit.money_format import format_money
from smmpanel.pagekit.pages import SESSION_COOKIE, OperatorVisit, Visit
from smmpanel.pagekit.pagination import page_number
from smmpanel.pagekit.sessions import start_customer_session
from smmpanel.payments.service import payment_rows

router = APIRouter()
STATUSES = (CUSTOMER_ACTIVE, CUSTOMER_SUSPENDED)
LONGEST_REASON = 1000
LONGEST_SEARCH = 200
RECENT_PAYMENTS = 10
EMPTY_FUNDS = {"amount": "", "reason": ""}
EMPTY_PRICE = {"service": "", "rate": ""}

CHOOSE_STATUS = refusal("form_choose_customer_status", "Choose a status.")
NO_SUCH_SERVICE = refusal("form_no_such_service", "There is no service %(id)s.")
SUSPENDED_NOT_SIGNED_IN = refusal(
    "customer_suspended_no_sign_in", "A suspended customer cannot be signed in as."
)


def subject(customer_id: int) -> str:
    return f"customer:{customer_id}"


def detail_path(customer_id: int) -> str:
    return f"/admin/customers/{customer_id}"


@router.get("/admin/customers")
async def customer_list(current: OperatorVisit, q: str = "", status: str = "") -> Response:
    search = q.strip()[:LONGEST_SEARCH]
    status = status if status in STATUSES else ""
    cursor = cursor_from(current.request.query_params)
    async with current.db.read() as conn:
        found = await queries.search_customers(conn, search, status, cursor)
    filters = {"q": search, "status": status}
    return current.render(
        "admin/customers.html",
        found=found,
        search=search,
        status=status,
        statuses=STATUSES,
        recent_days=queries.RECENT_DAYS.days,
        page_url=lambda before=None, after=None: keyset_address(
            "/admin/customers", filters, **{BEFORE: before, AFTER: after}
        ),
    )


@router.get("/admin/customers/{customer_id:id}")
async def customer_detail(current: OperatorVisit, customer_id: int, ledger: str = "") -> Response:
    return await _detail_page(current, customer_id, ledger_number=page_number(ledger))


async def _detail_page(
    current: Visit,
    customer_id: int,
    status_code: int = 200,
    *,
    ledger_number: int = 1,
    error: str | None = None,
    funds: dict[str, str] = EMPTY_FUNDS,
    price: dict[str, str] = EMPTY_PRICE,
) -> Response:
    async with current.db.read() as conn:
        customer = await queries.customer_details(conn, customer_id)
        if customer is None:
            raise HTTPException(404)
        context = {
            "keys": await list_api_keys(conn, customer_id),
            "orders": await queries.recent_orders(conn, customer_id),
            "ledger": await ledger_page(conn, customer_id, ledger_number),
            "prices": await queries.custom_prices(conn, customer_id),
            "payments": await payment_rows(conn, customer_id=customer_id, limit=RECENT_PAYMENTS),
        }
    return current.render(
        "admin/customers_detail.html",
        status_code,
        customer=customer,
        error=error,
        funds=funds,
        price=price,
        payment_status_label=status_label,
        **context,
    )


@router.post("/admin/customers/{customer_id:id}/status")
async def change_status(current: OperatorVisit, customer_id: int) -> Response:
    form = await current.form()
    status = str(form.get("status", ""))
    if status not in STATUSES:
        error = i18n.explain(CHOOSE_STATUS())
        return await _detail_page(current, customer_id, 400, error=error)
    async with current.db.write() as conn:
        if await queries.customer_details(conn, customer_id) is None:
            raise HTTPException(404)
        await set_customer_status(conn, customer_id, status == CUSTOMER_ACTIVE)
        action = "customer.unsuspend" if status == CUSTOMER_ACTIVE else "customer.suspend"
        await note(conn, current, action, subject(customer_id))
    message = (
        _("The customer is active again and may sign in.")
        if status == CUSTOMER_ACTIVE
        else _("The customer is suspended: signed out, and refused on the pages and the API.")
    )
    return current.redirect(detail_path(customer_id), message)


@router.post("/admin/customers/{customer_id:id}/funds")
async def change_funds(current: OperatorVisit, customer_id: int) -> Response:
    form = await current.form()
    typed = {name: forms.text(form, name) for name in EMPTY_FUNDS}
    try:
        amount = to_micros(forms.typed_amount(typed["amount"], _("Amount")))
        if len(typed["reason"]) > LONGEST_REASON:
            raise forms.FIELD_TOO_LONG(field=_("Reason"), count=LONGEST_REASON)
        async with current.db.write() as conn:
            if await queries.customer_details(conn, customer_id) is None:
                raise HTTPException(404)
            reason = _signed_reason(current, typed["reason"])
            balance = await adjust_funds(conn, customer_id, amount, reason)
            detail = f"{typed['amount']}: {typed['reason']}"
            await note(conn, current, "customer.funds", subject(customer_id), detail)
    except Refusal as error:
        return await _detail_page(current, customer_id, 400, error=i18n.explain(error), funds=typed)
    message = _("Funds changed. The balance is now %(balance)s.") % {
        "balance": format_money(
            balance, "balance", i18n.current_language.get(), current.panel.currency
        )
    }
    return current.redirect(detail_path(customer_id), message)


@router.post("/admin/customers/{customer_id:id}/prices")
async def change_price(current: OperatorVisit, customer_id: int) -> Response:
    form = await current.form()
    typed = {name: forms.text(form, name) for name in EMPTY_PRICE}
    try:
        service_id = forms.whole_number(form, "service", _("Service id"), low=1)
        rate_label = _("Rate per 1000")
        rate = to_micros(forms.typed_amount(typed["rate"], rate_label)) if typed["rate"] else None
        async with current.db.write() as conn:
            if await queries.customer_details(conn, customer_id) is None:
                raise HTTPException(404)
            await _existing_service(conn, service_id)
            await set_customer_price(conn, customer_id, service_id, rate)
            detail = f"service {service_id}: {typed['rate'] or '-'}"
            await note(conn, current, "customer.price", subject(customer_id), detail)
    except Refusal as error:
        return await _detail_page(current, customer_id, 400, error=i18n.explain(error), price=typed)
    message = (
        _("The custom price is saved.")
        if rate is not None
        else _("The custom price is removed: the list price applies.")
    )
    return current.redirect(detail_path(customer_id), message)


@router.post("/admin/customers/{customer_id:id}/sign-in-as")
async def sign_in_as(current: OperatorVisit, customer_id: int) -> Response:
    """Start a session of this customer in the operator's browser, to see what they see."""
    await current.form()
    async with current.db.write() as conn:
        customer = await queries.customer_details(conn, customer_id)
        if customer is None:
            raise HTTPException(404)
        if customer.status == CUSTOMER_ACTIVE:
            token = await start_customer_session(conn, customer_id)
            await note(conn, current, "customer.sign_in_as", subject(customer_id), customer.name)
    if customer.status != CUSTOMER_ACTIVE:
        error = i18n.explain(SUSPENDED_NOT_SIGNED_IN())
        return await _detail_page(current, customer_id, 400, error=error)
    # No max_age: the customer's session cookie goes when the operator's browser closes.
    current.set_cookie(SESSION_COOKIE, token)
    message = _("You are signed in as %(name)s.") % {"name": customer.name}
    return current.redirect("/dashboard", message)


def _signed_reason(current: Visit, reason: str) -> str:
    """The reason kept in the ledger, naming the operator; an empty one stays empty (refused).
    Not translated: the row is read later, in any language."""
    assert current.operator is not None
    return f"{reason} (operator: {current.operator.name})" if reason.strip() else reason


async def _existing_service(conn: AsyncConnection, service_id: int) -> None:
    try:
        await find_service(conn, service_id)
    except Refusal:  # its only refusal, worded for the command line
        raise NO_SUCH_SERVICE(id=service_id) from None
