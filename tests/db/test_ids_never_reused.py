"""Rows the audit log names by id and that operators delete for good (canned replies, content
pages) never hand a deleted row's id to a new one, on SQLite as on PostgreSQL (migration 0025)."""

import asyncio
from pathlib import Path

import harness
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.panel.content import PageText, add_page, remove_page
from smmpanel.support.canned import CannedReply, add_canned_reply, remove_canned_reply

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


async def _reply(conn: AsyncConnection, title: str) -> int:
    return await add_canned_reply(conn, CannedReply(title, "Hello", "您好"))


async def _page(conn: AsyncConnection, slug: str) -> int:
    return await add_page(conn, PageText(slug, "page", "Terms", "", "Be kind.", ""))


async def test_the_newest_row_deleted_leaves_its_id_unused(backend: str, tmp_path: Path):
    async with harness.database_at(backend, tmp_path, "0024") as (config, db):
        async with db.write() as conn:
            kept_reply, kept_page = await _reply(conn, "kept"), await _page(conn, "kept")
        await asyncio.to_thread(command.upgrade, config, "0025")
        async with db.write() as conn:
            assert (await _reply(conn, "gone"), await _page(conn, "gone")) == (
                kept_reply + 1,
                kept_page + 1,
            )
            await remove_canned_reply(conn, kept_reply + 1)
            await remove_page(conn, kept_page + 1)
        async with db.write() as conn:
            assert (await _reply(conn, "new"), await _page(conn, "new")) == (
                kept_reply + 2,
                kept_page + 2,
            )
            titles = await conn.scalars(sa.text("SELECT title FROM canned_replies ORDER BY id"))
            assert list(titles) == ["kept", "new"]
        await asyncio.to_thread(command.downgrade, config, "0024")
        async with db.read() as conn:
            slugs = await conn.scalars(sa.text("SELECT slug FROM content_pages ORDER BY id"))
            assert list(slugs) == ["kept", "new"]
