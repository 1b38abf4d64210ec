"""Customer sign-up, sign-in and sign-out, and the language switch."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from smmpanel.accounts.models import CUSTOMER_ACTIVE
from smmpanel.accounts.names import check_new_name
from smmpanel.accounts.passwords import MIN_PASSWORD_LENGTH, check_new_password, hash_password
from smmpanel.accounts.service import (
    CUSTOMER_NAME_TAKEN,
    SigningInCustomer,
    create_customer,
    customer_for_sign_in,
)
from smmpanel.errors import Refusal, refusal
from smmpanel.outbox.languages import choose_language, chosen_language
from smmpanel.pagekit import i18n, signing_in
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import (
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    YEAR_SECONDS,
    AnyVisit,
    Visit,
    safe_next,
)
from smmpanel.pagekit.sessions import CUSTOMER_SESSION_DAYS, start_customer_session
from smmpanel.pagekit.signing_in import Door
from smmpanel.pagekit.throttle import drop_sign_up, record_sign_up, too_many_sign_ups

router = APIRouter()
HOME = "/dashboard"

ACCOUNT_SUSPENDED = refusal(
    "account_suspended", "This account is suspended. Contact the panel's operator."
)
PASSWORDS_DIFFER = refusal("passwords_differ", "The two passwords differ.")
NAME_TAKEN = refusal("sign_up_name_taken", "That name is taken; choose another.")
TOO_MANY_SIGN_UPS = refusal(
    "sign_up_throttled", "Too many sign-ups from your address. Wait an hour and try again."
)


def _suspended(account: SigningInCustomer) -> Refusal | None:
    return ACCOUNT_SUSPENDED() if account.status != CUSTOMER_ACTIVE else None


CUSTOMERS = Door(
    path="/signin",
    template="web/signin.html",
    layout="web/layout.html",
    kind="customer",
    home=HOME,
    find_account=customer_for_sign_in,
    start_session=start_customer_session,
    cookie=SESSION_COOKIE,
    cookie_path="/",
    session_seconds=CUSTOMER_SESSION_DAYS * 24 * 3600,
    why_refused=_suspended,
)


@router.get("/signin")
async def sign_in_page(current: AnyVisit, next: str = "") -> Response:
    return signing_in.sign_in_page(current, CUSTOMERS, next)


@router.post("/signin")
async def sign_in(current: AnyVisit) -> Response:
    return await signing_in.sign_in(current, CUSTOMERS)


@router.get("/signin/code")
async def code_page(current: AnyVisit) -> Response:
    return signing_in.code_page(current, CUSTOMERS)


@router.post("/signin/code")
async def enter_code(current: AnyVisit) -> Response:
    return await signing_in.enter_code(current, CUSTOMERS)


@router.get("/signup")
async def sign_up_page(current: AnyVisit) -> Response:
    return _sign_up_form(current, 200, name="", email="", error=None)


def _sign_up_form(
    current: Visit, status_code: int, name: str, email: str, error: str | None
) -> Response:
    return current.render(
        "web/signup.html",
        status_code,
        name=name,
        email=email,
        error=error,
        min_password_length=MIN_PASSWORD_LENGTH,
    )


@router.post("/signup")
async def sign_up(current: AnyVisit) -> Response:
    form = await current.form()
    name = str(form.get("name", "")).strip()
    email = str(form.get("email", "")).strip() or None
    password = str(form.get("password", ""))
    try:
        if password != str(form.get("password_again", "")):
            raise PASSWORDS_DIFFER()
        check_new_name(name)
        check_new_password(password)
        await _count_sign_up(current)
        password_hash = await hash_password(password)  # outside any transaction: it is slow
        async with current.db.write() as conn:
            customer_id = await _new_customer(conn, name, email, password_hash)
            token = await start_customer_session(conn, customer_id)
    except Refusal as error:
        status_code = 429 if error.kind is TOO_MANY_SIGN_UPS else 400
        return _sign_up_form(current, status_code, name, email or "", i18n.explain(error))
    CUSTOMERS.keep_session(current, token)
    return current.redirect(HOME, _("Welcome! Your account is ready."))


async def _count_sign_up(current: Visit) -> None:
    """Refuse a sign-up past the address's allowance per hour (see pagekit.throttle)."""
    address = signing_in.client_address(current)
    allowed = current.pages.settings.sign_ups_per_address_per_hour
    async with current.db.write() as conn:
        sign_up_id = await record_sign_up(conn, address)
    async with current.db.read() as conn:
        too_many = await too_many_sign_ups(conn, address, allowed)
    if too_many:
        async with current.db.write() as conn:
            await drop_sign_up(conn, sign_up_id)
        raise TOO_MANY_SIGN_UPS()


async def _new_customer(
    conn: AsyncConnection, name: str, email: str | None, password_hash: str
) -> int:
    try:
        return await create_customer(conn, name, email=email, password_hash=password_hash)
    except Refusal as refused:
        if refused.kind is CUSTOMER_NAME_TAKEN:
            # The panel's own refusal would tell a visitor the customer's id.
            raise NAME_TAKEN() from None
        raise


@router.post("/signout")
async def sign_out(current: AnyVisit) -> Response:
    return await signing_in.sign_out(current, CUSTOMERS)


@router.get("/language/{language}")
async def switch_language(language: str, current: AnyVisit, next: str = "/") -> Response:
    chosen = i18n.known_language(language)
    if chosen:
        current.set_cookie(LANGUAGE_COOKIE, chosen, max_age=YEAR_SECONDS)
        if current.customer is not None:
            await _keep_mail_language(current, current.customer.account_id, chosen)
    return current.redirect(safe_next(next, "/"))


async def _keep_mail_language(current: AnyVisit, customer_id: int, chosen: str) -> None:
    """The customer's e-mails follow the language they read the pages in."""
    async with current.db.read() as conn:
        kept = await chosen_language(conn, customer_id)
    if kept != chosen:
        async with current.db.write() as conn:
            await choose_language(conn, customer_id, chosen)
