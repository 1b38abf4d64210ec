"""E-mails telling customers that an order of theirs was canceled or delivered in part: to
customers with an address who have not turned them off, once per order and kind."""

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers
from smmpanel.db.dialect import one_of
from smmpanel.orders.models import orders
from smmpanel.orders.statuses import CANCELED, PARTIAL
from smmpanel.outbox.languages import mail_language
from smmpanel.outbox.queue import panel_url, queue_mail

MAIL_KINDS = {CANCELED: "order_canceled", PARTIAL: "order_partial"}


class Ending(NamedTuple):
    order_id: int
    status: str
    remains: int


async def mail_order_endings(conn: AsyncConnection, endings: Sequence[Ending]) -> None:
    """Queue the mail of each order that became Canceled or Partial. Drip-feed runs are left
    out: their order tells the customer when it ends. In the customer's language."""
    told = {ending.order_id: ending for ending in endings if ending.status in MAIL_KINDS}
    if not told:
        return
    readers = await conn.execute(
        select(orders.c.id, customers.c.name, customers.c.email, customers.c.language)
        .join(customers, customers.c.id == orders.c.customer_id)
        .where(
            one_of(conn, orders.c.id, list(told)),
            orders.c.parent_id.is_(None),
            customers.c.email.is_not(None),
            customers.c.email != "",
            customers.c.mail_order_updates,
        )
    )
    for order_id, name, email, chosen in readers:
        ending = told[order_id]
        kind = MAIL_KINDS[ending.status]
        await queue_mail(
            conn,
            to=email,
            language=await mail_language(conn, chosen),
            kind=kind,
            context={
                "name": name,
                "order_id": str(order_id),
                "remains": str(ending.remains),
                "url": panel_url(f"/orders/{order_id}"),
            },
            dedup_key=f"{kind}:{order_id}",
        )
