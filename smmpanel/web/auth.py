"""Customer sign-up, sign-in and sign-out, and the language switch."""

from fastapi import APIRouter
from starlette.responses import Response

from smmpanel.accounts.models import CUSTOMER_ACTIVE
from smmpanel.accounts.passwords import check_new_password, hash_password
from smmpanel.accounts.service import SigningInCustomer, create_customer, customer_for_sign_in
from smmpanel.errors import Refusal, refusal
from smmpanel.pagekit import i18n, signing_in
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import (
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    YEAR_SECONDS,
    AnyVisit,
    safe_next,
)
from smmpanel.pagekit.sessions import CUSTOMER_SESSION_DAYS, start_customer_session
from smmpanel.pagekit.signing_in import Door

router = APIRouter()
HOME = "/dashboard"

ACCOUNT_SUSPENDED = refusal(
    "account_suspended", "This account is suspended. Contact the panel's operator."
)
PASSWORDS_DIFFER = refusal("passwords_differ", "The two passwords differ.")
NAME_TAKEN = refusal("sign_up_name_taken", "That name is taken; choose another.")


def _suspended(account: SigningInCustomer) -> Refusal | None:
    return ACCOUNT_SUSPENDED() if account.status != CUSTOMER_ACTIVE else None


CUSTOMERS = Door(
    path="/signin",
    template="web/signin.html",
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


@router.get("/signup")
async def sign_up_page(current: AnyVisit) -> Response:
    return current.render("web/signup.html", name="", email="", error=None)


@router.post("/signup")
async def sign_up(current: AnyVisit) -> Response:
    form = await current.form()
    name = str(form.get("name", "")).strip()
    email = str(form.get("email", "")).strip() or None
    password = str(form.get("password", ""))
    try:
        if password != str(form.get("password_again", "")):
            raise PASSWORDS_DIFFER()
        check_new_password(password)
        password_hash = await hash_password(password)
        async with current.db.write() as conn:
            # The panel's own refusal would tell a visitor the customer's id.
            if await customer_for_sign_in(conn, name) is not None:
                raise NAME_TAKEN()
            customer_id = await create_customer(
                conn, name, email=email, password_hash=password_hash
            )
            token = await start_customer_session(conn, customer_id)
    except Refusal as error:
        error_text = i18n.explain(error)
        return current.render(
            "web/signup.html", 400, name=name, email=email or "", error=error_text
        )
    CUSTOMERS.keep_session(current, token)
    return current.redirect(HOME, _("Welcome! Your account is ready."))


@router.post("/signout")
async def sign_out(current: AnyVisit) -> Response:
    return await signing_in.sign_out(current, CUSTOMERS)


@router.get("/language/{language}")
async def switch_language(language: str, current: AnyVisit, next: str = "/") -> Response:
    chosen = i18n.known_language(language)
    if chosen:
        current.set_cookie(LANGUAGE_COOKIE, chosen, max_age=YEAR_SECONDS)
    return current.redirect(safe_next(next, "/"))
