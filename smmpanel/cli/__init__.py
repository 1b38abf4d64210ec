"""The `smmpanel` command line."""

import typer

from smmpanel.cli import accounts, catalog, operators, orders, providers, server, settings
from smmpanel.cli.audit import audit_command

app = typer.Typer(
    help="smmpanel: a self-hosted SMM panel. Settings come from SMMPANEL_* variables or .env.",
    no_args_is_help=True,
    add_completion=False,
)
server.register(app)
app.add_typer(accounts.customer_app, name="customer", no_args_is_help=True)
app.add_typer(accounts.key_app, name="key", no_args_is_help=True)
app.add_typer(accounts.funds_app, name="funds", no_args_is_help=True)
app.add_typer(catalog.price_app, name="price", no_args_is_help=True)
app.add_typer(catalog.catalog_app, name="catalog", no_args_is_help=True)
app.add_typer(orders.order_app, name="order", no_args_is_help=True)
app.add_typer(orders.refill_app, name="refill", no_args_is_help=True)
app.add_typer(orders.cancel_app, name="cancel", no_args_is_help=True)
app.add_typer(providers.provider_app, name="provider", no_args_is_help=True)
app.add_typer(operators.operator_app, name="operator", no_args_is_help=True)
app.command("audit")(audit_command)
app.add_typer(settings.settings_app, name="settings", no_args_is_help=True)


def main() -> None:
    app()
