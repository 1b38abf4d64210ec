"""Customer pages: funds (payment methods, payments, the ledger), paying, a payment's page.

A payment's page only shows what the panel knows: a balance changes on a gateway's verified
notice or an operator's approval, never because a browser came back from the gateway.
"""

from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter
from starlette.responses import Response

from smmpanel.errors import N_, Refusal
from smmpanel.integers import typed_id
from smmpanel.money import MICROS
from smmpanel.pagekit import i18n
from smmpanel.pagekit.forms import not_found, text
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.ledger import ledger_page
from smmpanel.pagekit.money_format import format_money
from smmpanel.pagekit.pages import CustomerVisit, Visit
from smmpanel.pagekit.pagination import list_address, page_number
from smmpanel.payments.flow import Started, start_payment
from smmpanel.payments.methods import Method, list_methods, method_by_id
from smmpanel.payments.service import payment_by_id, payment_rows

router = APIRouter()
PAYMENTS_SHOWN = 20
# An amount whose digits show every group separator of a language: 1,234,567,890.00 in English.
SHAPE_SAMPLE = 1_234_567_890 * MICROS
# The page that sends the browser on to a gateway lets its form go there, and nowhere else.
# What a gateway says the customer needs to pay at an ATM or a store (Notice.details keys).
DETAIL_LABELS = {
    "bank_code": N_("Bank code"),
    "account": N_("Account number"),
    "payment_no": N_("Payment code"),
    "barcode_1": N_("Barcode 1"),
    "barcode_2": N_("Barcode 2"),
    "barcode_3": N_("Barcode 3"),
    "expires": N_("Pay before"),
}
GATEWAY_PAGE_POLICY = (
    "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self' {origin}"
)


@router.get("/funds")
async def funds(current: CustomerVisit, page: str = "") -> Response:
    return await _funds_page(current, page)


async def _funds_page(
    current: Visit, page: str = "", error: str | None = None, typed: dict[str, str] | None = None
) -> Response:
    async with current.db.read() as conn:
        entries = await ledger_page(conn, current.customer_id, page_number(page))
        methods = await list_methods(conn, enabled_only=True)
        payments = await payment_rows(conn, customer_id=current.customer_id, limit=PAYMENTS_SHOWN)
    return current.render(
        "web/funds.html",
        status_code=400 if error else 200,
        balance=current.balance,
        entries=entries,
        methods=methods,
        terms_data={str(method.id): _terms_data(method) for method in methods},
        payments=payments,
        error=error,
        typed=typed or {},
        preview_texts={
            "paying": _("You pay %(amount)s (fee %(fee)s); %(credited)s lands on your balance"),
            "bonus": _(", plus a bonus of %(bonus)s"),
        },
        money_shapes=_money_shapes(
            current.language, {current.panel.currency, *(m.terms.currency for m in methods)}
        ),
        page_url=lambda number: list_address("/funds", number),
    )


def _terms_data(method: Method) -> dict[str, object]:
    """What funds.js needs to show, as an amount is typed, the fee and what lands."""
    terms = method.terms
    return {
        "currency": terms.currency,
        "rate": str(terms.rate),
        "fee_percent": str(terms.fee_percent),
        "fee_fixed": str(terms.fee_fixed),
        "bonus_percent": str(terms.bonus_percent),
        "bonus_from": str(terms.bonus_from),
    }


def _money_shapes(language: str, currencies: set[str]) -> dict[str, dict[str, object]]:
    """How the page writes an amount of each currency, for funds.js to write its preview the
    same way: read off amounts `format_money` writes, so that one rule makes both."""
    return {currency: _money_shape(language, currency) for currency in sorted(currencies)}


def _money_shape(language: str, currency: str) -> dict[str, object]:
    number = format_money(MICROS, "amount", language, "")  # "1.00"
    written = format_money(MICROS, "amount", language, currency)  # "USD 1.00"
    prefix, _number, suffix = written.partition(number)
    grouped = format_money(SHAPE_SAMPLE, "amount", language, "").rpartition(number[1])[0]
    group = next(char for char in grouped if not char.isdigit())
    sizes = [len(part) for part in grouped.split(group)]
    return {
        "prefix": prefix,
        "suffix": suffix,
        "decimal": number[1],
        "group": group,
        "grouping": [sizes[-1], sizes[-2]],  # the first group from the decimal sign, the others
    }


@router.post("/funds/pay")
async def pay(current: CustomerVisit) -> Response:
    form = await current.form()
    typed = {name: text(form, name) for name in ("method", "amount", "reference")}
    if typed_id(typed["method"]) is None:
        return await _funds_page(current, error=_("Choose a payment method."), typed=typed)
    try:
        started = await _start(current, typed)
    except Refusal as refused:
        return await _funds_page(current, error=i18n.explain(refused), typed=typed)
    if started.checkout is None:
        message = _("Payment noted. Your balance changes when the operator confirms it.")
        return current.redirect(f"/funds/payments/{started.payment_id}", message)
    return _gateway_page(current, started)


async def _start(current: Visit, typed: dict[str, str]) -> Started:
    settings = current.pages.settings
    http: httpx.AsyncClient = current.request.app.state.payment_http
    return await start_payment(
        current.db,
        http,
        customer_id=current.customer_id,
        method_id=int(typed["method"]),  # checked by typed_id
        amount_text=typed["amount"],
        lifetime=settings.payment_lifetime,
        base_url=settings.public_url or str(current.request.base_url),
        reference=typed["reference"],
        description=f"{current.panel.name} {_('balance top-up')}",
    )


def _gateway_page(current: Visit, started: Started) -> Response:
    assert started.checkout is not None
    checkout = started.checkout
    response = current.render("web/payment_go.html", checkout=checkout)
    parts = urlsplit(checkout.url)
    origin = f"{parts.scheme}://{parts.netloc}"
    response.headers["Content-Security-Policy"] = GATEWAY_PAGE_POLICY.format(origin=origin)
    return response


@router.get("/funds/payments/{payment_id:id}")
async def payment_page(current: CustomerVisit, payment_id: int) -> Response:
    async with current.db.read() as conn:
        try:
            payment = await payment_by_id(conn, payment_id)
        except Refusal:
            return not_found(current)
        if payment.customer_id != current.customer_id:
            return not_found(current)
        method = await method_by_id(conn, payment.method_id)
    return current.render(
        "web/payment.html",
        payment=payment,
        method=method,
        method_label=method.label(current.language),
        instructions=method.instructions_in(current.language),
        details=[
            (_(label), payment.details[key])
            for key, label in DETAIL_LABELS.items()
            if key in payment.details
        ],
    )
