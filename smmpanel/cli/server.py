"""serve, worker and migrate."""

import asyncio
import os
import signal

import typer
import uvicorn
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.cli.common import database, fail, in_transaction, migrate_database
from smmpanel.config import Settings, get_settings
from smmpanel.demo import DemoAccess, create_demo_data, database_is_empty
from smmpanel.errors import DomainError
from smmpanel.http_server import uvicorn_options
from smmpanel.logs import configure_logging
from smmpanel.worker.loop import run_worker


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(worker)
    app.command()(migrate)


def migrate() -> None:
    """Bring the database schema up to date (also done on every start)."""
    migrate_database()
    typer.echo("database is up to date")


def serve(
    host: str = typer.Option(None, help="Address to listen on (default SMMPANEL_HOST, 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default SMMPANEL_PORT, 8000)."),
    demo: bool = typer.Option(
        False, help="On an empty database, create demo services and a customer."
    ),
    no_worker: bool = typer.Option(
        False, "--no-worker", help="Leave background work to `smmpanel worker`."
    ),
    workers: int = typer.Option(
        1, min=1, help="Web processes (the worker runs in none of them if >1)."
    ),
) -> None:
    """Run the API and pages (and, unless --no-worker, the background worker)."""
    settings = checked_settings()
    host, port = host or settings.host, port or settings.port
    migrate_database()
    if demo:
        _prepare_demo(host, port)
    os.environ["SMMPANEL_RUN_WORKER"] = "false" if no_worker or workers > 1 else "true"
    # With one process, uvicorn builds the app here: it must not see the settings read above.
    get_settings.cache_clear()
    if workers > 1 and not no_worker:
        typer.echo("several web processes: start the worker apart with `smmpanel worker`")
    typer.echo(f"serving on http://{host}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(
        "smmpanel.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **uvicorn_options(settings),
    )


def checked_settings() -> Settings:
    """The settings, or their refusal on one line (exit 1) instead of a traceback."""
    try:
        return get_settings()
    except DomainError as refused:
        fail(str(refused))


def _prepare_demo(host: str, port: int) -> None:
    async def seed(conn: AsyncConnection) -> DemoAccess | None:
        return await create_demo_data(conn) if await database_is_empty(conn) else None

    access = in_transaction(seed)
    if access is None:
        typer.echo("demo: the database has data already; sign in with the accounts made earlier")
        return
    typer.echo("demo: created a demo catalogue and the customer 'demo' with 100.00 of funds")
    typer.echo(f"API key: {access.api_key}")
    typer.echo(f"try: curl -d key={access.api_key} -d action=balance http://{host}:{port}/api/v2")
    typer.echo(f"pages: http://{host}:{port}/signin as demo / {access.customer_password}")
    typer.echo(f"admin: http://{host}:{port}/admin/signin as admin / {access.operator_password}")


def worker() -> None:
    """Run only the background worker (for a split deployment)."""
    settings = checked_settings()
    configure_logging(settings.log_level)
    migrate_database()
    asyncio.run(_run_worker_until_signal())


async def _run_worker_until_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    db = database()
    typer.echo("worker running (Ctrl+C to stop)")
    try:
        await run_worker(db, get_settings(), stop)
    finally:
        await db.dispose()
