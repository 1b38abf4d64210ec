"""Links a customer is sent by e-mail: a password reset, and the proof that an address is theirs.

A link carries a random token; the table keeps only its SHA-256 digest. Each token serves once,
for one purpose, until it expires. Using one closes the customer's other open tokens of the same
purpose, so an older link never outlives a newer one; a new password or a new address closes
every open reset link too (they went to the old address, or for the old password).

Asking for reset links is throttled twice: per client address (every request counts, whether an
account matched or not) and per account (links sent per hour), so neither a guesser nor someone
who knows a customer's name can flood a mailbox. The per-account limit is silent: the page's
answer must not tell whether the account exists.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import CUSTOMER_ACTIVE, customers
from smmpanel.accounts.names import name_key
from smmpanel.db.base import BigId, Timestamp, metadata, utcnow
from smmpanel.db.dialect import locked

PASSWORD_RESET = "password_reset"
VERIFY_EMAIL = "verify_email"
LIFETIMES = {PASSWORD_RESET: timedelta(hours=1), VERIFY_EMAIL: timedelta(hours=24)}
LINKS_PER_ACCOUNT_PER_HOUR = 3
REQUESTS_PER_ADDRESS_PER_HOUR = 20
REQUEST_WINDOW = timedelta(hours=1)
# An address shared by many customers gets links for a few of them, not a flood.
MAX_ACCOUNTS_PER_REQUEST = 5

account_tokens = Table(
    "account_tokens",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False),
    Column("purpose", String(20), nullable=False),
    # verify_email: the address the link proves; the customer's address becomes it when used.
    Column("email", String(254), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    # When the link was used, or closed unused by a newer link or a new password.
    Column("used_at", Timestamp, nullable=True),
    CheckConstraint("purpose IN ('password_reset', 'verify_email')", name="purpose_known"),
    Index(
        "ix_account_tokens_customer_id_purpose_created_at", "customer_id", "purpose", "created_at"
    ),
)

# Requests for reset links, counted per client address.
recovery_requests = Table(
    "recovery_requests",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("address", String(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Index("ix_recovery_requests_address_created_at", "address", "created_at"),
)


@dataclass(frozen=True)
class Recipient:
    """A customer a link may be sent to."""

    id: int
    name: str
    email: str


@dataclass(frozen=True)
class OpenToken:
    """A token that may still be used: whose, and for which address (verify_email)."""

    customer_id: int
    name: str
    email: str | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _address(address: str) -> str:
    return address[:64]  # as long as recovery_requests.address


async def record_request(conn: AsyncConnection, address: str) -> int:
    """Count a request for reset links before it is judged (committed first, as in
    pagekit.throttle, so requests arriving together all count); its id."""
    now = utcnow()
    await conn.execute(
        delete(recovery_requests).where(recovery_requests.c.created_at <= now - REQUEST_WINDOW)
    )
    inserted = insert(recovery_requests).values(address=_address(address), created_at=now)
    return await conn.scalar(inserted.returning(recovery_requests.c.id))


async def too_many_requests(conn: AsyncConnection, address: str) -> bool:
    """Whether a recorded (and committed) request is past the address's allowance."""
    recent = select(func.count()).where(
        recovery_requests.c.address == _address(address),
        recovery_requests.c.created_at > utcnow() - REQUEST_WINDOW,
    )
    return (await conn.execute(recent)).scalar_one() > REQUESTS_PER_ADDRESS_PER_HOUR


async def drop_request(conn: AsyncConnection, request_id: int) -> None:
    """A refused request does not count, so waiting out the hour works."""
    await conn.execute(delete(recovery_requests).where(recovery_requests.c.id == request_id))


async def recipients(conn: AsyncConnection, name_or_email: str) -> list[Recipient]:
    """The active customers with an e-mail address whom `name_or_email` names: by name (as
    names are compared) or by address (in any case)."""
    given = name_or_email.strip()
    if not given:
        return []
    query = (
        select(customers.c.id, customers.c.name, customers.c.email)
        .where(
            or_(
                customers.c.name_key == name_key(given),
                func.lower(customers.c.email) == given.lower(),
            ),
            customers.c.status == CUSTOMER_ACTIVE,
            customers.c.email.is_not(None),
        )
        .order_by(customers.c.id)
        .limit(MAX_ACCOUNTS_PER_REQUEST)
    )
    return [Recipient(*row) for row in (await conn.execute(query)).all()]


async def issue_token(
    conn: AsyncConnection,
    customer_id: int,
    purpose: str,
    email: str | None = None,
    now: datetime | None = None,
) -> str | None:
    """A new token of `purpose` for the customer, returned this once; None when the account has
    had its links for this hour. The customer's row is locked first, so links asked for at
    the same time are counted one after the other."""
    now = now or utcnow()
    await conn.execute(locked(conn, select(customers.c.id).where(customers.c.id == customer_id)))
    sent = select(func.count()).where(
        account_tokens.c.customer_id == customer_id,
        account_tokens.c.purpose == purpose,
        account_tokens.c.created_at > now - REQUEST_WINDOW,
    )
    if (await conn.execute(sent)).scalar_one() >= LINKS_PER_ACCOUNT_PER_HOUR:
        return None
    token = secrets.token_urlsafe(32)
    await conn.execute(
        insert(account_tokens).values(
            token_hash=_digest(token),
            customer_id=customer_id,
            purpose=purpose,
            email=email,
            created_at=now,
            expires_at=now + LIFETIMES[purpose],
        )
    )
    return token


def _usable(token: str, purpose: str, now: datetime) -> list:
    return [
        account_tokens.c.token_hash == _digest(token),
        account_tokens.c.purpose == purpose,
        account_tokens.c.used_at.is_(None),
        account_tokens.c.expires_at > now,
    ]


async def open_token(
    conn: AsyncConnection, token: str, purpose: str, now: datetime | None = None
) -> OpenToken | None:
    """The token, if it is of this purpose, unused, unexpired and its customer active."""
    query = (
        select(account_tokens.c.customer_id, customers.c.name, account_tokens.c.email)
        .join(customers, customers.c.id == account_tokens.c.customer_id)
        .where(*_usable(token, purpose, now or utcnow()), customers.c.status == CUSTOMER_ACTIVE)
    )
    row = (await conn.execute(query)).first()
    return None if row is None else OpenToken(*row)


async def use_token(
    conn: AsyncConnection, token: str, purpose: str, now: datetime | None = None
) -> OpenToken | None:
    """Mark the token used, once: of two uses at the same time, one gets it. Closes the
    customer's other open tokens of the purpose. None if it was not open."""
    now = now or utcnow()
    found = await open_token(conn, token, purpose, now)
    if found is None:
        return None
    used = await conn.execute(
        update(account_tokens).where(*_usable(token, purpose, now)).values(used_at=now)
    )
    if used.rowcount != 1:
        return None
    await close_tokens(conn, found.customer_id, purpose, now)
    return found


async def close_tokens(
    conn: AsyncConnection, customer_id: int, purpose: str, now: datetime | None = None
) -> None:
    """Close every open token of the purpose of this customer: they can no longer be used."""
    await conn.execute(
        update(account_tokens)
        .where(
            account_tokens.c.customer_id == customer_id,
            account_tokens.c.purpose == purpose,
            account_tokens.c.used_at.is_(None),
        )
        .values(used_at=now or utcnow())
    )


async def reset_password(
    conn: AsyncConnection, token: str, password_hash: str, now: datetime | None = None
) -> OpenToken | None:
    """Use a reset token to set the customer's new password (hashed beforehand, outside the
    transaction); None, and nothing changed, if the token is not open."""
    used = await use_token(conn, token, PASSWORD_RESET, now)
    if used is not None:
        await conn.execute(
            update(customers)
            .where(customers.c.id == used.customer_id)
            .values(password_hash=password_hash)
        )
    return used


async def verify_email(
    conn: AsyncConnection, token: str, now: datetime | None = None
) -> OpenToken | None:
    """Use a verification token: the customer's address becomes the token's, verified now.
    Open reset links went to the old address: they are closed."""
    now = now or utcnow()
    used = await use_token(conn, token, VERIFY_EMAIL, now)
    if used is None:
        return None
    whose = customers.c.id == used.customer_id
    old_email = await conn.scalar(select(customers.c.email).where(whose))
    await conn.execute(
        update(customers).where(whose).values(email=used.email, email_verified_at=now)
    )
    if old_email != used.email:
        await close_tokens(conn, used.customer_id, PASSWORD_RESET, now)
    return used
