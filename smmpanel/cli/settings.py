"""settings: the panel's name, currency and what customers read about paying."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import typer

from smmpanel.cli.common import fail, in_transaction, read_only

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from smmpanel.panel.service import PanelSettings

settings_app = typer.Typer(help="Show or change panel-wide settings.")


@settings_app.command("show")
def show() -> None:
    """Print every setting."""
    from smmpanel.panel.service import get_settings

    _print(read_only(get_settings))


@settings_app.command("set")
def set_(
    name: str = typer.Option(None, help="The panel's name, shown on its pages."),
    currency: str = typer.Option(None, help="Three-letter code, e.g. USD or TWD."),
    payment_instructions: str = typer.Option(None, help="How customers add funds."),
    default_language: str = typer.Option(None, help="Language code of the pages, e.g. en."),
) -> None:
    """Change the settings given; the others stay as they are."""
    from smmpanel.panel.service import EDITABLE, change_settings, get_settings

    values = {
        "name": name,
        "currency": currency.upper() if currency else currency,
        "payment_instructions": payment_instructions,
        "default_language": default_language,
    }
    values = {key: value for key, value in values.items() if value is not None}
    if not values:
        fail("nothing to change: give at least one of " + ", ".join(_options(EDITABLE)))

    async def use_case(conn: AsyncConnection) -> PanelSettings:
        await change_settings(conn, **values)
        return await get_settings(conn)

    _print(in_transaction(use_case))


def _options(keys: Iterable[str]) -> list[str]:
    return ["--" + key.replace("_", "-") for key in keys]


def _print(settings: PanelSettings) -> None:
    from smmpanel.panel.service import EDITABLE, LABELS

    for key in EDITABLE:
        typer.echo(f"{LABELS[key]}: {getattr(settings, key)}")
