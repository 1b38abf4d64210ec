"""The operator's outbox page on the shared panel: newest messages first, filtered by status,
a bad filter answered on the page; and the dashboard saying that e-mail is not set up."""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from pages.page_client import PageClient, operator_account, text_of
from sqlalchemy import insert

from smmpanel.db import Database
from smmpanel.db.base import utcnow
from smmpanel.outbox.models import FAILED, PENDING, SENT, outbox


@pytest_asyncio.fixture
async def operator(panel, db) -> AsyncIterator[PageClient]:
    client = PageClient(panel.url)
    assert (await client.operator_sign_in(await operator_account(db))).status_code == 303
    yield client
    await client.close()


async def add_message(db: Database, status: str, subject: str, error: str = "") -> int:
    now = utcnow()
    async with db.write() as conn:
        return await conn.scalar(
            insert(outbox)
            .values(
                channel="email",
                kind="password_reset",
                recipient="kim@example.com",
                subject=subject,
                body="the secret link https://panel.example/password/reset/SECRET",
                status=status,
                attempts=3 if status == FAILED else 1,
                next_attempt_at=now + timedelta(minutes=1),
                last_error=error,
                created_at=now,
                sent_at=now if status == SENT else None,
            )
            .returning(outbox.c.id)
        )


async def test_the_outbox_page_lists_and_filters_the_messages(
    operator: PageClient, db: Database
) -> None:
    tag = uuid.uuid4().hex[:8]
    failed = await add_message(db, FAILED, f"Failed mail {tag}", "SMTP: 554 refused")
    sent = await add_message(db, SENT, f"Sent mail {tag}")
    waiting = await add_message(db, PENDING, f"Waiting mail {tag}")

    every = await operator.page("/admin/outbox")
    assert every.index(f"message-{waiting}") < every.index(f"message-{sent}")
    assert every.index(f"message-{sent}") < every.index(f"message-{failed}")
    assert "SECRET" not in every

    only_failed = await operator.page("/admin/outbox", status="failed")
    assert f"Failed mail {tag}" in only_failed and "SMTP: 554 refused" in only_failed
    assert f"Sent mail {tag}" not in only_failed and f"Waiting mail {tag}" not in only_failed

    older = await operator.page("/admin/outbox", before=sent)
    assert f"Failed mail {tag}" in older and f"Sent mail {tag}" not in older

    refused = await operator.get("/admin/outbox", status="lost")
    assert refused.status_code == 400
    assert "Choose a message status from the list." in text_of(refused.text)


async def test_the_dashboard_says_when_email_is_not_set_up(operator: PageClient) -> None:
    dashboard = text_of(await operator.page("/admin"))
    assert "E-mail is not set up: customers get no password reset mails" in dashboard
    assert "Outbox" in text_of(await operator.page("/admin/outbox"))
