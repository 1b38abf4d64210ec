"""Queueing a message: called inside the caller's own write transaction, so the message exists
exactly when the change it tells about does. The worker sends it later (outbox.sending)."""

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.config import get_settings
from smmpanel.db.base import utcnow
from smmpanel.db.dialect import insert_or_ignore
from smmpanel.outbox.mails import ALERTS, MAILS, Text, render
from smmpanel.outbox.models import EMAIL, TELEGRAM, outbox
from smmpanel.panel.service import get_settings as get_panel_settings


async def queue_mail(
    conn: AsyncConnection,
    *,
    to: str,
    language: str,
    kind: str,
    context: Mapping[str, str],
    dedup_key: str | None = None,
) -> bool:
    """Store one e-mail, rendered now in `language` ("en" or "zh_TW"), for the worker to send.
    False (nothing stored) when a message with the same dedup_key exists already."""
    panel_name = (await get_panel_settings(conn)).name
    text = _signed(render(MAILS[kind], language, context), panel_name)
    return await _store(
        conn, channel=EMAIL, kind=kind, recipient=to, text=text, dedup_key=dedup_key
    )


async def queue_alert(
    conn: AsyncConnection, *, kind: str, dedup_key: str, context: Mapping[str, str]
) -> bool:
    """One operator alert (Telegram and/or the alert e-mail address), deduplicated by key.

    Rendered in the panel's default language and stored once per way alerts are set up to go
    (SMMPANEL_TELEGRAM_*, SMMPANEL_ALERT_EMAIL); with neither set up nothing is stored. False
    when nothing was stored."""
    settings = get_settings()
    panel = await get_panel_settings(conn)
    text = _signed(render(ALERTS[kind], panel.default_language, context), panel.name)
    key = f"alert:{kind}:{dedup_key}"
    stored = False
    if settings.telegram_configured:
        stored |= await _store(
            conn,
            channel=TELEGRAM,
            kind=kind,
            alert=True,
            recipient=settings.telegram_chat_id,
            text=text,
            dedup_key=f"{key}:{TELEGRAM}",
        )
    if settings.alert_addresses:
        stored |= await _store(
            conn,
            channel=EMAIL,
            kind=kind,
            alert=True,
            recipient=", ".join(settings.alert_addresses),
            text=text,
            dedup_key=f"{key}:{EMAIL}",
        )
    return stored


def panel_url(path: str) -> str:
    """An address on the panel for a message the worker writes, with no request to take the
    host from: absolute under SMMPANEL_PUBLIC_URL, else the path alone."""
    return get_settings().public_url.rstrip("/") + path


def _signed(text: Text, panel_name: str) -> Text:
    # A header holds one line: a subject built from what a customer typed must not add headers.
    subject = " ".join(f"[{panel_name}] {text.subject}".split())
    return Text(subject=subject, body=f"{text.body}\n-- \n{panel_name}\n")


async def _store(
    conn: AsyncConnection,
    *,
    channel: str,
    kind: str,
    recipient: str,
    text: Text,
    dedup_key: str | None,
    alert: bool = False,
) -> bool:
    now = utcnow()
    stored_id = await conn.scalar(
        insert_or_ignore(conn, outbox)
        .values(
            channel=channel,
            kind=kind,
            alert=alert,
            recipient=recipient,
            subject=text.subject,
            body=text.body,
            dedup_key=dedup_key,
            next_attempt_at=now,
            created_at=now,
        )
        .returning(outbox.c.id)
    )
    return stored_id is not None
