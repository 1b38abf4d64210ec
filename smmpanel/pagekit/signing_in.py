"""The sign-in both doors share, customers' and operators': throttled, then a session cookie.

Three short transactions around the password check, none during it: the attempt is recorded
(as a failure until the password proves right), then judged against the throttle, and after
the check a right password ends the name's failures and starts a session."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from smmpanel.accounts.passwords import verify_password
from smmpanel.errors import Refusal, refusal
from smmpanel.pagekit import i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import Visit, safe_next
from smmpanel.pagekit.sessions import end_session
from smmpanel.pagekit.throttle import (
    WINDOW,
    drop_attempt,
    forget_failures,
    is_throttled,
    record_attempt,
    throttle_key,
)

THROTTLED = refusal(
    "sign_in_throttled", "Too many failed sign-ins. Wait %(minutes)s minutes and try again."
)
WRONG_NAME_OR_PASSWORD = refusal("wrong_name_or_password", "Wrong name or password.")


class Account(Protocol):
    """What signing in reads of an account, a customer or an operator."""

    @property
    def id(self) -> int: ...

    @property
    def password_hash(self) -> str | None: ...


AccountT = TypeVar("AccountT", bound=Account)


def _no_refusal(account: Account) -> Refusal | None:
    return None


@dataclass(frozen=True)
class Door(Generic[AccountT]):
    """Where one kind of account signs in, and the session it gets."""

    path: str  # the sign-in page; signing out leads back to it
    template: str
    home: str  # where a sign-in without a `next` leads
    find_account: Callable[[AsyncConnection, str], Awaitable[AccountT | None]]
    start_session: Callable[[AsyncConnection, int], Awaitable[str]]
    cookie: str
    cookie_path: str
    session_seconds: int
    throttle_prefix: str = ""  # keeps kinds of accounts apart in the shared failure counter
    # Why an account with the right password may still not sign in; None when it may.
    why_refused: Callable[[AccountT], Refusal | None] = _no_refusal

    def keep_session(self, current: Visit, token: str) -> None:
        current.set_cookie(self.cookie, token, path=self.cookie_path, max_age=self.session_seconds)


def client_address(current: Visit) -> str:
    client = current.request.client
    return client.host if client else "unknown"


def sign_in_page(current: Visit, door: Door[AccountT], next: str) -> Response:
    return current.render(door.template, name="", next=safe_next(next, door.home), error=None)


async def sign_in(current: Visit, door: Door[AccountT]) -> Response:
    form = await current.form()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "")), door.home)
    address = client_address(current)
    key = throttle_key(door.throttle_prefix, name)

    def refuse(refused: Refusal, status_code: int) -> Response:
        error = i18n.explain(refused)
        return current.render(door.template, status_code, name=name, next=next_path, error=error)

    async with current.db.write() as conn:
        attempt = await record_attempt(conn, key, address)
    async with current.db.read() as conn:
        throttled = await is_throttled(conn, key, address)
        account = None if throttled else await door.find_account(conn, name)
    if throttled:
        async with current.db.write() as conn:
            await drop_attempt(conn, attempt)
        return refuse(THROTTLED(minutes=WINDOW // timedelta(minutes=1)), 429)
    # Checked outside any transaction: on SQLite a write transaction holds up every writer.
    # Verified without an account too, so a wrong name costs the time a wrong password does.
    matched = await verify_password(account.password_hash if account else None, password)
    if account is None or not matched:
        return refuse(WRONG_NAME_OR_PASSWORD(), 401)
    refused = door.why_refused(account)
    async with current.db.write() as conn:
        if refused is not None:
            await drop_attempt(conn, attempt)
            return refuse(refused, 403)
        await forget_failures(conn, key)
        token = await door.start_session(conn, account.id)
    door.keep_session(current, token)
    return current.redirect(next_path)


async def sign_out(current: Visit, door: Door[AccountT]) -> Response:
    await current.form()
    token = current.request.cookies.get(door.cookie)
    if token:
        async with current.db.write() as conn:
            await end_session(conn, token)
    response = current.redirect(door.path, _("You are signed out."))
    response.delete_cookie(door.cookie, path=door.cookie_path)
    return response
