"""The sign-in both doors share, customers' and operators': throttled, then a session cookie.

Three short transactions around the password check, none during it: the attempt is recorded
(as a failure until the password proves right), then judged against the throttle, and after
the check a right password ends the name's failures and starts a session.

An account with two-factor sign-in on gets no session for its password alone: it gets a
pending step instead (a cookie signed with the panel's secret, bound to the account, five
minutes), and the door's code page asks for a code of its app or a recovery code. Wrong codes
count as failed sign-ins of the name, and the name's failures end only with a right code, so
a known password does not buy more guesses. Where a door requires two-factor sign-in (the
owner's rule for operators), an account without it is sent to set it up the same way.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from smmpanel.accounts import two_factor
from smmpanel.accounts.passwords import verify_password
from smmpanel.accounts.two_factor import AccountKind
from smmpanel.db.base import utcnow
from smmpanel.errors import Refusal, refusal
from smmpanel.pagekit import i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import Visit, safe_next
from smmpanel.pagekit.sealed import seal, unseal
from smmpanel.pagekit.sessions import end_session
from smmpanel.pagekit.throttle import (
    WINDOW,
    drop_attempt,
    forget_failures,
    is_throttled,
    record_attempt,
    throttle_key,
)
from smmpanel.panel.service import PanelSettings

THROTTLED = refusal(
    "sign_in_throttled", "Too many failed sign-ins. Wait %(minutes)s minutes and try again."
)
WRONG_NAME_OR_PASSWORD = refusal("wrong_name_or_password", "Wrong name or password.")
SIGN_IN_AGAIN = refusal(
    "two_factor_sign_in_again", "Five minutes have passed since your password. Sign in again."
)
PENDING_SECONDS = 300  # how long a right password waits for its second factor
CODE = "code"  # pending purposes: a code of the app, or setting two-factor sign-in up
SET_UP = "set-up"


class Account(Protocol):
    """What signing in reads of an account, a customer or an operator."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def password_hash(self) -> str | None: ...


AccountT = TypeVar("AccountT", bound=Account)


def _no_refusal(account: Account) -> Refusal | None:
    return None


def _never(panel: PanelSettings) -> bool:
    return False


@dataclass(frozen=True)
class Door(Generic[AccountT]):
    """Where one kind of account signs in, and the session it gets."""

    path: str  # the sign-in page; signing out leads back to it
    template: str
    layout: str  # the layout the door's pages extend
    kind: AccountKind
    home: str  # where a sign-in without a `next` leads
    find_account: Callable[[AsyncConnection, str], Awaitable[AccountT | None]]
    start_session: Callable[[AsyncConnection, int], Awaitable[str]]
    cookie: str
    cookie_path: str
    session_seconds: int
    throttle_prefix: str = ""  # keeps kinds of accounts apart in the shared failure counter
    # Why an account with the right password may still not sign in; None when it may.
    why_refused: Callable[[AccountT], Refusal | None] = _no_refusal
    # Whether the panel requires two-factor sign-in of this door's accounts, and where an
    # account without it sets it up before it gets a session.
    must_set_up: Callable[[PanelSettings], bool] = _never
    set_up_path: str = ""

    @property
    def code_path(self) -> str:
        return f"{self.path}/code"

    @property
    def pending_cookie(self) -> str:
        return f"{self.cookie}_pending"

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
    account_of = two_factor.Account(door.kind, account.id)
    async with current.db.write() as conn:
        if refused is not None:
            await drop_attempt(conn, attempt)
            return refuse(refused, 403)
        if await two_factor.is_on(conn, account_of):
            # The name's failures end with a right code, not with the password alone.
            await drop_attempt(conn, attempt)
            return _pending(current, door, Pending(CODE, account.id, account.name, key, next_path))
        await forget_failures(conn, key)
        if door.must_set_up(current.panel):
            return _pending(
                current, door, Pending(SET_UP, account.id, account.name, key, next_path)
            )
        token = await door.start_session(conn, account.id)
    door.keep_session(current, token)
    return current.redirect(next_path)


@dataclass(frozen=True)
class Pending:
    """A right password waiting for its second factor: what for, whose, where to go next."""

    purpose: str  # CODE or SET_UP
    account_id: int
    name: str
    key: str  # the name's throttle key: wrong codes count against it
    next_path: str


def _pending(current: Visit, door: Door[AccountT], pending: Pending) -> Response:
    fields = [pending.purpose, pending.account_id, pending.name, pending.key, pending.next_path]
    token = signed(current, door.pending_cookie, fields, PENDING_SECONDS)
    current.set_cookie(door.pending_cookie, token, path=door.cookie_path, max_age=PENDING_SECONDS)
    return current.redirect(door.code_path if pending.purpose == CODE else door.set_up_path)


def pending_of(current: Visit, door: Door[AccountT], purpose: str) -> Pending | None:
    """The pending step this browser holds at this door for `purpose`, if still valid."""
    fields = unsigned(
        current, door.pending_cookie, current.request.cookies.get(door.pending_cookie)
    )
    if fields is None or fields[0] != purpose:
        return None
    _, account_id, name, key, next_path = fields
    return Pending(purpose, int(str(account_id)), str(name), str(key), str(next_path))


def signed(current: Visit, what: str, fields: list[object], seconds: int) -> str:
    """A token holding `fields` for `seconds`, that only this panel can have made, for `what`
    alone (a token made for one purpose is refused for any other)."""
    return seal(current.pages.settings.secret_key, what, fields, seconds)


def unsigned(current: Visit, what: str, token: str | None) -> list[object] | None:
    """The fields of a token `signed` for `what`, unless it is forged, altered or expired."""
    return unseal(current.pages.settings.secret_key, what, token)


def code_page(current: Visit, door: Door[AccountT]) -> Response:
    if pending_of(current, door, CODE) is None:
        return current.redirect(door.path)
    return _code_form(current, door)


def _code_form(
    current: Visit, door: Door[AccountT], status_code: int = 200, error: str | None = None
) -> Response:
    return current.render(
        "two_factor_code.html", status_code, layout=door.layout, action=door.code_path, error=error
    )


async def enter_code(current: Visit, door: Door[AccountT]) -> Response:
    """The second step: a code of the account's app, or one of its recovery codes, throttled
    as passwords are; a right one ends the name's failures and starts the session."""
    form = await current.form()
    code = str(form.get("code", ""))
    pending = pending_of(current, door, CODE)
    if pending is None:
        return current.redirect(door.path, i18n.explain(SIGN_IN_AGAIN()), "error")
    address = client_address(current)
    async with current.db.write() as conn:
        attempt = await record_attempt(conn, pending.key, address)
    async with current.db.read() as conn:
        throttled = await is_throttled(conn, pending.key, address)
    if throttled:
        async with current.db.write() as conn:
            await drop_attempt(conn, attempt)
        error = i18n.explain(THROTTLED(minutes=WINDOW // timedelta(minutes=1)))
        return _code_form(current, door, 429, error)
    account = two_factor.Account(door.kind, pending.account_id)
    async with current.db.write() as conn:
        accepted = await two_factor.accept_code(conn, account, code, utcnow())
        if accepted:
            await forget_failures(conn, pending.key)
            token = await door.start_session(conn, pending.account_id)
    if not accepted:
        return _code_form(current, door, 401, i18n.explain(two_factor.WRONG_CODE()))
    return finish_sign_in(current, door, token, pending.next_path)


def finish_sign_in(
    current: Visit, door: Door[AccountT], token: str, next_path: str, message: str | None = None
) -> Response:
    """The session cookie set and the pending step forgotten; on to `next_path`."""
    door.keep_session(current, token)
    response = current.redirect(next_path, message)
    response.delete_cookie(door.pending_cookie, path=door.cookie_path)
    return response


async def sign_out(current: Visit, door: Door[AccountT]) -> Response:
    await current.form()
    token = current.request.cookies.get(door.cookie)
    if token:
        async with current.db.write() as conn:
            await end_session(conn, token)
    response = current.redirect(door.path, _("You are signed out."))
    response.delete_cookie(door.cookie, path=door.cookie_path)
    return response
