"""Customer pages: this panel's API v2 documented for the customer, and their API keys."""

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smmpanel.accounts.service import (
    NO_ACTIVE_KEY,
    balance_of,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from smmpanel.catalog.service import enabled_services
from smmpanel.errors import Refusal
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import CustomerVisit, Visit
from smmpanel.web.customer_api_doc import api_sections
from smmpanel.web.customer_queries import own_api_key

router = APIRouter()


def api_url(current: Visit) -> str:
    return str(current.request.base_url).rstrip("/") + "/api/v2"


async def _api_page(current: Visit, new_key: str | None = None) -> Response:
    async with current.db.read() as conn:
        catalogue = await enabled_services(conn, current.customer_id)
        balance = await balance_of(conn, current.customer_id)
        keys = await list_api_keys(conn, current.customer_id)
    return current.render(
        "web/api.html",
        api_url=api_url(current),
        sections=api_sections(catalogue, current.panel.currency, balance),
        service_types=list(dict.fromkeys(service.type for service in catalogue)),
        keys=keys,
        new_key=new_key,
    )


@router.get("/api")
async def api_page(current: CustomerVisit) -> Response:
    return await _api_page(current)


@router.post("/api/keys")
async def new_api_key(current: CustomerVisit) -> Response:
    await current.form()
    async with current.db.write() as conn:
        key = await create_api_key(conn, current.customer_id)
    # Shown on this reply only: the panel keeps no more than the key's digest.
    return await _api_page(current, new_key=key)


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
