"""The outermost ASGI layer of the app: security headers on every reply (pages, the API,
static files, error pages), and one log line for a fault no handler answered."""

import logging

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("smmpanel.app")

# The pages load their scripts and styles from /static only (no inline script or style):
# everything else is refused, and no other site may frame them. A reply that sets one of these
# headers itself (the page that sends a form on to a payment gateway) keeps its own.
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    ),
]
# Only over https: a browser remembers it for the whole host.
HTTPS_HEADERS = [*SECURITY_HEADERS, (b"strict-transport-security", b"max-age=31536000")]


class Outermost:
    """`direct`, if given, is a path and the app that answers it and every path below it
    straight from here, past the framework's layers (routing, error pages, dependencies):
    the API, which answers its own errors, and whose every request pays for those layers."""

    def __init__(self, app: ASGIApp, direct: tuple[str, ASGIApp] | None = None) -> None:
        self.app = app
        self.direct_path, self.direct_app = direct or ("", app)
        self.direct_below = self.direct_path + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = HTTPS_HEADERS if scope.get("scheme") == "https" else SECURITY_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = message.get("headers", ())
                named = {name.lower() for name, _value in own}
                message["headers"] = [*own, *(h for h in headers if h[0] not in named)]
            await send(message)

        path = scope["path"]
        app = (
            self.direct_app
            if self.direct_path and (path == self.direct_path or path.startswith(self.direct_below))
            else self.app
        )
        try:
            await app(scope, receive, send_with_headers)
        except ClientDisconnect:
            pass  # the client left: nobody reads the reply
        except Exception:
            # Starlette answered with the error page, then raised it again for the server,
            # which would log it a second time.
            log.exception("request failed", extra={"path": scope["path"]})
