"""Starting `smmpanel`: the top-level help lists every command without importing their groups;
a command's help imports neither SQLAlchemy nor Alembic, and a quick command on an up-to-date
database runs no migration."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import harness
import pytest
from cli_runner import Cli

from smmpanel.cli import COMMANDS

IMPORTED_AFTER = """
import sys
from smmpanel.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exit:
    print(exit.code or 0)
wanted = ("smmpanel.cli.", "sqlalchemy", "alembic", "pydantic_settings", "asyncpg")
print(" ".join(sorted(name for name in sys.modules if name.startswith(wanted))))
"""

# What a command imports only for the database: its help needs none of it.
DATABASE_LIBRARIES = ("sqlalchemy", "alembic", "pydantic_settings")

GROUP_HELPS = [(name, "--help") for name, (module, _, _) in COMMANDS.items() if module != "server"]
COMMAND_HELPS = [
    ("customer", "list", "--help"),
    ("order", "update", "--help"),
    ("provider", "import", "--help"),
    ("catalog", "export", "--help"),
    ("settings", "show", "--help"),
]


@dataclass(frozen=True)
class Run:
    code: int
    modules: set[str]  # the command groups and the database libraries imported

    def named(self, *prefixes: str) -> set[str]:
        return {name for name in self.modules if name.startswith(prefixes)}


def imported_after(*args: str, database_url: str = "", cwd: Path | None = None) -> Run:
    """What `smmpanel ARGS` imported, and its exit code."""
    environment = {**os.environ, "SMMPANEL_LOG_LEVEL": "WARNING"}
    if database_url:
        environment["SMMPANEL_DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-c", IMPORTED_AFTER, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=environment,
        cwd=cwd,
    )
    *_, code, modules = done.stdout.splitlines()
    return Run(int(code), set(modules.split()))


def test_the_top_level_help_lists_every_command_and_imports_none_of_them():
    run = imported_after("--help")
    assert not run.named("smmpanel.cli."), run.modules
    assert not run.named(*DATABASE_LIBRARIES), run.modules


def test_a_group_runs_importing_its_own_module_only():
    run = imported_after("settings", "--help")
    assert run.named("smmpanel.cli.") <= {
        "smmpanel.cli.settings",
        "smmpanel.cli.common",
        "smmpanel.cli.tables",
    }


@pytest.mark.parametrize("args", GROUP_HELPS + COMMAND_HELPS, ids=" ".join)
def test_a_commands_help_imports_no_database_library(args):
    run = imported_after(*args)
    assert run.code == 0
    assert not run.named(*DATABASE_LIBRARIES), run.modules


@pytest.mark.parametrize("args", [("settings", "show"), ("customer", "list")], ids=" ".join)
def test_a_quick_command_on_an_up_to_date_database_runs_no_migration(database_url, cli_home, args):
    run = imported_after(*args, database_url=database_url, cwd=cli_home)
    assert run.code == 0
    assert not run.named("alembic"), run.modules


def test_a_command_on_sqlite_loads_nothing_of_postgresql(backend, database_url, cli_home):
    if backend != "sqlite":
        pytest.skip("the PostgreSQL driver is what a command on PostgreSQL uses")
    run = imported_after("customer", "list", database_url=database_url, cwd=cli_home)
    assert run.code == 0
    assert not run.named("asyncpg", "sqlalchemy.dialects.postgresql"), run.modules


async def test_a_command_on_a_database_behind_migrates_it_first(backend, tmp_path, cli_home):
    url = await harness.new_database_url(backend, tmp_path)
    try:
        first = imported_after("customer", "list", database_url=url, cwd=cli_home)
        again = imported_after("customer", "list", database_url=url, cwd=cli_home)
    finally:
        if backend == "postgresql":
            await harness.drop_postgres_database(url)
    assert (first.code, again.code) == (0, 0)
    assert first.named("alembic")
    assert not again.named("alembic"), "the migration left the database at the newest revision"


@pytest.mark.parametrize(
    "url", ["postgresql://postgres@127.0.0.1:no-port/x", "sqlite:////no/such/folder/panel.db"]
)
def test_an_unusable_database_url_is_told_plainly(url, cli_home):
    error = Cli(url, cli_home).refused("customer", "list")
    assert "check SMMPANEL_DATABASE_URL" in error, error


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_listed_command_has_its_help(name):
    listed = subprocess.run(
        [sys.executable, "-m", "smmpanel", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    assert f" {name} " in listed
    done = subprocess.run(
        [sys.executable, "-m", "smmpanel", name, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"smmpanel {name} [OPTIONS]" in " ".join(done.stdout.split())
