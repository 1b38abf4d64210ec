"""Operator pages: upstream providers, their balance, and importing their services at a markup."""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, NamedTuple

import httpx
from babel.dates import format_timedelta
from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from smmpanel.admin.audit import note
from smmpanel.admin.provider_trouble import UpstreamTrouble, explained, in_english, trouble_of
from smmpanel.catalog.service import category_exists, category_names
from smmpanel.db.base import as_utc, utcnow
from smmpanel.errors import Refusal, refusal
from smmpanel.money import render_balance, render_rate, to_micros
from smmpanel.pagekit import i18n
from smmpanel.pagekit.forms import (
    amount,
    flag,
    is_id,
    not_found,
    required_text,
    text,
    typed_amount,
    typed_values,
    whole_number,
)
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.money_format import format_money
from smmpanel.pagekit.pages import OperatorVisit, Visit
from smmpanel.pagekit.pagination import page_number
from smmpanel.providers.alerts import balance_threshold, set_balance_threshold
from smmpanel.providers.catalog_sync import (
    CURRENCY_REFUSALS,
    Balance,
    ImportSummary,
    Landing,
    PriceRule,
    advice,
    check_balance,
    exchange_factor,
    import_services,
    load_provider,
)
from smmpanel.providers.client import UpstreamClient, UpstreamError
from smmpanel.providers.listing import UpstreamService, read_listing
from smmpanel.providers.models import DEFAULT_TIMEOUT_SECONDS
from smmpanel.providers.pricing import MAX_DECIMALS
from smmpanel.providers.service import (
    MAX_SYNC_HOURS,
    MAX_TIMEOUT,
    MIN_SYNC_HOURS,
    MIN_TIMEOUT,
    add_provider,
    archive_provider,
    edit_provider,
    every_provider_settings,
    imported_services,
    provider_settings,
    provider_stats,
    record_outcome,
    unarchive_provider,
)
from smmpanel.worker.context import upstream_http_client

router = APIRouter()
PROVIDERS = "/admin/providers"
NAME_LENGTH = 100
RULE_FIELDS = ("percent", "fixed", "decimals", "floor")
PREVIEW_PAGE_SIZE = 100  # upstream services per page of the import preview
SKIPPED_SHOWN = 100  # unusable entries listed under it; the rest are counted
LAND_ON_OFFER = "on-offer"  # the import's choice to offer new services at once, not disabled

NOT_A_WEB_ADDRESS = refusal("form_not_a_web_address", "API address: this is not a web address.")
NEGATIVE_MARKUP = refusal("form_negative_markup", "%(field)s: use 0 or more.")
ERROR_KEPT = 1000  # characters of a failed test kept as the provider's last error
# Characters of a new provider's test outcome carried to its page: the flash is a cookie,
# and browsers drop one over 4 KB (a Chinese character takes 8 bytes in it).
OUTCOME_SHOWN = 300


@dataclass(frozen=True)
class ImportRow:
    entry: UpstreamService
    rate: int | None  # ours by the rule, in millionths; None if too large to sell
    ours: int | None  # our service that already forwards it


@dataclass(frozen=True)
class PreviewPage:
    """One page of the upstream's services, and the checked ones on the other pages (kept as
    hidden fields, so that paging does not lose them)."""

    rows: list[ImportRow]
    number: int
    pages: int
    first: int  # the place of its first row in the whole list, from 1
    count: int  # rows in the whole list
    checked_elsewhere: list[str]

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


def _preview_page(rows: list[ImportRow], number: int, checked: set[str]) -> PreviewPage:
    pages = max(1, -(-len(rows) // PREVIEW_PAGE_SIZE))
    number = min(number, pages)
    start = (number - 1) * PREVIEW_PAGE_SIZE
    shown = rows[start : start + PREVIEW_PAGE_SIZE]
    on_page = {row.entry.id for row in shown}
    elsewhere = [row.entry.id for row in rows if row.entry.id in checked - on_page]
    return PreviewPage(shown, number, pages, start + 1, len(rows), elsewhere)


class SkippedEntry(NamedTuple):
    ref: str  # the upstream id, or the entry's place in the list
    reason: str  # why it cannot be imported, translated


@contextlib.asynccontextmanager
async def _upstream() -> AsyncIterator[UpstreamClient]:
    async with upstream_http_client() as http:
        yield UpstreamClient(http)


# ---- the list, and adding a provider


async def _list_page(
    current: Visit,
    status_code: int = 200,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    with_archived = current.request.query_params.get("archived") == "1"
    async with current.db.read() as conn:
        stats = await provider_stats(conn)
        settings = await every_provider_settings(conn)
    shown = [row for row in stats if with_archived or row.archived_at is None]
    return current.render(
        "admin/providers.html",
        status_code,
        providers=[(row, settings[row.id]) for row in shown],
        archived_count=sum(row.archived_at is not None for row in stats),
        with_archived=with_archived,
        ago=_ago,
        error=error,
        typed=typed or {"timeout_seconds": str(DEFAULT_TIMEOUT_SECONDS)},
    )


def _ago(moment: datetime | None) -> str:
    """How long ago, in the visitor's language ("5 minutes ago")."""
    if moment is None:
        return ""
    age = format_timedelta(utcnow() - as_utc(moment), locale=i18n.babel_locale())
    return _("%(age)s ago") % {"age": age}


@router.get(PROVIDERS)
async def providers_page(current: OperatorVisit) -> Response:
    return await _list_page(current)


def _api_url(form: FormData) -> str:
    api_url = text(form, "api_url")
    try:
        httpx.URL(api_url)
    except httpx.InvalidURL:
        raise NOT_A_WEB_ADDRESS() from None
    return api_url


def _timeout(form: FormData) -> int:
    return whole_number(form, "timeout_seconds", _("Timeout (seconds)"), MIN_TIMEOUT, MAX_TIMEOUT)


def _sync_hours(form: FormData) -> int:
    label = _("Catalogue sync every (hours)")
    return whole_number(form, "sync_hours", label, MIN_SYNC_HOURS, MAX_SYNC_HOURS)


@router.post(PROVIDERS)
async def add(current: OperatorVisit) -> Response:
    form = await current.form()
    typed = {name: value for name, value in typed_values(form).items() if name != "api_key"}
    try:
        name = required_text(form, "name", _("Name"), NAME_LENGTH)
        api_url, timeout = _api_url(form), _timeout(form)
        async with current.db.write() as conn:
            provider_id = await add_provider(conn, name, api_url, text(form, "api_key"), timeout)
            await note(conn, current, "provider.add", f"provider:{provider_id}", name)
    except Refusal as error:
        return await _list_page(current, 400, i18n.explain(error), typed)
    message = _("Provider %(name)s added; its key is stored and never shown again.") % {
        "name": name
    }
    outcome, kind = await _first_test(current, provider_id)
    return current.redirect(f"{PROVIDERS}/{provider_id}", f"{message} {outcome}", kind)


async def _first_test(current: Visit, provider_id: int) -> tuple[str, str]:
    """A new provider asked for our balance and its services: what came back, in words,
    and the flash's kind. A failure is kept as its last error, for the operator to fix."""
    try:
        async with _upstream() as client:
            balance = await check_balance(current.db, client, provider_id)
            listed = await _usable_services(current, client, provider_id)
    except Refusal as refused:
        await _note_failure(current, provider_id, refused)
        failed = trouble_of(refused)
        return _shortened(f"{failed.headline} {failed.detail}"), "error"
    await _note_success(current, provider_id)
    answered = _("It answered: our balance there is %(amount)s, and it lists %(count)s services.")
    return answered % {"amount": _shown_balance(balance), "count": listed}, "ok"


async def _usable_services(current: Visit, client: UpstreamClient, provider_id: int) -> int:
    provider = await load_provider(current.db, provider_id)
    try:
        entries = await client.services(provider.endpoint)
    except UpstreamError as exc:
        raise advice(provider, exc) from None
    return len(read_listing(entries).services)


def _shortened(outcome: str) -> str:
    return outcome if len(outcome) <= OUTCOME_SHOWN else outcome[: OUTCOME_SHOWN - 1] + "…"


def _shown_balance(balance: Balance) -> str:
    language = i18n.current_language.get()
    return format_money(balance.micros, "balance", language, balance.currency)


async def _note_failure(current: Visit, provider_id: int, refused: Refusal) -> None:
    async with current.db.write() as conn:
        await record_outcome(conn, provider_id, error=f"test: {in_english(refused)}"[:ERROR_KEPT])


async def _note_success(current: Visit, provider_id: int) -> None:
    async with current.db.write() as conn:
        await record_outcome(conn, provider_id, success=True)


# ---- one provider: settings, test, import


def _rule_fields(rule: PriceRule) -> dict[str, str]:
    return {
        "percent": _plain(rule.percent),
        "fixed": _plain(rule.fixed),
        "decimals": str(rule.decimals),
        "floor": _plain(rule.floor),
    }


def _plain(value: Decimal) -> str:
    return render_rate(to_micros(value))


async def _provider_page(
    current: Visit,
    provider_id: int,
    status_code: int = 200,
    *,
    error: str | None = None,
    typed: dict[str, str] | None = None,
    balance: Balance | None = None,
    trouble: UpstreamTrouble | None = None,
    rule: dict[str, str] | None = None,
) -> Response:
    """The provider's counters and settings, with the outcome of what was just asked."""
    async with current.db.read() as conn:
        settings = await provider_settings(conn, provider_id)
        stats = next((row for row in await provider_stats(conn) if row.id == provider_id), None)
        threshold = await balance_threshold(conn, provider_id)
    if settings is None:
        return not_found(current)
    return current.render(
        "admin/provider.html",
        status_code,
        provider=settings,
        stats=stats,
        error=error,
        typed=typed,
        balance=balance,
        trouble=trouble,
        rule=rule or await _saved_rule_fields(current, provider_id),
        threshold="" if threshold is None else render_balance(threshold),
    )


async def _saved_rule_fields(current: Visit, provider_id: int) -> dict[str, str]:
    try:
        return _rule_fields((await load_provider(current.db, provider_id)).rule)
    except Refusal:  # an unreadable saved rule: start from no markup
        return _rule_fields(PriceRule())


async def _exists(current: Visit, provider_id: int) -> bool:
    async with current.db.read() as conn:
        return await provider_settings(conn, provider_id) is not None


@router.get(PROVIDERS + "/{provider_id:id}")
async def provider_page(provider_id: int, current: OperatorVisit) -> Response:
    if not await _exists(current, provider_id):
        return not_found(current)
    return await _provider_page(current, provider_id)


@router.post(PROVIDERS + "/{provider_id:id}")
async def edit(provider_id: int, current: OperatorVisit) -> Response:
    if not await _exists(current, provider_id):
        return not_found(current)
    form = await current.form()
    try:
        api_url, timeout, sync_hours = _api_url(form), _timeout(form), _sync_hours(form)
        threshold = _balance_threshold(form)
        async with current.db.write() as conn:
            await edit_provider(
                conn,
                provider_id,
                api_url=api_url,
                api_key=text(form, "api_key") or None,
                timeout_seconds=timeout,
                enabled=flag(form, "enabled"),
                sync_hours=sync_hours,
            )
            await set_balance_threshold(conn, provider_id, threshold)
            detail = f"api_url={api_url}, timeout={timeout}, sync_hours={sync_hours}, " + (
                f"enabled={flag(form, 'enabled')}, new key={bool(text(form, 'api_key'))}, "
                f"alert below={'none' if threshold is None else render_balance(threshold)}"
            )
            await note(conn, current, "provider.edit", f"provider:{provider_id}", detail)
    except Refusal as error:
        typed = {name: value for name, value in typed_values(form).items() if name != "api_key"}
        return await _provider_page(
            current, provider_id, 400, error=i18n.explain(error), typed=typed
        )
    return current.redirect(f"{PROVIDERS}/{provider_id}", _("The provider's settings are saved."))


def _balance_threshold(form: FormData) -> int | None:
    """The balance below which an alert goes out, in micros; blank: no alert."""
    typed = text(form, "balance_alert_below")
    if not typed:
        return None
    label = _("Alert when the balance there is below")
    micros = to_micros(typed_amount(typed, label))
    if micros < 0:
        raise NEGATIVE_MARKUP(field=label)
    return micros


@router.post(PROVIDERS + "/{provider_id:id}/test")
async def test(provider_id: int, current: OperatorVisit) -> Response:
    if not await _exists(current, provider_id):
        return not_found(current)
    await current.form()
    try:
        async with _upstream() as client:
            balance = await check_balance(current.db, client, provider_id)
    except Refusal as error:
        await _note_failure(current, provider_id, error)
        return await _provider_page(current, provider_id, 502, trouble=trouble_of(error))
    await _note_success(current, provider_id)
    return await _provider_page(current, provider_id, balance=balance)


# ---- archiving


@router.post(PROVIDERS + "/{provider_id:id}/archive")
async def archive(provider_id: int, current: OperatorVisit) -> Response:
    return await _archiving(current, provider_id, archive=True)


@router.post(PROVIDERS + "/{provider_id:id}/unarchive")
async def unarchive(provider_id: int, current: OperatorVisit) -> Response:
    return await _archiving(current, provider_id, archive=False)


async def _archiving(current: Visit, provider_id: int, *, archive: bool) -> Response:
    if not await _exists(current, provider_id):
        return not_found(current)
    await current.form()
    try:
        async with current.db.write() as conn:
            if archive:
                await archive_provider(conn, provider_id)
            else:
                await unarchive_provider(conn, provider_id)
            action = "provider.archive" if archive else "provider.unarchive"
            await note(conn, current, action, f"provider:{provider_id}")
    except Refusal as error:
        return await _provider_page(current, provider_id, 400, error=explained(error))
    if archive:
        done = _("The provider is archived: disabled, out of the list, kept for its orders.")
        return current.redirect(PROVIDERS, done)
    done = _("The provider is out of the archive. It stays disabled until you enable it.")
    return current.redirect(f"{PROVIDERS}/{provider_id}", done)


# ---- importing services


def _price_rule(form: FormData) -> PriceRule:
    labels = {
        "percent": _("Markup percent"),
        "fixed": _("Fixed markup per 1000"),
        "floor": _("Lowest rate per 1000"),
    }
    amounts = {name: amount(form, name, label) for name, label in labels.items()}
    for name, value in amounts.items():
        if value < 0:
            raise NEGATIVE_MARKUP(field=labels[name])
    decimals = whole_number(form, "decimals", _("Round up to decimals"), 0, MAX_DECIMALS)
    return PriceRule(decimals=decimals, **amounts)


def _import_rows(
    entries: list[dict[str, Any]], rule: PriceRule, factor: Decimal, imported: dict[str, int]
) -> tuple[list[ImportRow], list[SkippedEntry]]:
    """`factor`: one unit of the provider's currency in the panel's."""
    listing = read_listing(entries)
    rows = []
    for entry in listing.services.values():
        try:
            rate: int | None = rule.price_micros(entry.rate * factor)
        except ValueError:
            rate = None
        rows.append(ImportRow(entry, rate, imported.get(entry.id)))
    skipped = [SkippedEntry(each.ref, i18n.explain(each.reason)) for each in listing.skipped]
    return rows, skipped


async def _rule_refused(
    current: Visit, provider_id: int, form: FormData, problem: Refusal
) -> Response:
    rule_typed = {name: text(form, name) for name in RULE_FIELDS}
    error = i18n.explain(problem)
    return await _provider_page(current, provider_id, 400, error=error, rule=rule_typed)


async def _import_page(
    current: Visit,
    provider_id: int,
    form: FormData,
    rule: PriceRule,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    """The upstream's services priced by the rule, to check for import."""
    provider = await load_provider(current.db, provider_id)
    try:
        async with _upstream() as client:
            factor = await exchange_factor(current.db, client, provider)
            entries = await client.services(provider.endpoint)
    except UpstreamError as exc:
        trouble = trouble_of(advice(provider, exc))
        return await _provider_page(current, provider_id, 502, trouble=trouble)
    except Refusal as refused:
        return await _import_refused(current, provider_id, refused)
    async with current.db.read() as conn:
        imported = await imported_services(conn, provider_id)
        categories = await category_names(conn)
    rows, skipped = _import_rows(entries, rule, factor, imported)
    checked = {str(value).strip() for value in form.getlist("service")}
    return current.render(
        "admin/provider_import.html",
        status_code,
        provider=provider,
        rule=_rule_fields(rule),
        page=_preview_page(rows, page_number(text(form, "page")), checked),
        skipped=skipped[:SKIPPED_SHOWN],
        skipped_more=len(skipped) - min(len(skipped), SKIPPED_SHOWN),
        checked=checked,
        categories=categories,
        landing={"land": text(form, "land"), "into_category": text(form, "into_category")},
        error=error,
    )


async def _with_rule(
    current: Visit,
    provider_id: int,
    then: Callable[[FormData, PriceRule], Awaitable[Response]],
) -> Response:
    """Read the import form's price rule, then go on with it; a bad rule is shown on the page."""
    async with current.db.read() as conn:
        settings = await provider_settings(conn, provider_id)
    if settings is None:
        return not_found(current)
    form = await current.form()
    if settings.archived_at is not None:
        error = _("The provider is archived: take it out of the archive to import its services.")
        return await _provider_page(current, provider_id, 400, error=error)
    try:
        rule = _price_rule(form)
    except Refusal as problem:
        return await _rule_refused(current, provider_id, form, problem)
    return await then(form, rule)


@router.post(PROVIDERS + "/{provider_id:id}/import-preview")
async def import_preview(provider_id: int, current: OperatorVisit) -> Response:
    return await _with_rule(current, provider_id, partial(_import_page, current, provider_id))


def _chosen_ids(form: FormData) -> list[str] | None:
    """The checked upstream ids; None for every listed service."""
    if flag(form, "every"):
        return None
    return [str(value).strip() for value in form.getlist("service") if str(value).strip()]


@router.post(PROVIDERS + "/{provider_id:id}/import")
async def import_checked(provider_id: int, current: OperatorVisit) -> Response:
    return await _with_rule(current, provider_id, partial(_import, current, provider_id))


async def _import(current: Visit, provider_id: int, form: FormData, rule: PriceRule) -> Response:
    chosen = _chosen_ids(form)
    if chosen == []:
        error = _("Check the services to import, or choose every listed service.")
        return await _import_page(current, provider_id, form, rule, 400, error)
    landing = await _landing(current, form)
    if landing is None:
        error = _("Choose one of the categories, or the provider's own.")
        return await _import_page(current, provider_id, form, rule, 400, error)
    try:
        async with _upstream() as client:
            summary = await import_services(
                current.db, client, provider_id, rule, chosen, landing=landing
            )
    except Refusal as error:
        return await _import_refused(current, provider_id, error)
    # The import runs its own transactions, one per batch: the log tells its outcome after.
    async with current.db.write() as conn:
        detail = f"{summary.created} new, {summary.updated} updated, {len(summary.skipped)} skipped"
        detail += f"; new ones {'disabled' if landing.disabled else 'on offer'}"
        if landing.category_id is not None:
            detail += f", in category {landing.category_id}"
        await note(conn, current, "provider.import", f"provider:{provider_id}", detail)
    # The catalogue filtered to this provider's services: those just imported among them.
    return current.redirect(f"/admin/catalog?provider={provider_id}", _imported_message(summary))


async def _landing(current: Visit, form: FormData) -> Landing | None:
    """Where the new services land: disabled unless the operator chose otherwise, in the
    chosen category or the provider's own; None for a category that is not there."""
    disabled = text(form, "land") != LAND_ON_OFFER
    chosen = text(form, "into_category")
    if not chosen:
        return Landing(disabled=disabled)
    if not is_id(chosen):
        return None
    async with current.db.read() as conn:
        if not await category_exists(conn, int(chosen)):
            return None
    return Landing(disabled=disabled, category_id=int(chosen))


async def _import_refused(current: Visit, provider_id: int, refused: Refusal) -> Response:
    """A missing exchange rate or currency is the operator's to set (400); anything else is
    trouble with the provider (502)."""
    if refused.kind in CURRENCY_REFUSALS:
        return await _provider_page(current, provider_id, 400, error=explained(refused))
    return await _provider_page(current, provider_id, 502, trouble=trouble_of(refused))


def _imported_message(summary: ImportSummary) -> str:
    return _(
        "Imported from %(provider)s: %(created)s new, %(updated)s updated, %(skipped)s skipped."
    ) % {
        "provider": summary.provider,
        "created": summary.created,
        "updated": summary.updated,
        "skipped": len(summary.skipped),
    }
