"""The `smmpanel` command line."""

import typer

from smmpanel.cli import server

app = typer.Typer(
    help="smmpanel: a self-hosted SMM panel. Settings come from SMMPANEL_* variables or .env.",
    no_args_is_help=True,
    add_completion=False,
)
server.register(app)


def main() -> None:
    app()
