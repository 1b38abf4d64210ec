"""Apply Alembic migrations; called on start and by `smmpanel migrate`."""

from pathlib import Path

from alembic import command
from alembic.config import Config

from smmpanel.config import async_database_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class MigrationRefused(Exception):
    """A migration that cannot apply to this database's data; the message says what to fix."""


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", async_database_url(database_url))
    return config


def upgrade(database_url: str) -> None:
    """Bring the schema to the newest revision. Must run outside an event loop."""
    command.upgrade(alembic_config(database_url), "head")
