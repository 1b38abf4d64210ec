"""A form sent after its session ended, kept for a quarter of an hour: once its sender signs in
again, the form's page shows what they typed, and they send it themselves (nothing is sent on
their behalf).

Kept in a cookie sealed with the panel's secret, for this browser (its visitor id) and that page
alone. Passwords, codes and tokens are never kept; a form too large for a cookie is not kept.
"""

from collections.abc import Iterable, Sequence

from starlette.datastructures import FormData
from starlette.routing import BaseRoute, Match

from smmpanel.pagekit.sealed import seal, unseal

KEPT_FORM_COOKIE = "smm_kept_form"
KEPT_FORM_SECONDS = 15 * 60
# What a browser stores of one cookie (4096 bytes), less room for its name and attributes.
KEPT_FORM_MAX_CHARS = 3800
PURPOSE = "kept-form"
# A field whose name holds one of these is never kept: secrets, one-time codes, the CSRF token.
NEVER_KEPT = ("password", "token", "secret", "code", "csrf", "next")


def kept_fields(form: FormData) -> dict[str, str]:
    """The form's text fields worth typing again (the first value of each name)."""
    fields: dict[str, str] = {}
    for name, value in form.multi_items():
        lowered = name.lower()
        if isinstance(value, str) and name not in fields and not _never_kept(lowered):
            fields[name] = value
    return fields


def _never_kept(name: str) -> bool:
    return any(word in name for word in NEVER_KEPT)


def keep(secret_key: str, visitor_id: str, page: str, fields: dict[str, str]) -> str | None:
    """The cookie's value keeping `fields` for `page`; None when there is nothing to keep or
    too much for a cookie."""
    if not fields:
        return None
    token = seal(secret_key, PURPOSE, [visitor_id, page, fields], KEPT_FORM_SECONDS)
    return token if len(token) <= KEPT_FORM_MAX_CHARS else None


def restore(
    secret_key: str, visitor_id: str, page: str, token: str | None
) -> dict[str, str] | None:
    """The fields kept for this browser and this page, if any and still fresh."""
    if not token:
        return None
    sealed = unseal(secret_key, PURPOSE, token)
    if sealed is None or len(sealed) != 3:
        return None
    owner, kept_page, fields = sealed
    if owner != visitor_id or kept_page != page or not isinstance(fields, dict):
        return None
    return {str(name): str(value) for name, value in fields.items()}


def form_page(routes: Iterable[BaseRoute], path: str) -> str | None:
    """The page a form sent to `path` is on: the path itself or the nearest one above it that a
    GET reaches (/account/email → /account, /orders/5/cancel → /orders/5)."""
    routes = list(routes)
    parts: Sequence[str] = path.rstrip("/").split("/")
    while len(parts) > 1:
        candidate = "/".join(parts)
        if _served_by_get(routes, candidate):
            return candidate
        parts = parts[:-1]
    return None


def _served_by_get(routes: list[BaseRoute], path: str) -> bool:
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    return any(route.matches(scope)[0] is Match.FULL for route in routes)
