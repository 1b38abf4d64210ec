"""The customer's account page (/account): password, e-mail address (changed only once the new
address is proven by a link), the browsers signed in, language, time zone and e-mail choices.

A new password ends every other session and closes open reset links; changing the address
asks for the current password too, since the address is where reset links go.
"""

from datetime import timedelta

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from smmpanel.accounts import recovery
from smmpanel.accounts.passwords import (
    MIN_PASSWORD_LENGTH,
    check_new_password,
    hash_password,
    verify_password,
)
from smmpanel.accounts.service import (
    account_settings,
    check_email,
    set_customer_password,
    set_preferences,
    time_zones,
)
from smmpanel.errors import Refusal, refusal
from smmpanel.outbox.languages import choose_language
from smmpanel.outbox.queue import queue_mail
from smmpanel.pagekit import i18n, signing_in
from smmpanel.pagekit.forms import flag, text, typed_values
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import (
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    YEAR_SECONDS,
    AnyVisit,
    CustomerVisit,
    Visit,
)
from smmpanel.pagekit.sessions import customer_sessions, end_customer_sessions
from smmpanel.pagekit.throttle import (
    WINDOW,
    drop_attempt,
    is_throttled,
    record_attempt,
    throttle_key,
)
from smmpanel.panel.service import LANGUAGES
from smmpanel.web.auth import PASSWORDS_DIFFER
from smmpanel.web.password_reset import base_url

router = APIRouter()
PAGE = "/account"

WRONG_CURRENT_PASSWORD = refusal("wrong_current_password", "Your current password is wrong.")
SAME_EMAIL = refusal("same_email", "That is your address already, and it is verified.")
NO_EMAIL_TO_VERIFY = refusal(
    "no_email_to_verify", "Your account has no unverified e-mail address to verify."
)
TOO_MANY_LINKS = refusal(
    "verify_email_throttled", "Enough links were sent this hour. Wait an hour and try again."
)
UNKNOWN_PAGE_LANGUAGE = refusal("unknown_page_language", "Choose a language of the list.")


async def _account_page(
    current: Visit,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    async with current.db.read() as conn:
        account = await account_settings(conn, current.customer_id)
        sessions = await customer_sessions(
            conn, current.customer_id, current.request.cookies.get(SESSION_COOKIE)
        )
    return current.render(
        "web/account.html",
        status_code,
        account=account,
        sessions=sessions,
        time_zones=time_zones(),
        errors=errors or {},
        typed=typed or {},
        min_password_length=MIN_PASSWORD_LENGTH,
    )


async def _refused(current: Visit, section: str, refused: Refusal, form: FormData) -> Response:
    """The page again with the section's error and what was typed, passwords left out."""
    typed = {name: value for name, value in typed_values(form).items() if "password" not in name}
    errors = {section: i18n.explain(refused)}
    status_code = 429 if refused.kind is signing_in.THROTTLED else 400
    return await _account_page(current, status_code, errors, typed)


@router.get(PAGE)
async def account_page(current: CustomerVisit) -> Response:
    return await _account_page(current)


async def _check_current_password(current: Visit, form: FormData) -> None:
    """The current password, checked as a sign-in is: a wrong one counts as a failed sign-in
    of the account, so a borrowed session cannot be used to guess it."""
    address = signing_in.client_address(current)
    async with current.db.read() as conn:
        account = await account_settings(conn, current.customer_id)
    key = throttle_key("", account.name)
    async with current.db.write() as conn:
        attempt = await record_attempt(conn, key, address)
    async with current.db.read() as conn:
        throttled = await is_throttled(conn, key, address)
    if throttled:
        async with current.db.write() as conn:
            await drop_attempt(conn, attempt)
        raise signing_in.THROTTLED(minutes=WINDOW // timedelta(minutes=1))
    if not await verify_password(account.password_hash, str(form.get("current_password", ""))):
        raise WRONG_CURRENT_PASSWORD()
    async with current.db.write() as conn:
        await drop_attempt(conn, attempt)


@router.post(f"{PAGE}/password")
async def change_password(current: CustomerVisit) -> Response:
    form = await current.form()
    password = str(form.get("password", ""))
    try:
        if password != str(form.get("password_again", "")):
            raise PASSWORDS_DIFFER()
        check_new_password(password)
        await _check_current_password(current, form)
    except Refusal as refused:
        return await _refused(current, "password", refused, form)
    password_hash = await hash_password(password)  # outside any transaction: it is slow
    async with current.db.write() as conn:
        await set_customer_password(conn, current.customer_id, password_hash)
        await recovery.close_tokens(conn, current.customer_id, recovery.PASSWORD_RESET)
        keep = current.request.cookies.get(SESSION_COOKIE)
        await end_customer_sessions(conn, current.customer_id, keep_token=keep)
    message = _("Password changed. Every other browser signed in to your account is signed out.")
    return current.redirect(PAGE, message)


@router.post(f"{PAGE}/email")
async def change_email(current: CustomerVisit) -> Response:
    form = await current.form()
    email = text(form, "email")
    try:
        check_email(email)
        async with current.db.read() as conn:
            account = await account_settings(conn, current.customer_id)
        if email == account.email and account.email_verified_at is not None:
            raise SAME_EMAIL()
        await _check_current_password(current, form)
        await _send_verification(current, account.name, email)
    except Refusal as refused:
        return await _refused(current, "email", refused, form)
    message = _("A link is on its way to %(email)s. Your address changes when you open it.") % {
        "email": email
    }
    return current.redirect(PAGE, message)


@router.post(f"{PAGE}/email/resend")
async def resend_verification(current: CustomerVisit) -> Response:
    form = await current.form()
    async with current.db.read() as conn:
        account = await account_settings(conn, current.customer_id)
    try:
        if account.email is None or account.email_verified_at is not None:
            raise NO_EMAIL_TO_VERIFY()
        await _send_verification(current, account.name, account.email)
    except Refusal as refused:
        return await _refused(current, "email", refused, form)
    message = _("A link is on its way to %(email)s.") % {"email": account.email}
    return current.redirect(PAGE, message)


async def _send_verification(current: Visit, name: str, email: str) -> None:
    async with current.db.write() as conn:
        token = await recovery.issue_token(
            conn, current.customer_id, recovery.VERIFY_EMAIL, email=email
        )
        if token is None:
            raise TOO_MANY_LINKS()
        await queue_mail(
            conn,
            to=email,
            language=current.language,
            kind="verify_email",
            context={"name": name, "url": f"{base_url(current)}/email/verify/{token}"},
        )


@router.get("/email/verify/{token}")
async def verify_page(token: str, current: AnyVisit) -> Response:
    """A page with a button, not a change on opening: mail scanners open links too."""
    async with current.db.read() as conn:
        found = await recovery.open_token(conn, token, recovery.VERIFY_EMAIL)
    status_code = 200 if found else 400
    return current.render("web/account_verify.html", status_code, token=token, found=found)


@router.post("/email/verify/{token}")
async def verify(token: str, current: AnyVisit) -> Response:
    await current.form()
    async with current.db.write() as conn:
        used = await recovery.verify_email(conn, token)
    if used is None:
        return current.render("web/account_verify.html", 400, token=token, found=None)
    message = _("Your e-mail address %(email)s is verified.") % {"email": used.email}
    return current.redirect(PAGE, message)


@router.post(f"{PAGE}/sessions/end-others")
async def end_other_sessions(current: CustomerVisit) -> Response:
    await current.form()
    async with current.db.write() as conn:
        keep = current.request.cookies.get(SESSION_COOKIE)
        await end_customer_sessions(conn, current.customer_id, keep_token=keep)
    return current.redirect(PAGE, _("Every other browser is signed out."))


@router.post(f"{PAGE}/preferences")
async def save_preferences(current: CustomerVisit) -> Response:
    form = await current.form()
    language = text(form, "language")
    time_zone = text(form, "time_zone") or None
    try:
        if language not in LANGUAGES:
            raise UNKNOWN_PAGE_LANGUAGE()
        async with current.db.write() as conn:
            await set_preferences(
                conn,
                current.customer_id,
                time_zone=time_zone,
                mail_order_updates=flag(form, "mail_order_updates"),
            )
            await choose_language(conn, current.customer_id, language)
    except Refusal as refused:
        return await _refused(current, "preferences", refused, form)
    current.set_cookie(LANGUAGE_COOKIE, language, max_age=YEAR_SECONDS)
    i18n.current_language.set(language)
    return current.redirect(PAGE, _("Your preferences are saved."))
