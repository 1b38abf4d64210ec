"""catalog and price: the services on offer, as a JSON file, and per-customer rates."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from smmpanel.cli.common import (
    fail,
    id_argument,
    in_transaction,
    parse_amount,
    read_only,
    show_progress,
)
from smmpanel.errors import Refusal
from smmpanel.money import render_rate

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from smmpanel.catalog.transfer import CategoryEntry, ImportSummary

catalog_app = typer.Typer(
    help="Export and import the catalogue as JSON; enable, disable or set up a service."
)
price_app = typer.Typer(help="Set or clear a customer's own rate for a service.")


@catalog_app.command("export")
def export_command(
    file: Annotated[
        Path | None,
        typer.Argument(dir_okay=False, help="Where to write; stdout if left out."),
    ] = None,
) -> None:
    """Write every category and service (enabled or not) as JSON."""
    from smmpanel.catalog.transfer import dump, export_catalog

    document = read_only(export_catalog)
    text = dump(document)
    if file is None:
        typer.echo(text, nl=False)
        return
    try:
        file.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {file}: {exc.strerror}; check the path and its permissions")
    count = sum(len(category["services"]) for category in document["categories"])
    typer.echo(f"exported {count} services in {len(document['categories'])} categories to {file}")


@catalog_app.command("import")
def import_command(
    file: Annotated[
        Path, typer.Argument(dir_okay=False, help="A file as `catalog export` writes.")
    ],
) -> None:
    """Add or update services by id from a JSON file; all of it, or nothing if one is wrong."""
    entries = _read_file(file)
    total = sum(len(entry.services) for entry in entries)
    summary = _import(entries)
    typer.echo(
        f"imported {total} services in {summary.categories} categories: "
        f"{summary.created} new, {summary.updated} updated"
    )


def _read_file(file: Path) -> list[CategoryEntry]:
    from smmpanel.catalog.transfer import read_catalog

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}; check the path")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text; save it as UTF-8 JSON")
    try:
        return read_catalog(text)
    except Refusal as exc:
        fail(f"{file}: {exc}")


def _import(entries: list[CategoryEntry]) -> ImportSummary:
    from smmpanel.catalog.transfer import import_catalog

    def progress(done: int, total: int) -> None:
        show_progress("importing services", done, total)

    async def use_case(conn: AsyncConnection) -> ImportSummary:
        return await import_catalog(conn, entries, progress)

    return in_transaction(use_case)


def _service_argument() -> int:
    return id_argument("The service's id (`smmpanel catalog export` lists them).")


@catalog_app.command("service-enable")
def service_enable_command(service_id: int = _service_argument()) -> None:
    """Put one service on offer again: in the API's `services` list and open to orders."""
    name, changed = _set_service_enabled(service_id, enabled=True)
    state = "is on offer again" if changed else "was on offer already"
    typer.echo(f"service {service_id} ({name}) {state}")


@catalog_app.command("service-disable")
def service_disable_command(service_id: int = _service_argument()) -> None:
    """Take one service off offer; orders placed before go on as usual."""
    name, changed = _set_service_enabled(service_id, enabled=False)
    state = "is off offer: new orders are refused" if changed else "was off offer already"
    typer.echo(f"service {service_id} ({name}) {state}")


@catalog_app.command("service-fallback")
def service_fallback_command(
    service_id: int = _service_argument(),
    provider: str = typer.Option(None, help="The fallback provider's id or name."),
    upstream_id: str = typer.Option(
        None, "--service-id", help="The id of the service to order at the fallback provider."
    ),
    clear: bool = typer.Option(False, "--clear", help="No fallback: a rejection refunds."),
) -> None:
    """Set where a resold service's orders go when its provider rejects them, or --clear it."""
    from smmpanel.catalog.service import find_service, set_fallback
    from smmpanel.providers.service import find_provider

    if clear == (provider is not None) or (upstream_id is not None and provider is None):
        fail("give --provider and --service-id, or --clear")

    async def use_case(conn: AsyncConnection) -> str:
        service = await find_service(conn, service_id)
        provider_id = await find_provider(conn, provider) if provider is not None else None
        await set_fallback(conn, service_id, provider_id, upstream_id)
        return service.name

    name = in_transaction(use_case)
    if clear:
        typer.echo(f"service {service_id} ({name}) has no fallback: a rejected order is refunded")
    else:
        typer.echo(
            f"service {service_id} ({name}) falls back to provider {provider}, service"
            f" {upstream_id.strip()}, when its own provider rejects an order"
        )


def _set_service_enabled(service_id: int, enabled: bool) -> tuple[str, bool]:
    from smmpanel.catalog.service import find_service, set_service_enabled

    async def use_case(conn: AsyncConnection) -> tuple[str, bool]:
        service = await find_service(conn, service_id)
        return service.name, await set_service_enabled(conn, service_id, enabled)

    return in_transaction(use_case)


@price_app.command("set")
def set_price(
    customer: str = typer.Argument(..., help="Id or name."),
    service_id: int = id_argument("The service's id."),
    rate: str = typer.Argument(..., help="Price per 1000, e.g. 0.85."),
) -> None:
    """Charge one customer their own rate for a service."""
    from smmpanel.accounts.service import customer_name, find_customer
    from smmpanel.catalog.service import find_service, set_customer_price

    micros = parse_amount(rate, "RATE")

    async def use_case(conn: AsyncConnection) -> tuple[str, str, int]:
        customer_id = await find_customer(conn, customer)
        service = await find_service(conn, service_id)
        await set_customer_price(conn, customer_id, service_id, micros)
        return await customer_name(conn, customer_id), service.name, service.rate

    name, service_name, list_rate = in_transaction(use_case)
    typer.echo(
        f"{name} pays {render_rate(micros)} per 1000 for service {service_id} ({service_name}); "
        f"the list price is {render_rate(list_rate)}"
    )


@price_app.command("clear")
def clear_price(
    customer: str = typer.Argument(..., help="Id or name."),
    service_id: int = id_argument("The service's id."),
) -> None:
    """Return a customer to the list price of a service."""
    from smmpanel.accounts.service import customer_name, find_customer
    from smmpanel.catalog.service import custom_rate, find_service, set_customer_price

    async def use_case(conn: AsyncConnection) -> tuple[str, int, bool]:
        customer_id = await find_customer(conn, customer)
        service = await find_service(conn, service_id)
        had_own = await custom_rate(conn, customer_id, service_id) is not None
        await set_customer_price(conn, customer_id, service_id, None)
        return await customer_name(conn, customer_id), service.rate, had_own

    name, list_rate, had_own = in_transaction(use_case)
    before = "" if had_own else " (there was no own price to clear)"
    typer.echo(
        f"{name} pays the list price {render_rate(list_rate)} per 1000 "
        f"for service {service_id}{before}"
    )
