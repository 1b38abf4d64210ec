"""Copies of a SQLite database file through SQLite's online backup API.

The copy reads one snapshot: the source's read transaction stays open from the first page to
the last, so writers (WAL) go on meanwhile and none of their later commits is half in the copy.
Without it, SQLite would start the copy again each time another process commits.
"""

import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine

from smmpanel.db.engine import SQLITE_BUSY_TIMEOUT_MS
from smmpanel.db.migrate import revision_of

# 4 MB a step with 4 KB pages: progress a few times a second on a disk, not a line per page.
PAGES_PER_STEP = 1024

Progress = Callable[[int, int], None]  # pages copied, pages in all


def copy_database(source: Path, target: Path, progress: Progress) -> None:
    """Copy `source` into `target` (created, or replaced page by page) from one snapshot."""
    reader = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    writer = sqlite3.connect(target, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the snapshot
        reader.backup(
            writer,
            pages=PAGES_PER_STEP,
            progress=lambda _status, remaining, total: progress(total - remaining, total),
        )
        reader.execute("ROLLBACK")
    finally:
        writer.close()
        reader.close()


def integrity_problems(path: Path) -> list[str]:
    """What SQLite's integrity check finds wrong in an existing file; empty when it is sound."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as error:  # not a database at all
        return [str(error)]
    finally:
        connection.close()
    return [] if rows == [("ok",)] else [str(row[0]) for row in rows]


def file_revision(path: Path) -> str | None:
    """The migration revision of an existing SQLite file; None if never migrated."""
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(path))
    try:
        with engine.connect() as conn:
            return revision_of(conn)
    finally:
        engine.dispose()
