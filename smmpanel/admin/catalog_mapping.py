"""Operator pages: a service fulfilled by hand forwarded to a provider's service from now on,
and a forwarded one fulfilled by hand from now on (the form is on the service's page)."""

from fastapi import APIRouter
from starlette.responses import Response

from smmpanel.admin.audit import note
from smmpanel.catalog import mapping
from smmpanel.catalog.service import service_row
from smmpanel.errors import Refusal, refusal
from smmpanel.pagekit import i18n
from smmpanel.pagekit.forms import is_id, not_found, required_text, text
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit, Visit
from smmpanel.providers.client import UpstreamClient
from smmpanel.providers.listing import MAX_ID_LENGTH
from smmpanel.worker.context import upstream_http_client

router = APIRouter()
SERVICE = "/admin/catalog/services/{service_id:id}"

CHOOSE_PROVIDER = refusal("form_choose_mapping_provider", "Choose one of the providers.")


async def _exists(current: Visit, service_id: int) -> bool:
    async with current.db.read() as conn:
        return await service_row(conn, service_id) is not None


def _refused(current: Visit, service_id: int, error: Refusal) -> Response:
    """Back to the service's page, which shows why nothing changed."""
    return current.redirect(_page(service_id), i18n.explain(error), "error")


def _page(service_id: int) -> str:
    return f"/admin/catalog/services/{service_id}#fulfilment"


@router.post(SERVICE + "/provider")
async def forward_to_provider(service_id: int, current: OperatorVisit) -> Response:
    if not await _exists(current, service_id):
        return not_found(current)
    form = await current.form()
    chosen = text(form, "provider")
    try:
        if not is_id(chosen):
            raise CHOOSE_PROVIDER()
        label = _("Its service id at the provider")
        upstream_id = required_text(form, "provider_service_id", label, MAX_ID_LENGTH)
        async with upstream_http_client() as http:
            provider, entry = await mapping.ask_provider(
                current.db, UpstreamClient(http), service_id, int(chosen), upstream_id
            )
        async with current.db.write() as conn:
            await mapping.forward(conn, service_id, provider, entry)
            detail = f"to provider {provider.id} ({provider.name}), its service {entry.id}"
            await note(conn, current, "service.forward", f"service:{service_id}", detail)
    except Refusal as error:
        return _refused(current, service_id, error)
    message = _("Service %(id)s is forwarded to the provider's service %(upstream)s from now on.")
    return current.redirect(_page(service_id), message % {"id": service_id, "upstream": entry.id})


@router.post(SERVICE + "/by-hand")
async def fulfil_by_hand(service_id: int, current: OperatorVisit) -> Response:
    if not await _exists(current, service_id):
        return not_found(current)
    await current.form()
    try:
        async with current.db.write() as conn:
            if await mapping.fulfil_by_hand(conn, service_id):
                await note(conn, current, "service.by_hand", f"service:{service_id}")
    except Refusal as error:
        return _refused(current, service_id, error)
    message = _("New orders of service %(id)s are fulfilled by hand from now on.")
    return current.redirect(_page(service_id), message % {"id": service_id})
