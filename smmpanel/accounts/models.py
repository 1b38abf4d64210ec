"""Customers, their API keys and the ledger that is the truth of every balance."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from smmpanel.db.base import BigId, Timestamp, metadata

CUSTOMER_ACTIVE = "active"
CUSTOMER_SUSPENDED = "suspended"
# NFKC can make a name longer than it was typed; a key has room for that.
NAME_KEY_LENGTH = 400
API_KEY_NAME_LENGTH = 100

customers = Table(
    "customers",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    # The name as names are compared (accounts.names.name_key): one customer per key.
    Column("name_key", String(NAME_KEY_LENGTH), nullable=False, unique=True),
    Column("email", String(254), nullable=True),
    Column("status", String(20), nullable=False, server_default=CUSTOMER_ACTIVE),
    Column("balance", BigInteger, nullable=False, server_default="0"),
    Column("password_hash", String(200), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    # When the customer proved the address is theirs; NULL: not (yet) verified.
    Column("email_verified_at", Timestamp, nullable=True),
    # An IANA zone such as Asia/Taipei; NULL: the panel's default.
    Column("time_zone", String(64), nullable=True),
    # Whether an order canceled or partially delivered is told by e-mail.
    Column("mail_order_updates", Boolean, nullable=False, server_default="1"),
    # The language of the customer's e-mails ("en", "zh_TW"); NULL: the panel's default.
    Column("language", String(10), nullable=True),
    # A discount on the list rates in basis points (1250: 12.50 %); a custom price wins over it.
    Column("discount_bp", Integer, nullable=False, server_default="0"),
    CheckConstraint("balance >= 0", name="balance_not_negative"),
    CheckConstraint("status IN ('active', 'suspended')", name="status_known"),
    CheckConstraint("discount_bp >= 0 AND discount_bp < 10000", name="discount_known"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False, index=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(8), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp, nullable=True),
    Column("last_used_at", Timestamp, nullable=True),
    # What the customer called the key, to tell their keys apart: may be empty.
    Column("name", String(API_KEY_NAME_LENGTH), nullable=False, server_default=""),
)

LEDGER_KINDS = ("deposit", "charge", "refund", "adjustment")

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("kind", String(20), nullable=False),
    # What caused the entry: an order's "charge", "refund:partial" or "refund:cancel" (one of
    # each per order), a payment's "payment" and "payment:bonus" (one of each per payment), or
    # "opening" for an opening balance; NULL for an operator's change.
    Column("cause", String(40), nullable=True),
    Column("order_id", BigId, ForeignKey("orders.id"), nullable=True),
    Column("payment_id", BigId, ForeignKey("payments.id"), nullable=True),
    Column("reason", Text, nullable=False, server_default=""),
    Column("created_at", Timestamp, nullable=False, index=True),
    UniqueConstraint("order_id", "cause"),
    UniqueConstraint("payment_id", "cause"),
    CheckConstraint("kind IN ('deposit', 'charge', 'refund', 'adjustment')", name="kind_known"),
    Index("ix_ledger_entries_customer_id_id", "customer_id", "id"),
)

OPERATOR_ACTIVE = "active"
OPERATOR_DISABLED = "disabled"
OPERATOR_REMOVED = "removed"

# What an operator may do on the admin pages (admin/roles.py says which page takes which role).
OPERATOR_OWNER = "owner"
OPERATOR_ROLES = (OPERATOR_OWNER, "admin", "support", "finance")

# A removed operator stays, for what refers to it, with no key: its name is free again.
operators = Table(
    "operators",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("name_key", String(NAME_KEY_LENGTH), nullable=True, unique=True),
    Column("status", String(20), nullable=False, server_default=OPERATOR_ACTIVE),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("role", String(20), nullable=False, server_default=OPERATOR_OWNER),
    # An IANA zone such as Asia/Taipei; NULL: the panel's default.
    Column("time_zone", String(64), nullable=True),
    CheckConstraint("status IN ('active', 'disabled', 'removed')", name="status_known"),
    CheckConstraint("role IN ('owner', 'admin', 'support', 'finance')", name="role_known"),
)

# A signed-in browser: the cookie holds a random token, the table only its SHA-256 digest.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=True, index=True),
    Column("operator_id", BigId, ForeignKey("operators.id"), nullable=True, index=True),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    CheckConstraint("(customer_id IS NULL) <> (operator_id IS NULL)", name="one_kind_of_account"),
)

# Failed sign-ins, counted per name and per address to throttle guessing.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(254), nullable=False, index=True),
    Column("address", String(64), nullable=False, index=True),
    Column("created_at", Timestamp, nullable=False, index=True),
)

# Sign-ups, counted per address to limit how many accounts one address makes.
sign_ups = Table(
    "sign_ups",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("address", String(64), nullable=False, index=True),
    Column("created_at", Timestamp, nullable=False, index=True),
)
