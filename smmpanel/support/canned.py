"""Canned replies: texts operators keep to answer common questions, in both languages."""

from dataclasses import asdict, dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.base import AnyRow
from smmpanel.errors import N_, refusal
from smmpanel.support.models import CANNED_TITLE_LENGTH, MESSAGE_LENGTH, canned_replies
from smmpanel.support.tickets import bounded_text

NO_SUCH_CANNED_REPLY = refusal("canned_reply_not_found", "There is no canned reply %(id)s.")


@dataclass(frozen=True)
class CannedReply:
    title: str
    body_en: str
    body_zh_tw: str

    def checked(self) -> "CannedReply":
        """The reply trimmed, each part required and within its length, or a refusal."""
        return CannedReply(
            title=bounded_text(self.title, N_("Title"), CANNED_TITLE_LENGTH),
            body_en=bounded_text(self.body_en, N_("Text in English"), MESSAGE_LENGTH),
            body_zh_tw=bounded_text(
                self.body_zh_tw, N_("Text in Traditional Chinese"), MESSAGE_LENGTH
            ),
        )


async def list_canned_replies(conn: AsyncConnection) -> list[AnyRow]:
    query = select(canned_replies).order_by(canned_replies.c.title, canned_replies.c.id)
    return list((await conn.execute(query)).all())


async def canned_reply(conn: AsyncConnection, reply_id: int) -> AnyRow:
    query = select(canned_replies).where(canned_replies.c.id == reply_id)
    found = (await conn.execute(query)).first()
    if found is None:
        raise NO_SUCH_CANNED_REPLY(id=reply_id)
    return found


async def add_canned_reply(conn: AsyncConnection, reply: CannedReply) -> int:
    values = asdict(reply.checked())
    new_id: int = await conn.scalar(
        insert(canned_replies).values(**values).returning(canned_replies.c.id)
    )
    return new_id


async def change_canned_reply(conn: AsyncConnection, reply_id: int, reply: CannedReply) -> None:
    values = asdict(reply.checked())
    await canned_reply(conn, reply_id)
    await conn.execute(
        update(canned_replies).where(canned_replies.c.id == reply_id).values(**values)
    )


async def remove_canned_reply(conn: AsyncConnection, reply_id: int) -> None:
    await canned_reply(conn, reply_id)
    await conn.execute(delete(canned_replies).where(canned_replies.c.id == reply_id))


def body_in(reply: AnyRow, language: str) -> str:
    """The reply's text in the page's language."""
    return str(reply.body_zh_tw if language == "zh_TW" else reply.body_en)
