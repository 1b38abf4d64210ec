"""Customer pages: this panel's API v2 documented for the customer, and their API keys."""

import hashlib
import hmac

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smmpanel.accounts.models import API_KEY_NAME_LENGTH
from smmpanel.accounts.service import (
    NO_ACTIVE_KEY,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from smmpanel.catalog.service import catalog_version, enabled_ids_by_type, first_enabled_services
from smmpanel.db.per_database import KeptWhileVersion, PerDatabase
from smmpanel.errors import Refusal
from smmpanel.pagekit import i18n
from smmpanel.pagekit.forms import FIELD_TOO_LONG, text
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import SESSION_COOKIE, CustomerVisit, Visit
from smmpanel.web.customer_api_doc import EXAMPLE_SERVICES, api_sections
from smmpanel.web.customer_queries import own_api_key

router = APIRouter()

# A new key travels from its POST to the page that shows it in this cookie, which that page
# deletes: reloading the page neither shows the key again nor makes another one.
NEW_KEY_COOKIE = "smm_new_key"
NEW_KEY_COOKIE_PATH = "/api"
NEW_KEY_SECONDS = 60
# The enabled services' ids by type, of the catalogue's version they were read at: kept while
# it stays, as the services page keeps its ids (reading 2,000 rows was a third of this page's
# CPU).
_kept_ids_by_type: PerDatabase[KeptWhileVersion[dict[str, list[int]]]] = PerDatabase(
    KeptWhileVersion
)


def api_url(current: Visit) -> str:
    return str(current.request.base_url).rstrip("/") + "/api/v2"


async def _api_page(
    current: Visit, new_key: str | None = None, error: str | None = None, typed_name: str = ""
) -> Response:
    async with current.db.read() as conn:
        ids_by_type = await _kept_ids_by_type.of(current.db).get(
            await catalog_version(conn), lambda: enabled_ids_by_type(conn)
        )
        first_services = await first_enabled_services(conn, current.customer_id, EXAMPLE_SERVICES)
        keys = await list_api_keys(conn, current.customer_id)
    return current.render(
        "web/api.html",
        status_code=400 if error else 200,
        api_url=api_url(current),
        sections=api_sections(ids_by_type, first_services, current.panel.currency, current.balance),
        service_types=list(ids_by_type),
        keys=keys,
        new_key=new_key,
        error=error,
        typed_name=typed_name,
        name_length=API_KEY_NAME_LENGTH,
    )


@router.get("/api")
async def api_page(current: CustomerVisit) -> Response:
    return await _api_page(current, new_key=_new_key_once(current))


@router.post("/api/keys")
async def new_api_key(current: CustomerVisit) -> Response:
    form = await current.form()
    name = text(form, "name")
    if len(name) > API_KEY_NAME_LENGTH:
        refused = FIELD_TOO_LONG(field=_("Key name"), count=API_KEY_NAME_LENGTH)
        return await _api_page(current, error=i18n.explain(refused), typed_name=name)
    async with current.db.write() as conn:
        key = await create_api_key(conn, current.customer_id, name)
    current.set_cookie(
        NEW_KEY_COOKIE,
        f"{key}.{_seal(current, key)}",
        max_age=NEW_KEY_SECONDS,
        path=NEW_KEY_COOKIE_PATH,
    )
    return current.redirect("/api#new-key")


@router.post("/api/keys/{key_id:id}/revoke")
async def revoke_key(key_id: int, current: CustomerVisit) -> Response:
    await current.form()
    async with current.db.write() as conn:
        key = await own_api_key(conn, current.customer_id, key_id)
        if not key:
            raise HTTPException(404)
        try:
            await revoke_api_key(conn, key.id)
        except Refusal as refused:
            if refused.kind is not NO_ACTIVE_KEY:
                raise
            return current.redirect("/api#keys", _("This key was revoked already."), "error")
    return current.redirect("/api#keys", _("Key revoked: it no longer opens the API."))


def _seal(current: Visit, key: str) -> str:
    """Binds a new key to the session that made it: another session's page never shows it."""
    session = current.request.cookies.get(SESSION_COOKIE, "")
    message = f"new-api-key|{current.customer_id}|{session}|{key}".encode()
    return hmac.new(current.pages.settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def _new_key_once(current: Visit) -> str | None:
    """The key the new-key cookie carries, if this session sealed it; the cookie goes either way."""
    sealed = current.request.cookies.get(NEW_KEY_COOKIE)
    if sealed is None:
        return None
    current.set_cookie(NEW_KEY_COOKIE, "", max_age=0, expires=0, path=NEW_KEY_COOKIE_PATH)
    key, _dot, seal = sealed.partition(".")
    return key if key and hmac.compare_digest(seal.encode(), _seal(current, key).encode()) else None
