"""Customer sign-up, sign-in and sign-out, and the language switch."""

from fastapi import APIRouter
from starlette.responses import Response

from smmpanel.accounts.models import CUSTOMER_ACTIVE
from smmpanel.accounts.service import create_customer, customer_for_sign_in
from smmpanel.errors import DomainError
from smmpanel.web import i18n
from smmpanel.web.i18n import gettext as _
from smmpanel.web.pages import (
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    YEAR_SECONDS,
    AnyVisit,
    Visit,
    safe_next,
)
from smmpanel.web.passwords import check_new_password, hash_password, verify_password
from smmpanel.web.sessions import CUSTOMER_SESSION_DAYS, end_session, start_customer_session
from smmpanel.web.throttle import forget_failures, is_throttled, record_failure

router = APIRouter()
HOME = "/dashboard"


def client_address(current: Visit) -> str:
    client = current.request.client
    return client.host if client else "unknown"


@router.get("/signin")
async def sign_in_page(current: AnyVisit, next: str = "") -> Response:
    return current.render("web/signin.html", name="", next=safe_next(next, HOME), error=None)


@router.post("/signin")
async def sign_in(current: AnyVisit) -> Response:
    form = await current.form()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "")), HOME)
    address = client_address(current)

    def refuse(error: str, status_code: int) -> Response:
        return current.render(
            "web/signin.html", status_code, name=name, next=next_path, error=error
        )

    async with current.db.write() as conn:
        if await is_throttled(conn, name, address):
            return refuse(_("Too many failed sign-ins. Wait 15 minutes and try again."), 429)
        account = await customer_for_sign_in(conn, name)
        if not await verify_password(account.password_hash if account else None, password):
            await record_failure(conn, name, address)
            return refuse(_("Wrong name or password."), 401)
        if account.status != CUSTOMER_ACTIVE:
            return refuse(_("This account is suspended. Contact the panel's operator."), 403)
        await forget_failures(conn, name)
        token = await start_customer_session(conn, account.id)
    current.set_cookie(SESSION_COOKIE, token, max_age=CUSTOMER_SESSION_DAYS * 24 * 3600)
    return current.redirect(next_path)


@router.get("/signup")
async def sign_up_page(current: AnyVisit) -> Response:
    return current.render("web/signup.html", name="", email="", error=None)


@router.post("/signup")
async def sign_up(current: AnyVisit) -> Response:
    form = await current.form()
    name = str(form.get("name", "")).strip()
    email = str(form.get("email", "")).strip() or None
    password = str(form.get("password", ""))

    def refuse(error: str) -> Response:
        return current.render("web/signup.html", 400, name=name, email=email or "", error=error)

    if password != str(form.get("password_again", "")):
        return refuse(_("The two passwords differ."))
    try:
        check_new_password(password)
        password_hash = await hash_password(password)
        async with current.db.write() as conn:
            if await customer_for_sign_in(conn, name) is not None:
                return refuse(_("That name is taken; choose another."))
            customer_id = await create_customer(
                conn, name, email=email, password_hash=password_hash
            )
            token = await start_customer_session(conn, customer_id)
    except DomainError as error:
        return refuse(i18n.explain(error))
    current.set_cookie(SESSION_COOKIE, token, max_age=CUSTOMER_SESSION_DAYS * 24 * 3600)
    return current.redirect(HOME, _("Welcome! Your account is ready."))


@router.post("/signout")
async def sign_out(current: AnyVisit) -> Response:
    await current.form()
    token = current.request.cookies.get(SESSION_COOKIE)
    if token:
        async with current.db.write() as conn:
            await end_session(conn, token)
    response = current.redirect("/signin", _("You are signed out."))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/language/{language}")
async def switch_language(language: str, current: AnyVisit, next: str = "/") -> Response:
    chosen = i18n.known_language(language)
    if chosen:
        current.set_cookie(LANGUAGE_COOKIE, chosen, max_age=YEAR_SECONDS)
    return current.redirect(safe_next(next, "/"))
