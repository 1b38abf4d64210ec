"""The `smmpanel` command line.

Each command group's module is imported only when that group runs, and imports the domains,
SQLAlchemy and the drivers only inside its commands (see cli/common.py): they cost about half a
second of CPU to import, which `--help` should not pay, nor a quick look-up for the groups it
does not use.
"""

import importlib

import typer
from typer import _click as click
from typer.core import TyperCommand, TyperGroup

# name -> (module under smmpanel.cli, its Typer app or command function, the help listed).
# `smmpanel --help` shows these words without importing the modules.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "serve": ("server", "serve", "Run the API, the pages and (by default) the worker."),
    "worker": ("server", "worker", "Run only the worker: forwarding, polling, syncs."),
    "migrate": ("server", "migrate", "Bring the database schema up to date."),
    "backup": ("backup", "backup", "Copy the SQLite database to FILE while the panel serves."),
    "restore": ("backup", "restore", "Put a backup back as the SQLite database, after checks."),
    "customer": ("accounts", "customer_app", "Create, list, suspend and reactivate customers."),
    "key": ("accounts", "key_app", "Create, list and revoke customers' API keys."),
    "funds": ("accounts", "funds_app", "Add or subtract a customer's funds by hand."),
    "price": ("catalog", "price_app", "Set or clear a customer's own rate for a service."),
    "catalog": (
        "catalog",
        "catalog_app",
        "Export and import the catalogue as JSON; enable, disable or set up a service.",
    ),
    "order": ("orders", "order_app", "List and show orders, and move them through their life."),
    "refill": ("orders", "refill_app", "List refill requests and answer them."),
    "cancel": ("orders", "cancel_app", "List cancel requests and accept or reject them."),
    "provider": (
        "providers",
        "provider_app",
        "Add upstream providers, import and sync their catalogues.",
    ),
    "payment": (
        "payments",
        "payment_app",
        "Payment methods; list, show, approve and reject customers' payments.",
    ),
    "operator": ("operators", "operator_app", "Add, disable and remove operators of the pages."),
    "audit": ("audit", "audit_command", "Check every balance against its ledger."),
    "settings": ("settings", "settings_app", "Show or change panel-wide settings."),
}


class LazyGroup(TyperGroup):
    """The top-level group: lists every command from COMMANDS, imports one when it runs."""

    summaries_only = False  # while its own help is written: each command's words suffice

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        return _summary(cmd_name) if self.summaries_only else _load(cmd_name)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.summaries_only = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self.summaries_only = False


def _summary(name: str) -> click.Command:
    return TyperCommand(name, help=COMMANDS[name][2])


def _load(name: str) -> click.Command:
    module_name, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(f"smmpanel.cli.{module_name}"), attribute)
    wrapper = typer.Typer()
    if isinstance(target, typer.Typer):  # a group, even of a single command (`funds add`)
        wrapper.add_typer(target, name=name, no_args_is_help=True)
    else:
        wrapper.command(name)(target)
    return typer.main.get_group(wrapper).commands[name]


app = typer.Typer(
    cls=LazyGroup,
    help="smmpanel: a self-hosted SMM panel. Settings come from SMMPANEL_* variables or .env.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """smmpanel: a self-hosted SMM panel. Settings come from SMMPANEL_* variables or .env."""


def main() -> None:
    app()
