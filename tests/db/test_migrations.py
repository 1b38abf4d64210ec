"""The migrations build exactly the schema the code declares, on both databases."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from smmpanel.db.models import metadata

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


async def test_migrated_schema_matches_the_models(db):
    async with db.read() as conn:
        differences = await conn.run_sync(
            lambda sync_conn: compare_metadata(MigrationContext.configure(sync_conn), metadata)
        )
    assert differences == []
