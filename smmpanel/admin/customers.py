"""Operator pages: customers (search, add, details and last payments, name and e-mail, suspend,
funds, custom prices, API keys revoked, signing in as the customer)."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smmpanel.accounts.models import CUSTOMER_ACTIVE, CUSTOMER_SUSPENDED
from smmpanel.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password
from smmpanel.accounts.service import (
    adjust_funds,
    change_contact,
    check_email,
    create_customer,
    list_api_keys,
    revoke_all_api_keys,
    revoke_api_key,
    set_customer_status,
)
from smmpanel.admin import customers_queries as queries
from smmpanel.admin.audit import note
from smmpanel.admin.keyset import AFTER, BEFORE, cursor_from, keyset_address
from smmpanel.admin.payments import status_label
from smmpanel.catalog.service import ServiceFilter, find_service, find_services, set_customer_price
from smmpanel.db.base import AnyRow
from smmpanel.errors import Refusal, refusal
from smmpanel.money import to_micros
from smmpanel.outbox.languages import choose_language
from smmpanel.pagekit import forms, i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.ledger import ledger_page
from smmpanel.pagekit.money_format import format_money
from smmpanel.pagekit.pages import SESSION_COOKIE, OperatorVisit, Visit
from smmpanel.pagekit.pagination import page_number
from smmpanel.pagekit.sessions import start_customer_session
from smmpanel.panel.service import LANGUAGES
from smmpanel.payments.service import payment_rows

router = APIRouter()
STATUSES = (CUSTOMER_ACTIVE, CUSTOMER_SUSPENDED)
LONGEST_REASON = 1000
LONGEST_SEARCH = 200
RECENT_PAYMENTS = 10
# How many services a search offers in the custom price's list: enough to pick from, small
# enough for a page of a catalogue of thousands.
PRICE_CHOICES = 50
EMPTY_FUNDS = {"amount": "", "reason": ""}
EMPTY_PRICE = {"service": "", "rate": ""}
EMPTY_NEW = {"name": "", "email": "", "language": ""}

CHOOSE_STATUS = refusal("form_choose_customer_status", "Choose a status.")
NO_SUCH_SERVICE = refusal("form_no_such_service", "There is no service %(id)s.")
SUSPENDED_NOT_SIGNED_IN = refusal(
    "customer_suspended_no_sign_in", "A suspended customer cannot be signed in as."
)
CHOOSE_LANGUAGE = refusal("form_choose_customer_language", "Choose a language of the list.")


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


@router.get("/admin/customers/new")
async def new_customer_page(current: OperatorVisit) -> Response:
    return _new_customer_form(current)


def _new_customer_form(
    current: Visit,
    status_code: int = 200,
    *,
    error: str | None = None,
    typed: dict[str, str] = EMPTY_NEW,
) -> Response:
    return current.render(
        "admin/customer_new.html",
        status_code,
        error=error,
        typed=typed,
        languages=LANGUAGES,
        min_password_length=MIN_PASSWORD_LENGTH,
    )


@router.post("/admin/customers/new")
async def add_customer(current: OperatorVisit) -> Response:
    form = await current.form()
    typed = {name: forms.text(form, name) for name in EMPTY_NEW}
    try:
        if typed["language"] and typed["language"] not in LANGUAGES:
            raise CHOOSE_LANGUAGE()
        if typed["email"]:
            check_email(typed["email"])
        password = _password(form)
        # Hashed outside any transaction: it is slow.
        password_hash = await hash_password(password) if password else None
        async with current.db.write() as conn:
            customer_id = await create_customer(
                conn, typed["name"], email=typed["email"] or None, password_hash=password_hash
            )
            if typed["language"]:
                await choose_language(conn, customer_id, typed["language"])
            await note(conn, current, "customer.add", subject(customer_id), typed["name"])
    except Refusal as refused:
        return _new_customer_form(current, 400, error=i18n.explain(refused), typed=typed)
    message = _("Customer %(name)s added.") % {"name": typed["name"]}
    return current.redirect(detail_path(customer_id), message)


def _password(form: FormData) -> str:
    """The password as typed: spaces are part of it."""
    value = form.get("password", "")
    return value if isinstance(value, str) else ""


@router.get("/admin/customers/{customer_id:id}")
async def customer_detail(
    current: OperatorVisit, customer_id: int, ledger: str = "", price_q: str = ""
) -> Response:
    return await _detail_page(
        current, customer_id, ledger_number=page_number(ledger), price_search=price_q
    )


async def _detail_page(
    current: Visit,
    customer_id: int,
    status_code: int = 200,
    *,
    ledger_number: int = 1,
    error: str | None = None,
    funds: dict[str, str] = EMPTY_FUNDS,
    price: dict[str, str] = EMPTY_PRICE,
    price_search: str = "",
    contact: dict[str, str] | None = None,
) -> Response:
    price_search = price_search.strip()[:LONGEST_SEARCH]
    async with current.db.read() as conn:
        customer = await queries.customer_details(conn, customer_id)
        if customer is None:
            raise HTTPException(404)
        context = {
            "price_choices": await _price_choices(conn, price_search),
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
        price_search=price_search,
        contact=contact or {"name": customer.name, "email": customer.email or ""},
        payment_status_label=status_label,
        **context,
    )


async def _price_choices(conn: AsyncConnection, search: str) -> list[AnyRow]:
    """The services a custom price may be picked from: those the search finds, none without."""
    if not search:
        return []
    return await find_services(conn, ServiceFilter(search=search), 0, PRICE_CHOICES)


@router.post("/admin/customers/{customer_id:id}/profile")
async def change_profile(current: OperatorVisit, customer_id: int) -> Response:
    form = await current.form()
    typed = {"name": forms.text(form, "name"), "email": forms.text(form, "email")}
    try:
        async with current.db.write() as conn:
            old = await queries.customer_details(conn, customer_id)
            if old is None:
                raise HTTPException(404)
            await change_contact(conn, customer_id, typed["name"], typed["email"] or None)
            changes = _contact_changes(old, typed)
            if changes:
                await note(conn, current, "customer.profile", subject(customer_id), changes)
    except Refusal as refused:
        error = i18n.explain(refused)
        return await _detail_page(current, customer_id, 400, error=error, contact=typed)
    return current.redirect(detail_path(customer_id), _("Name and e-mail address saved."))


def _contact_changes(old: AnyRow, typed: dict[str, str]) -> str:
    """What the audit log keeps of a change: each field changed, old → new."""
    pairs = (("name", old.name, typed["name"]), ("e-mail", old.email or "", typed["email"]))
    return "; ".join(f"{field}: {was} → {now}" for field, was, now in pairs if was != now)


@router.post("/admin/customers/{customer_id:id}/keys/{key_id:id}/revoke")
async def revoke_key(current: OperatorVisit, customer_id: int, key_id: int) -> Response:
    await current.form()
    async with current.db.write() as conn:
        key = await queries.customer_key(conn, customer_id, key_id)
        if key is None:
            raise HTTPException(404)
        if key.revoked_at is None:
            await revoke_api_key(conn, key_id)
            detail = f"key {key_id} ({key.prefix}…)"
            await note(conn, current, "customer.key_revoke", subject(customer_id), detail)
    if key.revoked_at is not None:
        message = _("This key was revoked already.")
        return current.redirect(keys_path(customer_id), message, "error")
    return current.redirect(keys_path(customer_id), _("Key revoked: it no longer opens the API."))


@router.post("/admin/customers/{customer_id:id}/keys/revoke-all")
async def revoke_all_keys(current: OperatorVisit, customer_id: int) -> Response:
    await current.form()
    async with current.db.write() as conn:
        if await queries.customer_details(conn, customer_id) is None:
            raise HTTPException(404)
        count = await revoke_all_api_keys(conn, customer_id)
        if count:
            detail = f"{count} keys"
            await note(conn, current, "customer.keys_revoke_all", subject(customer_id), detail)
    message = _("Keys revoked: %(count)s. None of this customer's keys opens the API now.") % {
        "count": count
    }
    return current.redirect(keys_path(customer_id), message)


def keys_path(customer_id: int) -> str:
    return f"{detail_path(customer_id)}#keys"


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
