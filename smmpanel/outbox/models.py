"""The outbox: each message waits here until the worker has sent it."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from smmpanel.db.base import BigId, Timestamp, metadata

EMAIL = "email"
TELEGRAM = "telegram"
CHANNELS = (EMAIL, TELEGRAM)

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
STATUSES = (PENDING, SENT, FAILED)

DEDUP_KEY_LENGTH = 200
RECIPIENT_LENGTH = 1000

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("channel", String(20), nullable=False),
    # What it tells: a mail kind (password_reset...) or an alert kind (order_doubt...).
    Column("kind", String(40), nullable=False),
    # An operator alert: sent at most alerts_per_minute a minute.
    Column("alert", Boolean, nullable=False, server_default="0"),
    # An e-mail address (several, comma-separated, for an alert) or a Telegram chat id.
    Column("recipient", String(RECIPIENT_LENGTH), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    # One message per key: a second one queued for the same event is not stored. NULL: no key.
    Column("dedup_key", String(DEDUP_KEY_LENGTH), nullable=True, unique=True),
    Column("status", String(20), nullable=False, server_default=PENDING),
    Column("attempts", Integer, nullable=False, server_default="0"),
    # When the worker may try it next; a worker that claims it moves this forward (its lease).
    Column("next_attempt_at", Timestamp, nullable=False),
    # When a worker last took it to send; the alerts' rate is counted from these.
    Column("attempted_at", Timestamp, nullable=True),
    Column("last_error", Text, nullable=False, server_default=""),
    Column("created_at", Timestamp, nullable=False),
    Column("sent_at", Timestamp, nullable=True),
    CheckConstraint("channel IN ('email', 'telegram')", name="channel_known"),
    CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status_known"),
    # The worker's question: which pending messages are due.
    Index("ix_outbox_due", "status", "next_attempt_at"),
    # The operator's page: newest first, by status or not.
    Index("ix_outbox_status_id", "status", "id"),
    Index("ix_outbox_alert_attempted_at", "alert", "attempted_at"),
)
