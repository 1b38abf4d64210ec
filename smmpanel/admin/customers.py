"""Operator pages: customers (search, details, suspend, funds, custom prices)."""

from decimal import Decimal

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smmpanel.accounts.models import CUSTOMER_ACTIVE, CUSTOMER_SUSPENDED
from smmpanel.accounts.service import adjust_funds, list_api_keys, set_customer_status
from smmpanel.admin import customers_queries as queries
from smmpanel.catalog.service import CatalogError, find_service, set_customer_price
from smmpanel.errors import DomainError, Refusal
from smmpanel.money import parse, render_balance, to_micros
from smmpanel.orders.validation import parse_positive_int
from smmpanel.pagekit import i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.ledger import ledger_page
from smmpanel.pagekit.pages import OperatorVisit, Visit
from smmpanel.pagekit.pagination import list_address, page_number

router = APIRouter()
STATUSES = (CUSTOMER_ACTIVE, CUSTOMER_SUSPENDED)
# Far above any real adjustment or rate, far below what a BIGINT of millionths holds.
LARGEST_AMOUNT = Decimal(1_000_000_000)
LONGEST_REASON = 1000
LONGEST_SEARCH = 200
EMPTY_FUNDS = {"amount": "", "reason": ""}
EMPTY_PRICE = {"service": "", "rate": ""}


class FormRefused(Exception):
    """A form value the page refuses before any domain service sees it; says why."""


def detail_path(customer_id: int) -> str:
    return f"/admin/customers/{customer_id}"


@router.get("/admin/customers")
async def customer_list(
    current: OperatorVisit, q: str = "", status: str = "", page: str = ""
) -> Response:
    search = q.strip()[:LONGEST_SEARCH]
    status = status if status in STATUSES else ""
    async with current.db.read() as conn:
        found = await queries.search_customers(conn, search, status, page_number(page))
    return current.render(
        "admin/customers.html",
        found=found,
        search=search,
        status=status,
        statuses=STATUSES,
        page_url=lambda number: list_address("/admin/customers", number, q=search, status=status),
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
        }
    return current.render(
        "admin/customers_detail.html",
        status_code,
        customer=customer,
        error=error,
        funds=funds,
        price=price,
        **context,
    )


@router.post("/admin/customers/{customer_id:id}/status")
async def change_status(current: OperatorVisit, customer_id: int) -> Response:
    form = await current.form()
    status = str(form.get("status", ""))
    if status not in STATUSES:
        return await _detail_page(current, customer_id, 400, error=_("Choose a status."))
    async with current.db.write() as conn:
        if await queries.customer_details(conn, customer_id) is None:
            raise HTTPException(404)
        await set_customer_status(conn, customer_id, status == CUSTOMER_ACTIVE)
    message = (
        _("The customer is active again and may sign in.")
        if status == CUSTOMER_ACTIVE
        else _("The customer is suspended: signed out, and refused on the pages and the API.")
    )
    return current.redirect(detail_path(customer_id), message)


@router.post("/admin/customers/{customer_id:id}/funds")
async def change_funds(current: OperatorVisit, customer_id: int) -> Response:
    form = await current.form()
    typed = {name: str(form.get(name, "")).strip() for name in EMPTY_FUNDS}
    try:
        unreadable = _("Type an amount such as 25 or -10.50, with at most 6 decimals.")
        amount = to_micros(_amount(typed["amount"], unreadable))
        if len(typed["reason"]) > LONGEST_REASON:
            raise FormRefused(
                _("Keep the reason under %(count)d characters.") % {"count": LONGEST_REASON}
            )
        async with current.db.write() as conn:
            if await queries.customer_details(conn, customer_id) is None:
                raise HTTPException(404)
            balance = await adjust_funds(conn, customer_id, amount, typed["reason"])
    except FormRefused as refused:
        return await _detail_page(current, customer_id, 400, error=str(refused), funds=typed)
    except DomainError as error:
        return await _detail_page(current, customer_id, 400, error=i18n.explain(error), funds=typed)
    message = _("Funds changed. The balance is now %(balance)s.") % {
        "balance": render_balance(balance)
    }
    return current.redirect(detail_path(customer_id), message)


@router.post("/admin/customers/{customer_id:id}/prices")
async def change_price(current: OperatorVisit, customer_id: int) -> Response:
    form = await current.form()
    typed = {name: str(form.get(name, "")).strip() for name in EMPTY_PRICE}
    try:
        service_id = parse_positive_int(typed["service"])
        if service_id is None:
            raise FormRefused(_("Give the service's id, a whole number."))
        unreadable = _("Type a rate such as 1.25, with at most 6 decimals.")
        rate = to_micros(_amount(typed["rate"], unreadable)) if typed["rate"] else None
        async with current.db.write() as conn:
            if await queries.customer_details(conn, customer_id) is None:
                raise HTTPException(404)
            await _existing_service(conn, service_id)
            await set_customer_price(conn, customer_id, service_id, rate)
    except FormRefused as refused:
        return await _detail_page(current, customer_id, 400, error=str(refused), price=typed)
    except DomainError as error:
        return await _detail_page(current, customer_id, 400, error=i18n.explain(error), price=typed)
    message = (
        _("The custom price is saved.")
        if rate is not None
        else _("The custom price is removed: the list price applies.")
    )
    return current.redirect(detail_path(customer_id), message)


async def _existing_service(conn, service_id: int) -> None:  # type: ignore[no-untyped-def]
    try:
        await find_service(conn, service_id)
    except CatalogError:
        raise FormRefused(_("There is no service %(id)d.") % {"id": service_id}) from None


def _amount(text: str, unreadable: str) -> Decimal:
    """An amount as typed, at most 6 decimals; the domain services judge its sign."""
    try:
        amount = parse(text)
    except (Refusal, ArithmeticError):  # parse lets a huge exponent's InvalidOperation out
        raise FormRefused(unreadable) from None
    if abs(amount) > LARGEST_AMOUNT:
        raise FormRefused(_("That amount is too large."))
    return amount
