"""What every page handler shares: who is asking, in which language, CSRF, flash and rendering.

A handler takes a `Visit` (from `visit`, `customer_visit` or `operator_visit`) and answers with
`visit.render(...)` or `visit.redirect(...)`. Forms are read with `await visit.form()`, which
refuses a form without this visitor's CSRF token. Every form and every query string is checked
to be text the database can store (`smmpanel.text`); one that is not is refused whole
(`UnreadableText`, a 400 page) before a handler reads any of it.
"""

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, TypeVar
from urllib.parse import quote, unquote, urlencode

from fastapi import Depends
from jinja2 import Environment
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from smmpanel.config import Settings
from smmpanel.db import Database
from smmpanel.pagekit import i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.kept_forms import (
    KEPT_FORM_COOKIE,
    KEPT_FORM_SECONDS,
    form_page,
    keep,
    kept_fields,
    restore,
)
from smmpanel.pagekit.sessions import SignedIn, visitor
from smmpanel.panel.service import PanelSettings
from smmpanel.request_body import body_at_most
from smmpanel.text import NotText, check_storable, urlencoded_pairs

SESSION_COOKIE = "smm_session"
OPERATOR_COOKIE = "smm_operator"
VISITOR_COOKIE = "smm_visitor"
LANGUAGE_COOKIE = "smm_lang"
FLASH_COOKIE = "smm_flash"
CSRF_FIELD = "csrf_token"
YEAR_SECONDS = 365 * 24 * 3600
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# A form is read whole before it is checked; the largest page form (a mass order) is far smaller.
MAX_FORM_BYTES = 1_048_576

AnyResponse = TypeVar("AnyResponse", bound=Response)


class RecordId(Convertor[int]):
    """`{name:id}` in a page's path: an id that fits a BIGINT. Anything else matches no route,
    so it answers the 404 page before a handler or the database sees it."""

    regex = "[1-9][0-9]{0,17}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", RecordId())


class SignInNeeded(Exception):
    def __init__(
        self, sign_in_path: str, next_path: str, kept_form: str | None = None, secure: bool = False
    ) -> None:
        self.location = f"{sign_in_path}?{urlencode({'next': next_path})}"
        self.kept_form = kept_form
        self.secure = secure

    def response(self) -> Response:
        """To the sign-in page, keeping the form sent, if any (see kept_forms)."""
        response = RedirectResponse(self.location, status_code=303)
        if self.kept_form:
            response.set_cookie(
                KEPT_FORM_COOKIE,
                self.kept_form,
                max_age=KEPT_FORM_SECONDS,
                path="/",
                httponly=True,
                samesite="lax",
                secure=self.secure,
            )
        return response


class CsrfRefused(Exception):
    """A form came without the token of the page that showed it."""


class UnreadableText(Exception):
    """A form or a query string held what the database cannot store: a NUL, or not UTF-8."""


@dataclass(frozen=True)
class Pages:
    """Built once per application; reached from handlers through `request.app.state.pages`."""

    db: Database
    settings: Settings
    templates: Environment


@dataclass
class Visit:
    request: Request
    pages: Pages
    panel: PanelSettings
    language: str
    customer: SignedIn | None
    operator: SignedIn | None
    visitor_id: str
    new_visitor: bool
    flash: tuple[str, str] | None
    # No language chosen yet: the page's language follows the browser's Accept-Language.
    language_from_browser: bool = False
    # The support tickets with a reply this customer, or any operator, has not read: the headers'
    # counts, read with the session (one indexed count each).
    customer_unread_tickets: int = 0
    operator_unread_tickets: int = 0
    cookies_to_set: list[tuple[str, str, dict]] = field(default_factory=list)

    @property
    def db(self) -> Database:
        return self.pages.db

    @cached_property
    def csrf_token(self) -> str:
        sessions = "|".join(
            (
                self.visitor_id,
                self.request.cookies.get(SESSION_COOKIE, ""),
                self.request.cookies.get(OPERATOR_COOKIE, ""),
            )
        )
        key = self.pages.settings.secret_key.encode()
        return hmac.new(key, sessions.encode(), hashlib.sha256).hexdigest()

    @property
    def customer_id(self) -> int:
        assert self.customer is not None, "use customer_visit for customer pages"
        return self.customer.account_id

    @property
    def balance(self) -> int:
        """The signed-in customer's balance as the visit began, read with the session."""
        assert self.customer is not None and self.customer.balance is not None
        return self.customer.balance

    async def form(self) -> FormData:
        form = await _read_form(self.request)
        sent = form.get(CSRF_FIELD)
        if not isinstance(sent, str) or not hmac.compare_digest(sent, self.csrf_token):
            raise CsrfRefused()
        return form

    @cached_property
    def kept_form(self) -> dict[str, str] | None:
        """What was typed in this page's form when the session had ended, once signed in."""
        if self.request.method != "GET" or (self.customer or self.operator) is None:
            return None
        token = self.request.cookies.get(KEPT_FORM_COOKIE)
        secret_key = self.pages.settings.secret_key
        return restore(secret_key, self.visitor_id, self.request.url.path, token)

    def render(self, template: str, status_code: int = 200, **context: object) -> HTMLResponse:
        typed = context.get("typed")
        if self.kept_form and isinstance(typed, dict | None):
            context["typed"] = {**(typed or {}), **self.kept_form}
        page = self.pages.templates.get_template(template).render(
            visit=self,
            panel=self.panel,
            request=self.request,
            csrf_field=CSRF_FIELD,
            **context,
        )
        response = HTMLResponse(page, status_code=status_code)
        if self.flash:
            response.delete_cookie(FLASH_COOKIE, path="/")
        if self.kept_form:
            response.delete_cookie(KEPT_FORM_COOKIE, path="/")
        return self._finish(response)

    def redirect(self, location: str, message: str | None = None, kind: str = "ok") -> Response:
        response = RedirectResponse(location, status_code=303)
        if message:
            value = quote(json.dumps([kind, message]))
            response.set_cookie(FLASH_COOKIE, value, path="/", httponly=True, samesite="lax")
        return self._finish(response)

    def set_cookie(self, name: str, value: str, **options: object) -> None:
        self.cookies_to_set.append((name, value, options))

    def secure_cookies(self) -> bool:
        configured = self.pages.settings.cookie_secure
        return self.request.url.scheme == "https" if configured is None else configured

    def _finish(self, response: AnyResponse) -> AnyResponse:
        if self.new_visitor:
            self.set_cookie(VISITOR_COOKIE, self.visitor_id, max_age=YEAR_SECONDS)
        for name, value, options in self.cookies_to_set:
            options = {"path": "/", "httponly": True, "samesite": "lax", **options}
            response.set_cookie(name, value, secure=self.secure_cookies(), **options)
        response.headers["Cache-Control"] = "no-store"
        if self.language_from_browser:
            response.headers.add_vary_header("Accept-Language")
        return response


def safe_next(path: str | None, default: str) -> str:
    """A same-site path to go on to after signing in; anything else goes to the default."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return default


async def _read_form(request: Request) -> FormData:
    """A urlencoded body (what browsers send) is read strictly; any other kind is Starlette's,
    its text checked once parsed."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == FORM_CONTENT_TYPE:
            fields: list[tuple[str, str | UploadFile]] = [
                *urlencoded_pairs(await _limited_body(request))
            ]
            return FormData(fields)
        form = await request.form()
        for name, value in form.multi_items():
            check_storable(name)
            if isinstance(value, str):
                check_storable(value)
        return form
    except NotText:
        raise UnreadableText from None


async def _limited_body(request: Request) -> bytes:
    body = await body_at_most(request, MAX_FORM_BYTES)
    if body is None:
        raise HTTPException(413, _("This form is too large to be read."))
    return body


def _flash(request: Request) -> tuple[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        kind, message = json.loads(unquote(raw))
    except (ValueError, TypeError):
        return None
    return (kind, message) if isinstance(message, str) and kind in ("ok", "error") else None


async def visit(request: Request) -> Visit:
    """What page handlers depend on: the visit, once the query string is known to be text
    (checked after the visit starts, so that the refusal speaks the visitor's language)."""
    current = await start_visit(request)
    try:
        urlencoded_pairs(request.scope.get("query_string", b""))
    except NotText:
        raise UnreadableText from None
    return current


async def start_visit(request: Request) -> Visit:
    """The visit, whatever its address holds: the error pages start here."""
    pages: Pages = request.app.state.pages
    customer_token = request.cookies.get(SESSION_COOKIE)
    operator_token = request.cookies.get(OPERATOR_COOKIE)
    async with pages.db.read() as conn:
        found = await visitor(conn, customer_token, operator_token)
    panel, customer, operator = found.panel, found.customer, found.operator
    chosen = i18n.known_language(request.cookies.get(LANGUAGE_COOKIE))
    language = (
        chosen
        or i18n.language_of_accept_header(request.headers.get("accept-language"))
        or i18n.known_language(panel.default_language)
        or i18n.DEFAULT_LANGUAGE
    )
    i18n.current_language.set(language)
    i18n.current_time_zone.set(_viewers_time_zone(request, panel, customer, operator))
    visitor_id = request.cookies.get(VISITOR_COOKIE) or ""
    new_visitor = len(visitor_id) < 20
    return Visit(
        request=request,
        pages=pages,
        panel=panel,
        language=language,
        customer=customer,
        operator=operator,
        visitor_id=secrets.token_urlsafe(24) if new_visitor else visitor_id,
        new_visitor=new_visitor,
        flash=_flash(request),
        language_from_browser=chosen is None,
        customer_unread_tickets=customer.unread_tickets if customer else 0,
        operator_unread_tickets=operator.unread_tickets if operator else 0,
    )


def _viewers_time_zone(
    request: Request, panel: PanelSettings, customer: SignedIn | None, operator: SignedIn | None
) -> str:
    """The zone the pages' times are shown in: on /admin pages the operator's, elsewhere the
    customer's (a browser may hold both sessions), else the panel's default."""
    admin_page = request.url.path == "/admin" or request.url.path.startswith("/admin/")
    viewer = operator if admin_page else customer
    return (viewer and viewer.time_zone) or panel.time_zone


async def customer_visit(current: Annotated[Visit, Depends(visit)]) -> Visit:
    if current.customer is None:
        raise await _sign_in_needed(current, "/signin", "/dashboard")
    return current


async def operator_visit(current: Annotated[Visit, Depends(visit)]) -> Visit:
    if current.operator is None:
        raise await _sign_in_needed(current, "/admin/signin", "/admin")
    return current


async def _sign_in_needed(current: Visit, sign_in_path: str, home: str) -> SignInNeeded:
    """Sign in, then back to this page; a form sent here goes back to its page, with what
    was typed kept for it."""
    request = current.request
    if request.method != "POST":
        return SignInNeeded(sign_in_path, request.url.path)
    page = form_page(request.app.router.routes, request.url.path) or home
    kept = None
    # A form from another site comes without our cookies (SameSite=Lax): a new visitor.
    if not current.new_visitor:
        fields = kept_fields(await _read_form(request))
        kept = keep(current.pages.settings.secret_key, current.visitor_id, page, fields)
    return SignInNeeded(sign_in_path, page, kept, current.secure_cookies())


# What handlers declare: `current: CustomerVisit` and so on.
AnyVisit = Annotated[Visit, Depends(visit)]
CustomerVisit = Annotated[Visit, Depends(customer_visit)]
OperatorVisit = Annotated[Visit, Depends(operator_visit)]
