"""The two-factor sign-in page both kinds of accounts share: customers' at /account/two-factor,
operators' at /admin/two-factor (and the set-up an operator is sent to when the owner requires
it). `web` and `admin` each give it a `Place`: the page, its template, the door and the account.

Setting up: a new secret is shown as a QR code (drawn here, no outside request) and as text,
and carried by the form in a field signed for this account, so nothing is stored until the
first code proves the app has it. Then the recovery codes are shown once: they travel to the
page in a signed cookie of five minutes for that page alone, which the page deletes as it
shows them, so the form's answer can be a redirect like every other. Turning it off takes the
current password (throttled like signing in) and a code.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import segno
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import FormData
from starlette.responses import Response

from smmpanel.accounts import two_factor
from smmpanel.accounts.passwords import verify_password
from smmpanel.db.base import utcnow
from smmpanel.errors import Refusal, refusal
from smmpanel.pagekit import i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import Visit
from smmpanel.pagekit.signing_in import THROTTLED, Door, client_address, signed, unsigned
from smmpanel.pagekit.throttle import (
    WINDOW,
    drop_attempt,
    is_throttled,
    record_attempt,
    throttle_key,
)

CODES_COOKIE = "smm_recovery_codes"
CODES_SECONDS = 300
SECRET_SECONDS = 3600  # how long a set-up page's secret may wait for its first code

WRONG_PASSWORD = refusal("two_factor_wrong_password", "Your password is wrong.")
SET_UP_EXPIRED = refusal(
    "two_factor_set_up_expired", "This set-up is too old. Scan the new code and try again."
)


@dataclass(frozen=True)
class Place:
    """Where and for whom the page is."""

    page: str  # its path; its forms post below it
    template: str
    door: Door[Any]
    account: two_factor.Account
    name: str  # the account's name, as signing in takes it
    issuer: str  # what authenticator apps list the account under
    off_refused: Refusal | None = None  # why it may not be turned off; None when it may
    set_up_action: str = ""  # where the set-up form posts, when not to the page's own
    # Told each change ("on", "off", "recovery_codes") in its write transaction (the audit log).
    noted: Callable[[AsyncConnection, str], Awaitable[None]] | None = None

    async def note(self, conn: AsyncConnection, change: str) -> None:
        if self.noted is not None:
            await self.noted(conn, change)

    @property
    def on_action(self) -> str:
        return self.set_up_action or f"{self.page}/on"


async def page(
    current: Visit,
    place: Place,
    status_code: int = 200,
    error: str | None = None,
    secret: str | None = None,
) -> Response:
    """The page: the set-up while off; while on, codes left, new codes and turning off."""
    async with current.db.read() as conn:
        on = await two_factor.is_on(conn, place.account)
        left = await two_factor.recovery_codes_left(conn, place.account)
    codes = _codes_to_show(current, place)
    set_up = None if on else set_up_context(current, place, secret or two_factor.new_secret())
    response = current.render(
        place.template,
        status_code,
        on=on,
        codes_left=left,
        codes=codes,
        set_up=set_up,
        page=place.page,
        on_action=place.on_action,
        error=error,
    )
    if codes:
        response.delete_cookie(CODES_COOKIE, path=place.page)
    return response


def set_up_context(current: Visit, place: Place, secret: str) -> dict[str, object]:
    """What the set-up form shows: the QR code, the secret as text, and the signed field."""
    uri = two_factor.provisioning_uri(secret, place.name, place.issuer)
    # segno draws the address as paths only: no text of it reaches the markup.
    qr = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", border=4)
    return {
        "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "signed_secret": signed(current, _secret_purpose(place), [secret], SECRET_SECONDS),
        "qr": Markup(qr),
    }


async def turn_on(current: Visit, place: Place) -> Response:
    form = await current.form()
    try:
        codes = await confirm(current, place, form)
    except Refusal as refused:
        return await page(
            current, place, 400, i18n.explain(refused), secret_of(current, place, form)
        )
    keep_codes_to_show(current, place, codes)
    return current.redirect(place.page, _("Two-factor sign-in is on."))


async def confirm(current: Visit, place: Place, form: FormData) -> list[str]:
    """Turn it on with the form's secret once its code is right: the new recovery codes."""
    secret = secret_of(current, place, form)
    if secret is None:
        raise SET_UP_EXPIRED()
    async with current.db.write() as conn:
        codes = await two_factor.turn_on(
            conn, place.account, secret, str(form.get("code", "")), utcnow()
        )
        await place.note(conn, "on")
    return codes


def keep_codes_to_show(current: Visit, place: Place, codes: list[str]) -> None:
    token = signed(current, _codes_purpose(place), list(codes), CODES_SECONDS)
    current.set_cookie(CODES_COOKIE, token, path=place.page, max_age=CODES_SECONDS)


async def new_codes(current: Visit, place: Place) -> Response:
    """A new set of recovery codes in place of the old, for a code of the app (or an old
    recovery code)."""
    form = await current.form()
    try:
        codes = await _new_codes(current, place, form)
    except Refusal as refused:
        status_code = 429 if refused.kind is THROTTLED else 400
        return await page(current, place, status_code, i18n.explain(refused))
    keep_codes_to_show(current, place, codes)
    return current.redirect(place.page, _("New recovery codes made; the old ones no longer work."))


async def _new_codes(current: Visit, place: Place, form: FormData) -> list[str]:
    attempt = await _counted_attempt(current, place)
    async with current.db.write() as conn:
        code = str(form.get("code", ""))
        if not await two_factor.accept_code(conn, place.account, code, utcnow()):
            raise two_factor.WRONG_CODE()
        await drop_attempt(conn, attempt)
        await place.note(conn, "recovery_codes")
        return await two_factor.new_recovery_codes(conn, place.account)


async def turn_off(current: Visit, place: Place) -> Response:
    form = await current.form()
    try:
        await _turn_off(current, place, form)
    except Refusal as refused:
        status_code = 429 if refused.kind is THROTTLED else 400
        return await page(current, place, status_code, i18n.explain(refused))
    return current.redirect(place.page, _("Two-factor sign-in is off."))


async def _turn_off(current: Visit, place: Place, form: FormData) -> None:
    """The password first, counted as a sign-in of the name is (so this form cannot be used
    to guess it), then a code; both right, two-factor sign-in and its codes go."""
    if place.off_refused is not None:
        raise place.off_refused
    attempt = await _counted_attempt(current, place)
    async with current.db.read() as conn:
        account = await place.door.find_account(conn, place.name)
    password = str(form.get("password", ""))
    matched = await verify_password(account.password_hash if account else None, password)
    if account is None or account.id != place.account.id or not matched:
        raise WRONG_PASSWORD()
    async with current.db.write() as conn:
        code = str(form.get("code", ""))
        if not await two_factor.accept_code(conn, place.account, code, utcnow()):
            raise two_factor.WRONG_CODE()
        await two_factor.turn_off(conn, place.account)
        await place.note(conn, "off")
        await drop_attempt(conn, attempt)


async def _counted_attempt(current: Visit, place: Place) -> int:
    """Count what follows as a sign-in of the account's name, failed until it proves right
    (see pagekit.throttle); THROTTLED past the limit. The attempt's id."""
    key = throttle_key(place.door.throttle_prefix, place.name)
    address = client_address(current)
    async with current.db.write() as conn:
        attempt = await record_attempt(conn, key, address)
    async with current.db.read() as conn:
        throttled = await is_throttled(conn, key, address)
    if throttled:
        async with current.db.write() as conn:
            await drop_attempt(conn, attempt)
        raise THROTTLED(minutes=WINDOW // timedelta(minutes=1))
    return attempt


def _codes_to_show(current: Visit, place: Place) -> list[str]:
    fields = unsigned(current, _codes_purpose(place), current.request.cookies.get(CODES_COOKIE))
    return [str(code) for code in fields or []]


def secret_of(current: Visit, place: Place, form: FormData) -> str | None:
    fields = unsigned(current, _secret_purpose(place), str(form.get("secret", "")))
    return str(fields[0]) if fields else None


def _secret_purpose(place: Place) -> str:
    return f"two-factor-secret:{place.account.kind}:{place.account.id}"


def _codes_purpose(place: Place) -> str:
    return f"recovery-codes:{place.account.kind}:{place.account.id}"
