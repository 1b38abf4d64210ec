"""E-mail from the outbox through a real SMTP server (aiosmtpd on loopback): delivered once,
in the recipient's language; retried with growing waits while the server is down or refuses;
never sent twice by two workers at once."""

import asyncio
from datetime import datetime, timedelta

import pytest
from conftest import SmtpServer
from sqlalchemy import select

from smmpanel.config import Settings
from smmpanel.db import Database
from smmpanel.db.base import as_utc, utcnow
from smmpanel.outbox.channels import configured_senders
from smmpanel.outbox.models import FAILED, PENDING, SENT, outbox
from smmpanel.outbox.queue import queue_mail
from smmpanel.outbox.sending import RetryPolicy, send_due

POLICY = RetryPolicy(max_attempts=3, first_wait=timedelta(seconds=30), alerts_per_minute=20)
RESET = {"name": "amy", "url": "https://panel.example/password/reset/abc"}


def mail_settings(server: SmtpServer) -> Settings:
    return Settings(smtp_url=server.url, mail_from="Panel <panel@panel.example>")


async def queue_reset(db: Database, to: str, language: str = "en", **more: str) -> bool:
    async with db.write() as conn:
        return await queue_mail(
            conn, to=to, language=language, kind="password_reset", context=RESET, **more
        )


async def rows(db: Database) -> list:
    async with db.read() as conn:
        return list(await conn.execute(select(outbox).order_by(outbox.c.id)))


async def send(db: Database, server: SmtpServer, at: datetime | None = None) -> int:
    senders = configured_senders(mail_settings(server))
    return await send_due(db, senders, POLICY, clock=(lambda: at) if at else utcnow)


async def test_a_mail_is_delivered_once_in_the_recipients_language(
    outbox_db: Database, smtp_server: SmtpServer
) -> None:
    smtp_server.start()
    await queue_reset(outbox_db, "amy@example.com", "en")
    await queue_reset(outbox_db, "bo@example.com", "zh_TW")

    assert await send(outbox_db, smtp_server) == 2
    assert await send(outbox_db, smtp_server) == 0

    english, chinese = sorted(smtp_server.catcher.messages, key=lambda mail: mail["To"])
    assert english["To"] == "amy@example.com"
    assert english["From"] == "Panel <panel@panel.example>"
    assert english["Message-ID"].endswith("@panel.example>")
    assert english["Subject"].endswith("Reset your password")
    assert "Hello amy," in english.get_content()
    assert RESET["url"] in english.get_content()
    assert chinese["Subject"].endswith("重設您的密碼")
    assert "amy 您好：" in chinese.get_content()
    assert RESET["url"] in chinese.get_content()
    # The reset link was the customer's alone: not kept once sent.
    assert [(row.status, row.attempts, row.body) for row in await rows(outbox_db)] == [
        (SENT, 1, "")
    ] * 2


async def test_an_unreachable_server_is_tried_again_later_then_delivered(
    outbox_db: Database, smtp_server: SmtpServer
) -> None:
    await queue_reset(outbox_db, "cy@example.com")
    first = utcnow()

    assert await send(outbox_db, smtp_server, first) == 1
    (row,) = await rows(outbox_db)
    assert (row.status, row.attempts) == (PENDING, 1)
    assert "not reached" in row.last_error
    assert as_utc(row.next_attempt_at) == first + POLICY.first_wait

    smtp_server.start()
    assert await send(outbox_db, smtp_server, first + timedelta(seconds=29)) == 0
    assert await send(outbox_db, smtp_server, first + POLICY.first_wait) == 1
    (row,) = await rows(outbox_db)
    assert (row.status, row.attempts, row.last_error) == (SENT, 2, "")
    assert [mail["To"] for mail in smtp_server.catcher.messages] == ["cy@example.com"]


async def test_a_refusing_server_is_tried_with_doubling_waits_then_given_up(
    outbox_db: Database, smtp_server: SmtpServer
) -> None:
    smtp_server.catcher.refusal = "554 5.7.1 Message refused"
    smtp_server.start()
    await queue_reset(outbox_db, "di@example.com")
    now = utcnow()
    waits = []
    for _ in range(POLICY.max_attempts):
        assert await send(outbox_db, smtp_server, now) == 1
        (row,) = await rows(outbox_db)
        waits.append(as_utc(row.next_attempt_at) - now)
        now = as_utc(row.next_attempt_at)

    (row,) = await rows(outbox_db)
    assert (row.status, row.attempts) == (FAILED, POLICY.max_attempts)
    assert "554" in row.last_error and "Message refused" in row.last_error
    assert waits[:2] == [POLICY.first_wait, POLICY.first_wait * 2]
    assert await send(outbox_db, smtp_server, now + timedelta(days=1)) == 0
    assert smtp_server.catcher.messages == []


async def test_two_workers_never_send_one_message_twice(
    outbox_db: Database, second_worker_db: Database, smtp_server: SmtpServer
) -> None:
    smtp_server.start()
    addresses = [f"reader{number}@example.com" for number in range(25)]
    for address in addresses:
        await queue_reset(outbox_db, address)

    async def drain(db: Database) -> int:
        tried = 0
        while done := await send(db, smtp_server):
            tried += done
        return tried

    tried = await asyncio.gather(drain(outbox_db), drain(second_worker_db))

    assert sum(tried) == len(addresses)
    assert sorted(mail["To"] for mail in smtp_server.catcher.messages) == sorted(addresses)
    assert {(row.status, row.attempts) for row in await rows(outbox_db)} == {(SENT, 1)}


async def test_a_dedup_key_stores_one_message(outbox_db: Database) -> None:
    assert await queue_reset(outbox_db, "ed@example.com", dedup_key="reset:7")
    assert not await queue_reset(outbox_db, "ed@example.com", dedup_key="reset:7")
    assert await queue_reset(outbox_db, "ed@example.com")
    assert await queue_reset(outbox_db, "ed@example.com")
    assert [row.dedup_key for row in await rows(outbox_db)] == ["reset:7", None, None]


async def test_without_smtp_mails_wait_pending(outbox_db: Database) -> None:
    await queue_reset(outbox_db, "fay@example.com")
    senders = configured_senders(Settings(smtp_url=""))
    assert await send_due(outbox_db, senders, POLICY) == 0
    (row,) = await rows(outbox_db)
    assert (row.status, row.attempts, row.last_error) == (PENDING, 0, "")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://mail.example", "not an SMTP URL"),
        ("smtp://", "names no host"),
        ("smtp://mail.example:99999", "port"),
        ("smtp://mail.example?tls=yes", "unknown SMTP URL options: tls"),
        ("smtps://mail.example?starttls=true", "smtps:// is TLS already"),
        ("smtp://mail.example?starttls=maybe", "starttls must be true or false"),
    ],
)
def test_a_bad_smtp_url_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, url: str, problem: str
) -> None:
    from smmpanel.config import get_settings
    from smmpanel.errors import Refusal

    monkeypatch.setenv("SMMPANEL_SMTP_URL", url)
    monkeypatch.setenv("SMMPANEL_MAIL_FROM", "panel@panel.example")
    get_settings.cache_clear()
    try:
        with pytest.raises(Refusal) as refused:
            get_settings()
    finally:
        get_settings.cache_clear()
    assert "SMMPANEL_SMTP_URL" in str(refused.value)
    assert problem in str(refused.value)


def test_an_smtp_url_is_read() -> None:
    settings = Settings(
        smtp_url="smtp://me%40x.example:p%3Ass@mail.example:2525?starttls=true",
        mail_from="panel@panel.example",
    )
    server = settings.smtp
    assert server is not None
    assert (server.host, server.port, server.username, server.password) == (
        "mail.example",
        2525,
        "me@x.example",
        "p:ss",
    )
    assert (server.use_tls, server.start_tls) == (False, True)
    implicit = Settings(smtp_url="smtps://mail.example", mail_from="a@b.example").smtp
    assert implicit is not None and (implicit.port, implicit.use_tls) == (465, True)


def test_smtp_without_a_from_address_is_refused() -> None:
    with pytest.raises(ValueError, match="SMMPANEL_MAIL_FROM"):
        Settings(smtp_url="smtp://mail.example", mail_from="")
