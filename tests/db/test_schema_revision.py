"""The revision commands compare a database with, without Alembic, is the migrations' head."""

import pytest

from smmpanel.db.migrate import head_revision
from smmpanel.db.schema_revision import HEAD_REVISION, is_at_head

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


def test_the_kept_head_revision_is_the_newest_migration():
    assert head_revision() == HEAD_REVISION, (
        "a migration was added: set HEAD_REVISION in smmpanel/db/schema_revision.py to its id"
    )


async def test_a_migrated_database_is_at_the_head(db):
    async with db.read() as conn:
        assert await is_at_head(conn)
