"""Apply Alembic migrations; called on start and by `smmpanel migrate`."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from smmpanel.config import async_database_url
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
    command.upgrade(alembic_config(database_url), "head")
