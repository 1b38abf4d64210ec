"""Operator sign-in and sign-out: a separate session cookie, scoped to /admin."""

from fastapi import APIRouter
from starlette.responses import Response

from smmpanel.accounts.operators import operator_by_name
from smmpanel.web.auth import client_address
from smmpanel.web.i18n import gettext as _
from smmpanel.web.pages import OPERATOR_COOKIE, AnyVisit, safe_next
from smmpanel.web.passwords import verify_password
from smmpanel.web.sessions import OPERATOR_SESSION_HOURS, end_session, start_operator_session
from smmpanel.web.throttle import forget_failures, is_throttled, record_failure

router = APIRouter()
HOME = "/admin"
# Operator names share the failure counter with customer names; the prefix keeps them apart.
THROTTLE_PREFIX = "operator:"


@router.get("/admin/signin")
async def sign_in_page(current: AnyVisit, next: str = "") -> Response:
    return current.render("admin/signin.html", name="", next=safe_next(next, HOME), error=None)


@router.post("/admin/signin")
async def sign_in(current: AnyVisit) -> Response:
    form = await current.form()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "")), HOME)
    address = client_address(current)
    throttle_name = THROTTLE_PREFIX + name

    def refuse(error: str, status_code: int) -> Response:
        return current.render(
            "admin/signin.html", status_code, name=name, next=next_path, error=error
        )

    async with current.db.write() as conn:
        if await is_throttled(conn, throttle_name, address):
            return refuse(_("Too many failed sign-ins. Wait 15 minutes and try again."), 429)
        account = await operator_by_name(conn, name)
        if not await verify_password(account.password_hash if account else None, password):
            await record_failure(conn, throttle_name, address)
            return refuse(_("Wrong name or password."), 401)
        await forget_failures(conn, throttle_name)
        token = await start_operator_session(conn, account.id)
    current.set_cookie(OPERATOR_COOKIE, token, path="/admin", max_age=OPERATOR_SESSION_HOURS * 3600)
    return current.redirect(next_path)


@router.post("/admin/signout")
async def sign_out(current: AnyVisit) -> Response:
    await current.form()
    token = current.request.cookies.get(OPERATOR_COOKIE)
    if token:
        async with current.db.write() as conn:
            await end_session(conn, token)
    response = current.redirect("/admin/signin", _("You are signed out."))
    response.delete_cookie(OPERATOR_COOKIE, path="/admin")
    return response
