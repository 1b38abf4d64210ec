"""provider: the upstream panels we resell, their catalogues, balances and counters."""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from smmpanel.cli.common import (
    bounded_option,
    fail,
    in_transaction,
    parse_amount,
    read_only,
    show_progress,
    with_database,
)
from smmpanel.cli.tables import moment, print_table
from smmpanel.errors import Refusal
from smmpanel.integers import MAX_INT32
from smmpanel.money import from_micros, render_balance

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from smmpanel.db import Database
    from smmpanel.db.base import AnyRow
    from smmpanel.providers.catalog_sync import Balance, ImportSummary, SyncSummary
    from smmpanel.providers.client import UpstreamClient
    from smmpanel.providers.listing import Skipped

T = TypeVar("T")

provider_app = typer.Typer(help="Add upstream providers, import and sync their catalogues.")

MAX_SKIPPED_SHOWN = 20
SHORT_ERROR = 40
DEFAULT_LIMIT = 50
KEY_KEPT = "the key is stored and is never shown again"


def _provider_argument() -> str:
    return typer.Argument(..., help="Id or name (see `smmpanel provider list`).")


def with_upstream(work: Callable[[Database, UpstreamClient], Awaitable[T]]) -> T:
    """Run work that calls upstream panels, with one HTTP client for the whole command."""
    from smmpanel.providers.client import UpstreamClient
    from smmpanel.worker.context import upstream_http_client

    async def run(db: Database) -> T:
        async with upstream_http_client() as http:
            return await work(db, UpstreamClient(http))

    return with_database(run)


async def _find(db: Database, ref: str) -> int:
    from smmpanel.providers.service import find_provider

    async with db.read() as conn:
        return await find_provider(conn, ref)


# ---- add, edit, enable, disable, list


@provider_app.command("add")
def add_command(
    name: str = typer.Argument(..., help="A unique name for this provider."),
    url: str = typer.Argument(..., help="Its API v2 address, e.g. https://example.com/api/v2."),
    key: str = typer.Option(
        ...,
        prompt="API key",
        hide_input=True,
        help="The key its panel gave you (asked for if left out).",
    ),
    timeout: int = bounded_option(
        30, "Seconds to wait for each of its answers (1-300).", low=-MAX_INT32
    ),
) -> None:
    """Add an upstream provider; its key is kept and never printed."""
    from smmpanel.providers.service import add_provider

    async def use_case(conn: AsyncConnection) -> int:
        return await add_provider(conn, name, url, key, timeout)

    provider_id = in_transaction(use_case)
    typer.echo(f"added provider {provider_id} ({name.strip()}) at {url.strip()}; {KEY_KEPT}")
    typer.echo(
        f"next: `smmpanel provider balance {provider_id}` to check the key, then "
        f"`smmpanel provider import {provider_id} --markup-percent 30`"
    )


@provider_app.command("edit")
def edit_command(
    provider: str = _provider_argument(),
    url: str = typer.Option(None, help="A new API v2 address."),
    key: str = typer.Option(None, help="A new API key (never shown again)."),
    timeout: int = bounded_option(None, "Seconds to wait for each answer (1-300).", low=-MAX_INT32),
    sync_hours: int = bounded_option(
        None, "Hours between automatic catalogue syncs (1-720; 6 at first).", low=-MAX_INT32
    ),
) -> None:
    """Change a provider's URL, key, timeout or how often its catalogue is synced."""
    from smmpanel.providers.service import edit_provider, find_provider

    given = {"URL": url, "key": key, "timeout": timeout, "sync hours": sync_hours}
    changed = [label for label, value in given.items() if value is not None]
    if not changed:
        fail("nothing to change: give --url, --key, --timeout or --sync-hours")

    async def use_case(conn: AsyncConnection) -> int:
        provider_id = await find_provider(conn, provider)
        await edit_provider(
            conn,
            provider_id,
            api_url=url,
            api_key=key,
            timeout_seconds=timeout,
            sync_hours=sync_hours,
        )
        return provider_id

    provider_id = in_transaction(use_case)
    kept = f"; {KEY_KEPT}" if key is not None else ""
    typer.echo(f"provider {provider_id}: changed {', '.join(changed)}{kept}")


@provider_app.command("disable")
def disable_command(provider: str = _provider_argument()) -> None:
    """Stop sending orders to a provider and skip it in automatic syncs."""
    provider_id = _set_enabled(provider, enabled=False)
    typer.echo(
        f"provider {provider_id} is disabled: orders for its services wait in the queue and"
        " it is not synced; its services stay on offer: `smmpanel catalog service-disable ID`"
        " stops taking orders for one"
    )


@provider_app.command("enable")
def enable_command(provider: str = _provider_argument()) -> None:
    """Send orders to a provider again."""
    provider_id = _set_enabled(provider, enabled=True)
    typer.echo(f"provider {provider_id} is enabled: queued orders go out again")


def _set_enabled(provider: str, enabled: bool) -> int:
    from smmpanel.providers.service import edit_provider, find_provider

    async def use_case(conn: AsyncConnection) -> int:
        provider_id = await find_provider(conn, provider)
        await edit_provider(conn, provider_id, enabled=enabled)
        return provider_id

    return in_transaction(use_case)


@provider_app.command("list")
def list_command() -> None:
    """Every provider with its order counters, pause, last error, last success and balance."""
    from smmpanel.providers.service import provider_stats

    rows = read_only(provider_stats)
    print_table(
        (
            "id",
            "name",
            "enabled",
            "sent",
            "rejected",
            "in doubt",
            "polled",
            "paused until",
            "last error",
            "last success",
            "balance",
            "synced",
            "sync every",
        ),
        [
            (
                row.id,
                row.name,
                "yes" if row.enabled else "no",
                row.sent,
                row.rejected,
                row.in_doubt,
                row.polled,
                _pause_text(row.paused_until),
                _short_error(row.last_error, row.last_error_at),
                moment(row.last_success_at),
                _balance_text(row.balance, row.balance_currency),
                moment(row.synced_at),
                f"{row.sync_hours} h",
            )
            for row in rows
        ],
        empty="no providers yet: add one with `smmpanel provider add NAME URL --key KEY`",
    )


def _pause_text(paused_until: datetime | None) -> str | None:
    """Until when sending waits (the upstream said it is short of our funds); None if it does
    not."""
    from smmpanel.db.base import as_utc, utcnow

    if paused_until is None or as_utc(paused_until) <= utcnow():
        return None
    return moment(paused_until)


def _short_error(error: str | None, when: datetime | None) -> str | None:
    if not error:
        return None
    first_line = " ".join(error.split())
    if len(first_line) > SHORT_ERROR:
        first_line = first_line[: SHORT_ERROR - 1] + "…"
    return f"{moment(when)} {first_line}"


def _balance_text(balance: int | None, currency: str | None) -> str | None:
    if balance is None:
        return None
    return f"{render_balance(balance)} {currency or ''}".strip()


# ---- balance


@provider_app.command("balance")
def balance_command(provider: str = _provider_argument()) -> None:
    """Ask a provider for our balance there (and keep it for `provider list`)."""
    from smmpanel.providers.catalog_sync import check_balance

    async def work(db: Database, client: UpstreamClient) -> Balance:
        return await check_balance(db, client, await _find(db, provider))

    balance = with_upstream(work)
    amount = render_balance(balance.micros)
    typer.echo(f"balance at {balance.provider}: {amount} {balance.currency}".rstrip())


# ---- import and sync


@provider_app.command("import")
def import_command(
    provider: str = _provider_argument(),
    markup_percent: str = typer.Option(None, help="Percent added to the upstream rate, e.g. 30."),
    markup_fixed: str = typer.Option(None, help="Amount added per 1000 after the percent."),
    decimals: int = bounded_option(
        None, "Round our rate UP to this many decimals (0-6).", low=-MAX_INT32
    ),
    floor: str = typer.Option(None, help="The lowest rate we sell at, per 1000."),
    services_: str = typer.Option(
        None, "--services", help="Only these upstream service ids, e.g. 1,2,3."
    ),
) -> None:
    """Import a provider's services into our catalogue, priced by a rule saved for its syncs.

    Options left out keep the provider's saved rule (at first: no markup, 6 decimals, no floor).
    Services imported before are updated, never duplicated.
    """
    from smmpanel.providers.catalog_sync import import_services, load_provider

    changes = _rule_changes(markup_percent, markup_fixed, decimals, floor)
    only_ids = _service_ids(services_) if services_ is not None else None

    async def work(db: Database, client: UpstreamClient) -> ImportSummary:
        provider_id = await _find(db, provider)
        rule = replace((await load_provider(db, provider_id)).rule, **changes)
        return await import_services(db, client, provider_id, rule, only_ids, _show_progress)

    summary = with_upstream(work)
    _print_import(summary)


def _rule_changes(
    percent: str | None, fixed: str | None, decimals: int | None, floor: str | None
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, option, text in (
        ("percent", "--markup-percent", percent),
        ("fixed", "--markup-fixed", fixed),
        ("floor", "--floor", floor),
    ):
        if text is not None:
            changes[name] = from_micros(parse_amount(text, option))
    if decimals is not None:
        changes["decimals"] = decimals
    return changes


def _service_ids(text: str) -> list[str]:
    ids = [part.strip() for part in text.split(",") if part.strip()]
    if not ids:
        fail("--services: give upstream service ids separated by commas, e.g. 1,2,3")
    return ids


def _show_progress(done: int, total: int) -> None:
    show_progress("importing services", done, total)


def _print_import(summary: ImportSummary) -> None:
    typer.echo(
        f"imported from {summary.provider} ({summary.listed} listed): {summary.created} new,"
        f" {summary.updated} updated, {len(summary.skipped)} skipped"
    )
    typer.echo(f"price rule (saved for syncs): {summary.rule.describe()}")
    _print_skipped(summary.skipped)


def _print_skipped(skipped: list[Skipped]) -> None:
    for entry in skipped[:MAX_SKIPPED_SHOWN]:
        typer.echo(f"  skipped {entry.ref}: {entry.reason.message}")
    if len(skipped) > MAX_SKIPPED_SHOWN:
        typer.echo(f"  ... and {len(skipped) - MAX_SKIPPED_SHOWN} more")


@provider_app.command("sync")
def sync_command(
    provider: str = typer.Argument(None, help="Id or name; or --all."),
    all_: bool = typer.Option(False, "--all", help="Every enabled provider."),
) -> None:
    """Update rates and limits from the upstream; disable services gone there."""
    from smmpanel.providers.catalog_sync import SyncSummary

    if (provider is None) == (not all_):
        fail("give a provider (id or name) or --all, not both")

    async def work(db: Database, client: UpstreamClient) -> list[SyncSummary | str]:
        ids = [await _find(db, provider)] if provider else await _enabled_providers(db)
        return [await _sync_or_reason(db, client, provider_id) for provider_id in ids]

    results = with_upstream(work)
    failures = [result for result in results if isinstance(result, str)]
    if provider and failures:
        fail(failures[0])
    if not results:
        typer.echo("no enabled providers to sync")
    for result in results:
        if isinstance(result, SyncSummary):
            _print_sync(result)
    for failure in failures:
        typer.echo(f"not synced: {failure}", err=True)
    if failures:
        fail(f"{len(failures)} of {len(results)} providers were not synced; see above")


async def _sync_or_reason(
    db: Database, client: UpstreamClient, provider_id: int
) -> SyncSummary | str:
    from smmpanel.providers.catalog_sync import sync_provider

    try:
        return await sync_provider(db, client, provider_id)
    except Refusal as exc:
        return str(exc)


async def _enabled_providers(db: Database) -> list[int]:
    from sqlalchemy import select

    from smmpanel.providers.models import providers

    async with db.read() as conn:
        query = select(providers.c.id).where(providers.c.enabled.is_(True))
        return list(await conn.scalars(query.order_by(providers.c.id)))


def _print_sync(result: SyncSummary) -> None:
    typer.echo(
        f"synced {result.provider} ({result.listed} listed): {result.checked} of our services"
        f" checked, {result.changed} changed, {result.disabled} disabled as gone upstream,"
        f" {result.changes} changes recorded"
    )
    if result.back:
        typer.echo(
            f"  {result.back} services are listed again upstream but stay disabled here:"
            " check them, then `smmpanel catalog service-enable ID` each"
        )
    if result.not_imported:
        typer.echo(
            f"  {result.not_imported} upstream services are not in our catalogue:"
            " `smmpanel provider import` adds them"
        )
    _print_skipped(result.skipped)
    if result.changes:
        typer.echo(f"  see `smmpanel provider changes {shlex.quote(result.provider)}`")


# ---- the change log


@provider_app.command("changes")
def changes_command(
    provider: str = typer.Argument(None, help="Id or name; every provider if left out."),
    limit: int = bounded_option(DEFAULT_LIMIT, "Show at most this many, newest first.", low=1),
) -> None:
    """What imports and syncs changed in our services, newest first."""
    from smmpanel.providers.service import find_provider

    async def query(conn: AsyncConnection) -> list[AnyRow]:
        provider_id = await find_provider(conn, provider) if provider else None
        return await _recorded_changes(conn, provider_id, limit)

    rows = read_only(query)
    print_table(
        ("when", "provider", "service", "name", "field", "old", "new"),
        [
            (moment(r.created_at), r.provider, r.service_id, r.name, r.field, r.old, r.new)
            for r in rows
        ],
        empty="no changes recorded: `smmpanel provider sync` records what it changes",
    )


async def _recorded_changes(
    conn: AsyncConnection, provider_id: int | None, limit: int
) -> list[AnyRow]:
    from sqlalchemy import select

    from smmpanel.catalog.models import services
    from smmpanel.providers.models import providers, service_changes

    query = (
        select(
            service_changes.c.created_at,
            providers.c.name.label("provider"),
            service_changes.c.service_id,
            services.c.name,
            service_changes.c.field,
            service_changes.c.old_value.label("old"),
            service_changes.c.new_value.label("new"),
        )
        .join(providers, providers.c.id == service_changes.c.provider_id)
        .join(services, services.c.id == service_changes.c.service_id)
        .order_by(service_changes.c.id.desc())
        .limit(limit)
    )
    if provider_id is not None:
        query = query.where(service_changes.c.provider_id == provider_id)
    return list((await conn.execute(query)).all())
