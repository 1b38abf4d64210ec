"""The language a customer's e-mails are written in: the one they last chose on the pages
(kept in customers.language), else the panel's default."""

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers
from smmpanel.panel.service import get_settings as get_panel_settings


async def mail_language(conn: AsyncConnection, chosen: str | None) -> str:
    """`chosen` (a customer's customers.language), or the panel's default when they chose none."""
    return chosen or (await get_panel_settings(conn)).default_language


async def chosen_language(conn: AsyncConnection, customer_id: int) -> str | None:
    return await conn.scalar(select(customers.c.language).where(customers.c.id == customer_id))


async def choose_language(conn: AsyncConnection, customer_id: int, language: str) -> None:
    await conn.execute(
        update(customers).where(customers.c.id == customer_id).values(language=language)
    )
