"""Operator pages: the catalogue's services (searched, filtered, a page at a time), its categories
and their order, and the changes made to the checked services at once (switch, move, delete,
price)."""

from collections.abc import Iterable
from decimal import Decimal

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import FormData
from starlette.responses import Response

from smmpanel.admin.audit import note
from smmpanel.admin.catalog_forms import (
    CATALOGUE,
    Listing,
    back_listing,
    back_of,
    list_came_from,
    optional_text,
    quantity_limits,
    rate,
)
from smmpanel.catalog import service as catalog
from smmpanel.catalog.types import SERVICE_TYPES, TYPE_NAMES
from smmpanel.db.base import MAX_INT32, AnyRow
from smmpanel.errors import Refusal, refusal
from smmpanel.pagekit import i18n
from smmpanel.pagekit.forms import (
    amount,
    flag,
    ids,
    is_id,
    not_found,
    required_text,
    text,
    typed_values,
    whole_number,
)
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.i18n import ngettext
from smmpanel.pagekit.pages import OperatorVisit, Visit
from smmpanel.pagekit.pagination import read_page
from smmpanel.providers.service import every_provider_settings, provider_settings

router = APIRouter()
CATEGORIES = f"{CATALOGUE}/categories"
NEW_SERVICE = f"{CATALOGUE}/services/new"
PAGE_SIZE = 50
CATEGORY_NAME_LENGTH = 200
SERVICE_NAME_LENGTH = 300
MOVES = {"up": -1, "down": 1}

CHOOSE_CATEGORY = refusal("form_choose_category", "Choose one of the categories.")
CHOOSE_TYPE = refusal("form_choose_type", "Choose one of the service types.")
CHOOSE_FALLBACK = refusal(
    "form_choose_fallback_provider", "Choose one of the providers, or no fallback."
)
CHOOSE_CHANGE_KIND = refusal("form_choose_change_kind", "Choose a percent or a fixed amount.")
CHANGE_IS_ZERO = refusal("form_change_is_zero", "The change is zero: nothing would change.")
CHOOSE_SERVICES = refusal(
    "form_choose_services", "Check the services to change, or choose a category."
)
CHOOSE_SERVICES_TO_SWITCH = refusal(
    "form_choose_services_to_switch", "Check the services to enable or disable."
)
CHOOSE_SERVICES_TO_MOVE = refusal(
    "form_choose_services_to_move", "Check the services to move to the category."
)
CHOOSE_SERVICES_TO_DELETE = refusal(
    "form_choose_services_to_delete", "Check the services to delete."
)


async def _catalogue_page(
    current: Visit,
    listing: Listing,
    status_code: int = 200,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    chosen = listing.service_filter()
    async with current.db.read() as conn:

        async def read(offset: int, limit: int) -> list:
            return await catalog.find_services(conn, chosen, offset, limit)

        found = await read_page(read, listing.page, PAGE_SIZE)
        matching = await catalog.count_services(conn, chosen)
        category_list = await catalog.category_names(conn)
        upstreams = await every_provider_settings(conn)
    return current.render(
        "admin/catalog.html",
        status_code,
        found=found,
        matching=matching,
        pages=max(1, -(-matching // PAGE_SIZE)),
        listing=listing,
        page_url=listing.address,
        categories=category_list,
        providers=_by_name(upstreams.values()),
        types=TYPE_NAMES,
        error=error,
        typed=typed or {},
    )


def _by_name(upstreams: Iterable[AnyRow]) -> list[AnyRow]:
    return sorted(upstreams, key=lambda provider: provider.name)


async def _back_page(
    current: Visit, form: FormData, status_code: int, error: str, typed: dict[str, str]
) -> Response:
    """The list a form was sent from, shown again with its refusal."""
    return await _catalogue_page(current, back_listing(form), status_code, error, typed)


@router.get(CATALOGUE)
async def catalogue_page(current: OperatorVisit) -> Response:
    return await _catalogue_page(current, Listing.read(current.request.query_params))


# ---- categories


async def _categories_page(
    current: Visit,
    status_code: int = 200,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    async with current.db.read() as conn:
        listed = await catalog.categories_with_counts(conn)
    return current.render(
        "admin/catalog_categories.html",
        status_code,
        categories=listed,
        error=error,
        typed=typed or {},
    )


@router.get(CATEGORIES)
async def categories_page(current: OperatorVisit) -> Response:
    return await _categories_page(current)


@router.post(CATEGORIES)
async def add_category(current: OperatorVisit) -> Response:
    form = await current.form()
    try:
        name = required_text(form, "category_name", _("Category name"), CATEGORY_NAME_LENGTH)
        async with current.db.write() as conn:
            category_id = await catalog.add_category(conn, name)
            await note(conn, current, "category.add", f"category:{category_id}", name)
    except Refusal as error:
        return await _categories_page(current, 400, i18n.explain(error), typed_values(form))
    return current.redirect(CATEGORIES, _("Category %(name)s added.") % {"name": name})


@router.post(CATEGORIES + "/{category_id:id}")
async def change_category(category_id: int, current: OperatorVisit) -> Response:
    form = await current.form()
    async with current.db.read() as conn:
        if not await catalog.category_exists(conn, category_id):
            return not_found(current)
    action = text(form, "action")
    try:
        async with current.db.write() as conn:
            if action in MOVES:
                await catalog.move_category(conn, category_id, MOVES[action])
                await note(conn, current, "category.move", f"category:{category_id}", action)
                return current.redirect(CATEGORIES, _("The order of the categories is saved."))
            name = required_text(form, "name", _("Category name"), CATEGORY_NAME_LENGTH)
            await catalog.rename_category(conn, category_id, name)
            await note(conn, current, "category.rename", f"category:{category_id}", name)
    except Refusal as error:
        return await _categories_page(current, 400, i18n.explain(error))
    return current.redirect(CATEGORIES, _("Category renamed to %(name)s.") % {"name": name})


# ---- services


def _category_of(form: FormData) -> int:
    category_id = text(form, "category_id")
    if not is_id(category_id):
        raise CHOOSE_CATEGORY()
    return int(category_id)


def _service_fields(form: FormData) -> dict[str, object]:
    """The fields a new service and an edited one share."""
    min_quantity, max_quantity = quantity_limits(form)
    return {
        "name": required_text(form, "name", _("Name"), SERVICE_NAME_LENGTH),
        "rate": rate(form, "rate", _("Rate per 1000")),
        "min_quantity": min_quantity,
        "max_quantity": max_quantity,
        "description": text(form, "description"),
        "name_zh_tw": optional_text(
            form, "name_zh_tw", _("Name in Traditional Chinese"), SERVICE_NAME_LENGTH
        ),
        "description_zh_tw": text(form, "description_zh_tw") or None,
        "dripfeed": flag(form, "dripfeed"),
        "refill": flag(form, "refill"),
        "cancel": flag(form, "cancel"),
    }


def _service_type(form: FormData) -> str:
    service_type = text(form, "type")
    if service_type not in SERVICE_TYPES:
        raise CHOOSE_TYPE()
    return service_type


async def _check_category(conn: AsyncConnection, category_id: int) -> None:
    if not await catalog.category_exists(conn, category_id):
        raise CHOOSE_CATEGORY()


async def _new_service_page(
    current: Visit,
    status_code: int = 200,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    async with current.db.read() as conn:
        category_list = await catalog.category_names(conn)
    return current.render(
        "admin/catalog_new_service.html",
        status_code,
        categories=category_list,
        types=TYPE_NAMES,
        error=error,
        typed=typed or {},
    )


@router.get(NEW_SERVICE)
async def new_service_page(current: OperatorVisit) -> Response:
    return await _new_service_page(current)


@router.post(f"{CATALOGUE}/services")
async def add_service(current: OperatorVisit) -> Response:
    form = await current.form()
    try:
        category_id = _category_of(form)
        fields = {**_service_fields(form), "type": _service_type(form)}
        async with current.db.write() as conn:
            await _check_category(conn, category_id)
            service_id = await catalog.create_service(conn, category_id, **fields)
            await note(conn, current, "service.add", f"service:{service_id}", str(fields["name"]))
    except Refusal as error:
        return await _new_service_page(current, 400, i18n.explain(error), typed_values(form))
    message = _("Service %(id)s added.") % {"id": service_id}
    return current.redirect(Listing(category=str(category_id)).address(), message)


async def _service_page(
    current: Visit,
    service_id: int,
    status_code: int = 200,
    back: str = CATALOGUE,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    async with current.db.read() as conn:
        service = await catalog.service_row(conn, service_id)
        category_list = await catalog.category_names(conn)
        upstreams = await every_provider_settings(conn)
    if service is None:
        return not_found(current)
    return current.render(
        "admin/service.html",
        status_code,
        service=service,
        categories=category_list,
        providers=_by_name(upstreams.values()),
        types=TYPE_NAMES,
        back=back,
        error=error,
        typed=typed,
    )


@router.get(CATALOGUE + "/services/{service_id:id}")
async def service_page(service_id: int, current: OperatorVisit) -> Response:
    """The list the operator came from is where saving returns to."""
    back = list_came_from(current.request.headers.get("referer", ""))
    return await _service_page(current, service_id, back=back)


@router.post(CATALOGUE + "/services/{service_id:id}/type")
async def change_type(service_id: int, current: OperatorVisit) -> Response:
    """Refused while the service has an order not finished (see `change_service_type`)."""
    form = await current.form()
    try:
        service_type = _service_type(form)
        async with current.db.write() as conn:
            if await catalog.service_row(conn, service_id) is None:
                return not_found(current)
            if await catalog.change_service_type(conn, service_id, service_type):
                await note(conn, current, "service.type", f"service:{service_id}", service_type)
    except Refusal as error:
        return await _service_page(current, service_id, 400, back_of(form), i18n.explain(error))
    message = _("Service %(id)s is now of the type %(type)s.")
    return current.redirect(
        f"{CATALOGUE}/services/{service_id}", message % {"id": service_id, "type": service_type}
    )


@router.post(CATALOGUE + "/services/{service_id:id}")
async def edit_service(service_id: int, current: OperatorVisit) -> Response:
    form = await current.form()
    try:
        category_id = _category_of(form)
        values = {
            **_service_fields(form),
            "category_id": category_id,
            "position": whole_number(form, "position", _("Position"), 0, MAX_INT32),
            "enabled": flag(form, "enabled"),
        }
        async with current.db.write() as conn:
            if await catalog.service_row(conn, service_id) is None:
                return not_found(current)
            await _check_category(conn, category_id)
            await catalog.edit_service(conn, service_id, **values)
            await catalog.set_fallback(conn, service_id, *await _fallback(conn, form))
            await note(conn, current, "service.edit", f"service:{service_id}", _changes(values))
    except Refusal as error:
        return await _service_page(
            current, service_id, 400, back_of(form), i18n.explain(error), typed_values(form)
        )
    return current.redirect(back_of(form), _("Service %(id)s saved.") % {"id": service_id})


async def _fallback(conn: AsyncConnection, form: FormData) -> tuple[int | None, str | None]:
    """The fallback provider chosen, or None for none, and the service id typed for it."""
    chosen = text(form, "fallback_provider")
    if not chosen:
        return None, None
    if not is_id(chosen) or await provider_settings(conn, int(chosen)) is None:
        raise CHOOSE_FALLBACK()
    return int(chosen), text(form, "fallback_service_id")


@router.post(CATALOGUE + "/services/{service_id:id}/enabled")
async def switch_service(service_id: int, current: OperatorVisit) -> Response:
    form = await current.form()
    enabled = flag(form, "enabled")
    try:
        async with current.db.write() as conn:
            if await catalog.service_row(conn, service_id) is None:
                return not_found(current)
            await catalog.set_service_enabled(conn, service_id, enabled)
            action = "service.enable" if enabled else "service.disable"
            await note(conn, current, action, f"service:{service_id}")
    except Refusal as error:
        return await _back_page(current, form, 400, i18n.explain(error), {})
    message = _("Service %(id)s is on offer.") if enabled else _("Service %(id)s is disabled.")
    return current.redirect(back_of(form), message % {"id": service_id})


# ---- the checked services at once


@router.post(f"{CATALOGUE}/services/enabled")
async def switch_services(current: OperatorVisit) -> Response:
    form = await current.form()
    chosen, enabled = ids(form, "service"), flag(form, "enabled")
    if not chosen:
        error = i18n.explain(CHOOSE_SERVICES_TO_SWITCH())
        return await _back_page(current, form, 400, error, {})
    async with current.db.write() as conn:
        changed = await catalog.set_services_enabled(conn, chosen, enabled)
        action = "services.enable" if enabled else "services.disable"
        await note(conn, current, action, "services", _id_list(chosen))
    if enabled:
        message = ngettext(
            "%(num)d service put on offer.", "%(num)d services put on offer.", changed
        )
    else:
        message = ngettext("%(num)d service disabled.", "%(num)d services disabled.", changed)
    return current.redirect(back_of(form), message % {"num": changed})


@router.post(f"{CATALOGUE}/services/category")
async def move_services(current: OperatorVisit) -> Response:
    form = await current.form()
    chosen = ids(form, "service")
    try:
        if not chosen:
            raise CHOOSE_SERVICES_TO_MOVE()
        category_id = _category_of(form)
        async with current.db.write() as conn:
            await _check_category(conn, category_id)
            moved = await catalog.move_services(conn, chosen, category_id)
            detail = f"to category {category_id}: {_id_list(chosen)}"
            await note(conn, current, "services.move", "services", detail)
    except Refusal as error:
        return await _back_page(current, form, 400, i18n.explain(error), {})
    message = ngettext("%(num)d service moved.", "%(num)d services moved.", moved)
    return current.redirect(back_of(form), message % {"num": moved})


@router.post(f"{CATALOGUE}/services/delete")
async def delete_services(current: OperatorVisit) -> Response:
    """Soft: the services leave every list and the offer; their orders keep them."""
    form = await current.form()
    chosen = ids(form, "service")
    if not chosen:
        error = i18n.explain(CHOOSE_SERVICES_TO_DELETE())
        return await _back_page(current, form, 400, error, {})
    async with current.db.write() as conn:
        deleted = await catalog.delete_services(conn, chosen)
        await note(conn, current, "services.delete", "services", _id_list(chosen))
    message = ngettext("%(num)d service deleted.", "%(num)d services deleted.", deleted)
    return current.redirect(back_of(form), message % {"num": deleted})


# ---- bulk price change


def _price_change(form: FormData) -> tuple[str, Decimal]:
    kind = text(form, "kind")
    if kind not in (catalog.PERCENT, catalog.FIXED):
        raise CHOOSE_CHANGE_KIND()
    change = amount(form, "change", _("Change"))
    if not change:
        raise CHANGE_IS_ZERO()
    return kind, change


async def _chosen_services(conn: AsyncConnection, form: FormData) -> list[int]:
    category = text(form, "category")
    chosen = (
        await catalog.services_of_category(conn, int(category))
        if is_id(category)
        else ids(form, "service")
    )
    if not chosen:
        raise CHOOSE_SERVICES()
    return chosen


def _previewed_rates_differ(form: FormData, rows: list[catalog.Repricing]) -> bool:
    return any(text(form, f"was_{row.id}") != str(row.old) for row in rows)


@router.post(f"{CATALOGUE}/prices")
async def change_prices(current: OperatorVisit) -> Response:
    form = await current.form()
    confirmed = flag(form, "confirm")
    try:
        kind, change = _price_change(form)
        async with current.db.write() if confirmed else current.db.read() as conn:
            rows = await catalog.repricing(conn, await _chosen_services(conn, form), kind, change)
            if not confirmed or _previewed_rates_differ(form, rows):
                return _preview(current, form, rows, stale=confirmed)
            await catalog.apply_repricing(conn, rows)
            detail = f"{kind} {change}: {_id_list([row.id for row in rows])}"
            await note(conn, current, "services.reprice", "services", detail)
    except Refusal as error:
        return await _back_page(current, form, 400, i18n.explain(error), typed_values(form))
    message = ngettext(
        "Changed the rate of %(num)d service.", "Changed the rates of %(num)d services.", len(rows)
    ) % {"num": len(rows)}
    return current.redirect(back_of(form), message)


def _changes(values: dict[str, object]) -> str:
    """The saved fields, for the audit log."""
    return ", ".join(f"{name}={value}" for name, value in values.items())


def _id_list(service_ids: list[int]) -> str:
    return "services " + ", ".join(str(service_id) for service_id in service_ids)


def _preview(
    current: Visit, form: FormData, rows: list[catalog.Repricing], stale: bool
) -> Response:
    refused = [row for row in rows if row.refused]
    error, status_code = None, 200
    if refused:
        error, status_code = _("A rate would fall to zero or below: change the amount."), 400
    elif stale:
        error = _("Rates changed since the preview: check the new preview and confirm again.")
        status_code = 409
    return current.render(
        "admin/catalog_prices.html",
        status_code,
        rows=rows,
        kind=text(form, "kind"),
        change=text(form, "change"),
        error=error,
        refused=bool(refused),
        forwarded=any(row.forwarded for row in rows),
        back=back_of(form),
    )
