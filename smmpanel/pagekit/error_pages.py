"""The error pages all page routes share: sign-in redirects, refused forms, 404, the unexpected."""

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import CsrfRefused, SignInNeeded, UnreadableText, start_visit

# Plain on purpose: the fault may be in the database the other pages read first.
UNEXPECTED_PAGE = (
    "<!doctype html><meta charset=utf-8><title>Temporary error</title>"
    "<h1>Temporary error</h1><p>Something failed on our side. Try again in a minute.</p>"
)


async def _error_page(request: Request, status_code: int, title: str, text: str) -> Response:
    current = await start_visit(request)
    return current.render("error.html", status_code, title=title, text=text)


def install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(SignInNeeded)
    async def sign_in_needed(_request: Request, exc: SignInNeeded) -> Response:
        return exc.response()

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, _exc: CsrfRefused) -> Response:
        text = _(
            "This form has expired or did not come from this panel. Reload the page and try again."
        )
        return await _error_page(request, 403, _("Form refused"), text)

    @app.exception_handler(UnreadableText)
    async def unreadable_text(request: Request, _exc: UnreadableText) -> Response:
        text = _(
            "Part of what was sent is not readable text: a NUL character, or bytes that are not"
            " UTF-8. Nothing was changed. Remove it and try again."
        )
        return await _error_page(request, 400, _("Request refused"), text)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            return await _error_page(
                request,
                404,
                _("Page not found"),
                _("There is no such page here. Check the address."),
            )
        if exc.status_code == 405:
            return await _error_page(
                request, 405, _("Not allowed"), _("This page does not take that kind of request.")
            )
        return await _error_page(request, exc.status_code, _("Request refused"), str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, _exc: Exception) -> Response:
        # Not logged here: Starlette raises it again after this page, and the app's outermost
        # layer (smmpanel/middleware.py) logs it once.
        return HTMLResponse(UNEXPECTED_PAGE, status_code=503)
