"""Payment methods, payments and the gateways' notifications."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from smmpanel.db.base import BigId, Timestamp, metadata

GATEWAYS = ("manual", "ecpay", "stripe", "cryptomus")

PENDING = "pending"
PAID = "paid"
FAILED = "failed"
EXPIRED = "expired"
REVIEW = "review"
PAYMENT_STATUSES = (PENDING, PAID, FAILED, EXPIRED, REVIEW)
# ISO 4217 codes have 3 letters; crypto codes (USDT, MATIC) have more.
CURRENCY_LENGTH = 10

# Amounts are millionths: `amount` and the fees in the method's currency, `credited` and
# `bonus` in the panel's. Percentages are millionths of a percent.
payment_methods = Table(
    "payment_methods",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("name_zh", String(100), nullable=False, server_default=""),
    Column("instructions", Text, nullable=False, server_default=""),
    Column("instructions_zh", Text, nullable=False, server_default=""),
    Column("gateway", String(20), nullable=False),
    Column("currency", String(CURRENCY_LENGTH), nullable=False),
    # Panel currency per one unit of the method's currency.
    Column("rate", BigInteger, nullable=False),
    Column("min_amount", BigInteger, nullable=False),
    Column("max_amount", BigInteger, nullable=False),
    Column("fee_percent", BigInteger, nullable=False, server_default="0"),
    Column("fee_fixed", BigInteger, nullable=False, server_default="0"),
    Column("bonus_percent", BigInteger, nullable=False, server_default="0"),
    Column("bonus_from", BigInteger, nullable=False, server_default="0"),
    # The gateway's credentials and addresses, a JSON object of strings.
    Column("settings", Text, nullable=False, server_default="{}"),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("created_at", Timestamp, nullable=False),
    CheckConstraint("gateway IN ('manual', 'ecpay', 'stripe', 'cryptomus')", name="gateway_known"),
    CheckConstraint("rate > 0 AND min_amount > 0 AND max_amount >= min_amount", name="terms_sane"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False),
    Column("method_id", BigId, ForeignKey("payment_methods.id"), nullable=False),
    # The payment's id at the gateway (for a manual payment, the customer's reference); NULL
    # until the gateway gives one.
    Column("gateway_id", String(100), nullable=True),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(CURRENCY_LENGTH), nullable=False),
    Column("fee", BigInteger, nullable=False),
    Column("credited", BigInteger, nullable=False),
    Column("bonus", BigInteger, nullable=False),
    # The method's terms when the payment started (payments.methods.Terms as JSON): a payment
    # is settled on them, whatever the operator changes later.
    Column("terms", Text, nullable=False),
    Column("status", String(20), nullable=False, server_default=PENDING),
    # Why it waits for review, failed or was rejected.
    Column("note", Text, nullable=False, server_default=""),
    # What the customer needs to pay an ATM account or a store code: JSON object of strings.
    Column("details", Text, nullable=False, server_default="{}"),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Column("settled_at", Timestamp, nullable=True),
    UniqueConstraint("method_id", "gateway_id"),
    CheckConstraint(
        "status IN ('pending', 'paid', 'failed', 'expired', 'review')", name="status_known"
    ),
    CheckConstraint("amount > 0 AND fee >= 0 AND credited >= 0 AND bonus >= 0", name="amounts"),
    Index("ix_payments_customer_id_id", "customer_id", "id"),
    Index("ix_payments_status_expires_at", "status", "expires_at"),
)

# Every notification a gateway sent about a payment, verified or not, as received.
payment_notices = Table(
    "payment_notices",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("payment_id", BigId, ForeignKey("payments.id"), nullable=False, index=True),
    Column("verified", Boolean, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("received_at", Timestamp, nullable=False),
)
