"""settings: the panel's name, currency, exchange rates and what customers read about paying."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated

import typer

from smmpanel.cli.common import fail, in_transaction, read_only

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from smmpanel.panel.service import PanelSettings

    Shown = tuple[PanelSettings, dict[str, int]]

settings_app = typer.Typer(help="Show or change panel-wide settings.")
RATE_HELP = (
    "An exchange rate, CODE=RATE: what one CODE is worth in the panel's currency, e.g. USD=31.5"
    " in a TWD panel; repeat for more. Set after the currency."
)


@settings_app.command("show")
def show() -> None:
    """Print every setting, and the exchange rates."""
    _print(read_only(_shown))


async def _shown(conn: AsyncConnection) -> Shown:
    from smmpanel.panel.rates import rates
    from smmpanel.panel.service import get_settings

    return await get_settings(conn), await rates(conn)


@settings_app.command("set")
def set_(
    name: str = typer.Option(None, help="The panel's name, shown on its pages."),
    currency: str = typer.Option(
        None,
        help="ISO 4217 code, e.g. USD or TWD; only while no money exists."
        " Removes the exchange rates, which are in the old currency.",
    ),
    payment_instructions: str = typer.Option(None, help="How customers add funds."),
    default_language: str = typer.Option(None, help="Language code of the pages, e.g. en."),
    rate: Annotated[
        list[str] | None, typer.Option("--rate", metavar="CODE=RATE", help=RATE_HELP)
    ] = None,
) -> None:
    """Change the settings given; the others stay as they are."""
    from smmpanel.panel.rates import read_pair, set_rate
    from smmpanel.panel.service import EDITABLE, change_settings

    values = {
        "name": name,
        "currency": currency.upper() if currency else currency,
        "payment_instructions": payment_instructions,
        "default_language": default_language,
    }
    values = {key: value for key, value in values.items() if value is not None}
    if not values and not rate:
        fail("nothing to change: give at least one of " + ", ".join(_options((*EDITABLE, "rate"))))

    async def use_case(conn: AsyncConnection) -> Shown:
        if values:
            await change_settings(conn, **values)
        for code, micros in map(read_pair, rate or ()):
            await set_rate(conn, code, micros)
        return await _shown(conn)

    _print(in_transaction(use_case))


def _options(keys: Iterable[str]) -> list[str]:
    return ["--" + key.replace("_", "-") for key in keys]


def _print(shown: Shown) -> None:
    from smmpanel.money import render_rate
    from smmpanel.panel.service import EDITABLE, LABELS

    settings, rates = shown
    for key in EDITABLE:
        typer.echo(f"{LABELS[key]}: {getattr(settings, key)}")
    for code, micros in rates.items():
        typer.echo(f"exchange rate: 1 {code} = {render_rate(micros)} {settings.currency}")
