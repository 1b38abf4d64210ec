"""Apply Alembic migrations; called on start and by `smmpanel migrate`."""

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.config import async_database_url
from smmpanel.db.engine import refused_connection
from smmpanel.errors import refusal

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Alembic loads a migration's module anew on every run: the refusals of migrations are defined
# here, once, so that each code is registered a single time.
UPSTREAM_SERVICE_RESOLD = refusal(
    "migration_upstream_service_resold",
    "migration 0004 makes each upstream service resold by one of our services only, but"
    " these are resold more than once: %(listed)s. Nothing was changed. Keep one service of"
    " each; for every other one, clear its provider service id (or point it at another"
    " upstream service) and disable it, e.g. UPDATE services SET provider_service_id = NULL,"
    " enabled = false WHERE id = ..., then start the panel again",
)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", async_database_url(database_url))
    return config


def upgrade(database_url: str) -> None:
    """Bring the schema to the newest revision. Must run outside an event loop."""
    try:
        command.upgrade(alembic_config(database_url), "head")
    except DBAPIError as error:
        refused = refused_connection(error)
        if refused is None:
            raise
        raise refused from error


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision this code's migrations know."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None, "the migrations have one head"
    return head


def is_known_revision(revision: str) -> bool:
    """Whether this code's migrations know the revision (an older one, or the head)."""
    try:
        return ScriptDirectory(str(MIGRATIONS)).get_revision(revision) is not None
    except CommandError:
        return False


def revision_of(conn: Connection) -> str | None:
    """The revision a database is at; None for a database never migrated."""
    return MigrationContext.configure(conn).get_current_revision()


async def database_revision(conn: AsyncConnection) -> str | None:
    return await conn.run_sync(revision_of)
