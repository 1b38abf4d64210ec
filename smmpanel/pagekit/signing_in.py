"""The sign-in both doors share, customers' and operators': throttled, then a session cookie."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from smmpanel.accounts.passwords import verify_password
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import Visit, safe_next
from smmpanel.pagekit.sessions import end_session
from smmpanel.pagekit.throttle import forget_failures, is_throttled, record_failure


def _no_refusal(account: Any) -> str | None:
    return None


@dataclass(frozen=True)
class Door:
    """Where one kind of account signs in, and the session it gets."""

    path: str  # the sign-in page; signing out leads back to it
    template: str
    home: str  # where a sign-in without a `next` leads
    find_account: Callable[[AsyncConnection, str], Awaitable[Any]]
    start_session: Callable[[AsyncConnection, int], Awaitable[str]]
    cookie: str
    cookie_path: str
    session_seconds: int
    throttle_prefix: str = ""  # keeps kinds of accounts apart in the shared failure counter
    # Why an account with the right password may still not sign in; None when it may.
    refusal: Callable[[Any], str | None] = _no_refusal

    def keep_session(self, current: Visit, token: str) -> None:
        current.set_cookie(self.cookie, token, path=self.cookie_path, max_age=self.session_seconds)


def client_address(current: Visit) -> str:
    client = current.request.client
    return client.host if client else "unknown"


def sign_in_page(current: Visit, door: Door, next: str) -> Response:
    return current.render(door.template, name="", next=safe_next(next, door.home), error=None)


async def sign_in(current: Visit, door: Door) -> Response:
    form = await current.form()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "")), door.home)
    address = client_address(current)
    throttle_name = door.throttle_prefix + name

    def refuse(error: str, status_code: int) -> Response:
        return current.render(door.template, status_code, name=name, next=next_path, error=error)

    async with current.db.write() as conn:
        if await is_throttled(conn, throttle_name, address):
            return refuse(_("Too many failed sign-ins. Wait 15 minutes and try again."), 429)
        account = await door.find_account(conn, name)
        if not await verify_password(account.password_hash if account else None, password):
            await record_failure(conn, throttle_name, address)
            return refuse(_("Wrong name or password."), 401)
        refusal = door.refusal(account)
        if refusal is not None:
            return refuse(refusal, 403)
        await forget_failures(conn, throttle_name)
        token = await door.start_session(conn, account.id)
    door.keep_session(current, token)
    return current.redirect(next_path)


async def sign_out(current: Visit, door: Door) -> Response:
    await current.form()
    token = current.request.cookies.get(door.cookie)
    if token:
        async with current.db.write() as conn:
            await end_session(conn, token)
    response = current.redirect(door.path, _("You are signed out."))
    response.delete_cookie(door.cookie, path=door.cookie_path)
    return response
