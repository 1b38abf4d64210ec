"""backup and restore: a SQLite database copied while the panel serves, and put back.

PostgreSQL has its own tools (pg_dump, pg_restore); both commands say how to use them there.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from smmpanel.cli.common import fail

if TYPE_CHECKING:
    from smmpanel.db.sqlite_copy import Progress

PG_DUMP = "pg_dump --format=custom --file={file} '{url}'"
PG_RESTORE = "pg_restore --clean --if-exists --no-owner --dbname='{url}' {file}"


def backup(
    file_name: str = typer.Argument(..., metavar="FILE", help="The new file to write the copy to."),
) -> None:
    """Copy the SQLite database to FILE, consistent while the panel serves."""
    from smmpanel.db.sqlite_copy import copy_database, file_revision, integrity_problems

    file = Path(file_name)
    source = _sqlite_file(PG_DUMP, file, "take a dump while the panel serves")
    if not source.is_file():
        fail(f"there is no database at {source}: check SMMPANEL_DATABASE_URL")
    if file.exists():
        fail(f"{file} exists already: choose a new file name, or remove it first")
    _check_folder(file)
    partial = file.with_name(file.name + ".partial")
    partial.unlink(missing_ok=True)
    copy_database(source, partial, _progress("backup"))
    problems = integrity_problems(partial)
    if problems:
        partial.unlink()
        fail(f"the copy fails SQLite's integrity check ({problems[0]}): is {source} damaged?")
    partial.replace(file)
    typer.echo(f"backup written to {file} (revision {file_revision(file)})")
    typer.echo(f"restore it with: smmpanel restore {file}")


def restore(
    file_name: str = typer.Argument(
        ..., metavar="FILE", help="A backup made by `smmpanel backup`."
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace the existing database (stop every panel process first)."
    ),
) -> None:
    """Put a backup back as the SQLite database, after checking it."""
    from smmpanel.db.migrate import head_revision
    from smmpanel.db.sqlite_copy import copy_database

    file = Path(file_name)
    target = _sqlite_file(PG_RESTORE, file, "stop the panel, then restore the dump")
    revision = _checked_backup(file)
    _check_folder(target)
    if target.exists() and not force:
        fail(
            f"the database {target} exists: stop every panel process and worker, then run"
            " again with --force to replace it"
        )
    copy_database(file, target, _progress("restore"))
    typer.echo(f"restored {file} to {target} (revision {revision})")
    if revision != head_revision():
        typer.echo(f"the next start migrates it to {head_revision()} (or run: smmpanel migrate)")


def _checked_backup(file: Path) -> str:
    """The backup's revision, once it is known sound and from this code's migrations."""
    from smmpanel.db.migrate import is_known_revision
    from smmpanel.db.sqlite_copy import file_revision, integrity_problems

    if not file.is_file():
        fail(f"there is no backup at {file}")
    problems = integrity_problems(file)
    if problems:
        fail(f"{file} fails SQLite's integrity check: {problems[0]}")
    revision = file_revision(file)
    if revision is None:
        fail(f"{file} is not a panel database: it has no migration revision")
    if not is_known_revision(revision):
        fail(
            f"{file} is at revision {revision}, newer than this smmpanel: restore it with that one"
        )
    return revision


def _check_folder(path: Path) -> None:
    if not path.parent.is_dir():
        fail(f"there is no folder {path.parent} to write {path.name} in")


def _sqlite_file(postgres_command: str, file: Path, what_to_do: str) -> Path:
    """The SQLite database's file; on PostgreSQL, a refusal naming the command to use."""
    from sqlalchemy import make_url

    from smmpanel.config import get_settings

    url = make_url(get_settings().database_url)
    if url.get_backend_name() != "sqlite":
        plain = url.set(drivername="postgresql", password=None).render_as_string()
        command = postgres_command.format(file=file, url=plain)
        fail(
            f"this panel uses PostgreSQL, whose own tools do this: {what_to_do} with"
            f" `{command}` (docs/deploy.md, Backups)"
        )
    return Path(url.database or "")


def _progress(work: str) -> Progress:
    """Prints each tenth done, for copies of more than one step."""
    shown = {"tenths": 0}

    def report(done: int, total: int) -> None:
        tenths = done * 10 // total if total else 10
        if tenths > shown["tenths"] and done < total:
            shown["tenths"] = tenths
            typer.echo(f"{work}: {tenths * 10}% ({done} of {total} pages)", err=True)

    return report
