"""A forgotten password: a reset link by e-mail (/password/forgot), then a new password through
it (/password/reset/<token>). The rules of the links are in accounts.recovery.

The answer to a request is the same whether an account matched or not, so the page cannot be
used to find out who has an account; only the client address's own limit is told.
"""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from smmpanel.accounts import recovery
from smmpanel.accounts.passwords import MIN_PASSWORD_LENGTH, check_new_password, hash_password
from smmpanel.errors import Refusal, refusal
from smmpanel.outbox.queue import queue_mail
from smmpanel.pagekit import i18n, signing_in
from smmpanel.pagekit.forms import FIELD_TOO_LONG, text
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import AnyVisit, Visit
from smmpanel.pagekit.sessions import end_customer_sessions
from smmpanel.pagekit.throttle import forget_failures, throttle_key
from smmpanel.web.auth import PASSWORDS_DIFFER

router = APIRouter()

TOO_MANY_RESET_REQUESTS = refusal(
    "password_reset_throttled",
    "Too many reset links asked for from your address. Wait an hour and try again.",
)
NAME_OR_EMAIL_NEEDED = refusal(
    "password_reset_needs_name", "Write your account's name or its e-mail address."
)
# As long as the longest e-mail address stored; a name is shorter.
NAME_OR_EMAIL_LENGTH = 254


def base_url(current: Visit) -> str:
    """The panel's address for links sent by e-mail: the configured public one, or this
    request's."""
    return (current.pages.settings.public_url or str(current.request.base_url)).rstrip("/")


@router.get("/password/forgot")
async def forgot_page(current: AnyVisit) -> Response:
    return _forgot_form(current, 200, typed="", error=None)


def _forgot_form(current: Visit, status_code: int, typed: str, error: str | None) -> Response:
    return current.render("web/password_forgot.html", status_code, typed=typed, error=error)


@router.post("/password/forgot")
async def ask_for_link(current: AnyVisit) -> Response:
    form = await current.form()
    typed = text(form, "name_or_email")
    try:
        if not typed:
            raise NAME_OR_EMAIL_NEEDED()
        if len(typed) > NAME_OR_EMAIL_LENGTH:
            raise FIELD_TOO_LONG(field=_("Name or e-mail"), count=NAME_OR_EMAIL_LENGTH)
        await _count_request(current)
    except Refusal as refused:
        status_code = 429 if refused.kind is TOO_MANY_RESET_REQUESTS else 400
        return _forgot_form(current, status_code, typed, i18n.explain(refused))
    async with current.db.write() as conn:
        for recipient in await recovery.recipients(conn, typed):
            await _send_link(conn, current, recipient)
    message = _("If an account has that address, a link is on its way.")
    return current.redirect("/password/forgot", message)


async def _count_request(current: Visit) -> None:
    """Refuse a request past the client address's allowance (see accounts.recovery)."""
    address = signing_in.client_address(current)
    async with current.db.write() as conn:
        request_id = await recovery.record_request(conn, address)
    async with current.db.read() as conn:
        too_many = await recovery.too_many_requests(conn, address)
    if too_many:
        async with current.db.write() as conn:
            await recovery.drop_request(conn, request_id)
        raise TOO_MANY_RESET_REQUESTS()


async def _send_link(conn: AsyncConnection, current: Visit, recipient: recovery.Recipient) -> None:
    token = await recovery.issue_token(conn, recipient.id, recovery.PASSWORD_RESET)
    if token is None:
        return  # the account's links for this hour are sent; said to nobody
    await queue_mail(
        conn,
        to=recipient.email,
        language=current.language,
        kind="password_reset",
        context={"name": recipient.name, "url": f"{base_url(current)}/password/reset/{token}"},
    )


@router.get("/password/reset/{token}")
async def reset_page(token: str, current: AnyVisit) -> Response:
    async with current.db.read() as conn:
        found = await recovery.open_token(conn, token, recovery.PASSWORD_RESET)
    if found is None:
        return _link_closed(current)
    return _reset_form(current, 200, token, found.name, error=None)


def _reset_form(
    current: Visit, status_code: int, token: str, name: str, error: str | None
) -> Response:
    return current.render(
        "web/password_reset.html",
        status_code,
        token=token,
        name=name,
        error=error,
        min_password_length=MIN_PASSWORD_LENGTH,
    )


def _link_closed(current: Visit) -> Response:
    return current.render("web/password_reset.html", 400, token=None, name="", error=None)


@router.post("/password/reset/{token}")
async def reset_password(token: str, current: AnyVisit) -> Response:
    form = await current.form()
    password = str(form.get("password", ""))
    async with current.db.read() as conn:
        found = await recovery.open_token(conn, token, recovery.PASSWORD_RESET)
    if found is None:
        return _link_closed(current)
    try:
        if password != str(form.get("password_again", "")):
            raise PASSWORDS_DIFFER()
        check_new_password(password)
    except Refusal as refused:
        return _reset_form(current, 400, token, found.name, i18n.explain(refused))
    password_hash = await hash_password(password)  # outside any transaction: it is slow
    async with current.db.write() as conn:
        used = await recovery.reset_password(conn, token, password_hash)
        if used is not None:
            await end_customer_sessions(conn, used.customer_id)
            await forget_failures(conn, throttle_key("", used.name))
    if used is None:  # used or expired while the password was hashed
        return _link_closed(current)
    # To /signin rather than signed in here: a second factor, where set, is asked there.
    return current.redirect("/signin", _("Your password is changed. Sign in with it."))
