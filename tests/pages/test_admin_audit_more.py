"""The audit log of the ticket pages and of an operator's own two-factor sign-in: each change
leaves a row naming the operator, the action and what it changed."""

import re
import uuid

import pyotp
from page_client import PASSWORD, PageClient, operator_account, text_of, unique
from sqlalchemy import select
from test_tickets import opened, reply_as_operator, signed_in_customer
from test_two_factor import SECRET_TEXT, SIGNED_SECRET

from smmpanel.accounts.operator_audit import operator_audit
from smmpanel.accounts.operators import operator_by_name
from smmpanel.support.models import canned_replies

PAGE = "/admin/two-factor"
RECOVERY_CODE = re.compile(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>")


async def audit_rows(db, subject: str) -> list[tuple[str, str]]:
    """(action, detail) of the rows about `subject`, oldest first."""
    async with db.read() as conn:
        rows = await conn.execute(
            select(operator_audit.c.action, operator_audit.c.detail)
            .where(operator_audit.c.subject == subject)
            .order_by(operator_audit.c.id)
        )
        return [(row.action, row.detail) for row in rows]


async def test_ticket_replies_and_canned_reply_changes_leave_audit_rows(panel, db, operator):
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    client, _, _ = await signed_in_customer(panel, db, email=email)
    try:
        ticket_id = await opened(client)
    finally:
        await client.close()
    assert (await reply_as_operator(operator, ticket_id, "On its way.")).status_code == 303
    page = f"/admin/tickets/{ticket_id}"
    await operator.submit(f"{page}/assign", {"to": "me"}, page=page)
    await operator.submit(f"{page}/close", {}, page=page)
    assert await audit_rows(db, f"ticket:{ticket_id}") == [
        ("ticket.reply", "On its way."),
        ("ticket.assign", "to me"),
        ("ticket.close", ""),
    ]

    title = unique("canned")
    fields = {"title": title, "body_en": "Hello", "body_zh_tw": "您好"}
    await operator.submit("/admin/canned-replies", fields, page="/admin/canned-replies")
    async with db.read() as conn:
        reply_id = await conn.scalar(
            select(canned_replies.c.id).where(canned_replies.c.title == title)
        )
    edit = f"/admin/canned-replies/{reply_id}"
    saved = await operator.submit(edit, {**fields, "body_en": "Hi"}, page=edit)
    assert "The canned reply is saved." in text_of(await operator.follow(saved))
    await operator.submit(f"{edit}/delete", {}, page="/admin/canned-replies")
    assert await audit_rows(db, f"canned_reply:{reply_id}") == [
        ("canned_reply.add", title),
        ("canned_reply.edit", title),
        ("canned_reply.remove", ""),
    ]


async def test_an_operators_two_factor_changes_leave_audit_rows(panel, db):
    name = await operator_account(db)
    client = PageClient(panel.url)
    try:
        assert (await client.operator_sign_in(name)).status_code == 303
        set_up = await client.page(PAGE)
        app = pyotp.TOTP(SECRET_TEXT.search(set_up).group(1).replace(" ", ""))
        fields = {"secret": SIGNED_SECRET.search(set_up).group(1), "code": app.now()}
        turned_on = await client.submit(f"{PAGE}/on", fields, page=PAGE)
        codes = RECOVERY_CODE.findall(await client.follow(turned_on))
        assert len(codes) >= 2
        await client.submit(f"{PAGE}/recovery-codes", {"code": codes[0]}, page=PAGE)
        new_codes = RECOVERY_CODE.findall(await client.page(PAGE))
        off = {"password": PASSWORD, "code": new_codes[0]}
        assert (await client.submit(f"{PAGE}/off", off, page=PAGE)).status_code == 303
    finally:
        await client.close()
    async with db.read() as conn:
        operator = await operator_by_name(conn, name)
    assert operator is not None
    actions = [action for action, _ in await audit_rows(db, f"operator:{operator.id}")]
    assert actions == ["two_factor.on", "two_factor.recovery_codes", "two_factor.off"]
