"""Customers, API keys and balance changes. Every balance change is one ledger row."""

import hashlib
import secrets
import string
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import (
    CUSTOMER_ACTIVE,
    CUSTOMER_SUSPENDED,
    api_keys,
    customers,
    ledger_entries,
)
from smmpanel.accounts.names import checked_name, name_key
from smmpanel.db.base import AnyRow, as_utc, utcnow
from smmpanel.db.dialect import insert_or_ignore
from smmpanel.db.hotpath import AUTHENTICATE_SQL, HotReader
from smmpanel.errors import N_, Refusal, check_fits, refusal
from smmpanel.integers import typed_id
from smmpanel.money import check_amount

KEY_ALPHABET = string.ascii_letters + string.digits
KEY_LENGTH = 40
LAST_USED_GRANULARITY = timedelta(minutes=1)


CUSTOMER_NEEDS_NAME = refusal("customer_needs_name", "a customer needs a name")
NOT_AN_EMAIL = refusal("not_an_email", "%(email)r is not an e-mail address")
CUSTOMER_NAME_TAKEN = refusal(
    "customer_name_taken", "a customer named %(name)r exists already (id %(id)s)"
)
NEGATIVE_OPENING_BALANCE = refusal(
    "negative_opening_balance",
    "the opening balance cannot be negative; a new customer starts at 0 or more",
)
NO_CUSTOMER = refusal(
    "no_customer", "no customer %(ref)r: give an id or a name from `smmpanel customer list`"
)
NO_CUSTOMER_ID = refusal("no_customer_id", "no customer with id %(id)s")
NO_ACTIVE_KEY = refusal(
    "no_active_key", "no active key with id %(id)s: see `smmpanel key list CUSTOMER`"
)
ZERO_ADJUSTMENT = refusal("zero_adjustment", "the amount must not be zero")
ADJUSTMENT_WITHOUT_REASON = refusal(
    "adjustment_without_reason", "give a reason: it is kept in the customer's ledger"
)
BALANCE_TOO_SMALL = refusal(
    "balance_too_small", "the balance is smaller than the amount to subtract; nothing changed"
)
UNKNOWN_TIME_ZONE = refusal(
    "unknown_time_zone", "%(zone)r is not a time zone: choose one of the list, such as Asia/Taipei"
)


@dataclass(frozen=True)
class ApiCustomer:
    id: int
    balance: int
    key_id: int
    key_last_used: datetime | None
    # What the statement that checked the key read beside the customer, a tuple per row: its
    # columns after `CALLER_COLUMNS` (see `authenticate`).
    read: list[tuple] = field(default_factory=list)

    @property
    def key_needs_touch(self) -> bool:
        """Whether to record the key's use: at most once a minute, so reads stay reads."""
        last = self.key_last_used
        return last is None or as_utc(last) < utcnow() - LAST_USED_GRANULARITY


@dataclass(frozen=True)
class AccountSettings:
    """What a customer's account page shows and changes."""

    name: str
    email: str | None
    email_verified_at: datetime | None
    time_zone: str | None
    mail_order_updates: bool
    password_hash: str | None


@dataclass(frozen=True)
class SigningInCustomer:
    id: int
    name: str
    status: str
    password_hash: str | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> str:
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))


async def create_customer(
    conn: AsyncConnection,
    name: str,
    balance: int = 0,
    email: str | None = None,
    password_hash: str | None = None,
) -> int:
    name, key = checked_name(name, customers, CUSTOMER_NEEDS_NAME)
    if email is not None:
        if "@" not in email:
            raise NOT_AN_EMAIL(email=email)
        check_fits(customers.c.email, email, N_("the e-mail address"))
    if balance < 0:
        raise NEGATIVE_OPENING_BALANCE()
    check_amount(balance)
    # The unique key decides, so two customers signing up at once as "Bob" and "bob" make one.
    customer_id = await conn.scalar(
        insert_or_ignore(conn, customers)
        .values(
            name=name,
            name_key=key,
            email=email,
            balance=0,
            password_hash=password_hash,
            created_at=utcnow(),
        )
        .returning(customers.c.id)
    )
    if customer_id is None:
        raise await _name_taken(conn, key)
    if balance:
        await credit(
            conn, customer_id, balance, kind="deposit", reason="opening balance", cause="opening"
        )
    return customer_id


async def _name_taken(conn: AsyncConnection, key: str) -> Refusal:
    taken = (
        await conn.execute(
            select(customers.c.id, customers.c.name).where(customers.c.name_key == key)
        )
    ).one()
    return CUSTOMER_NAME_TAKEN(name=taken.name, id=taken.id)


async def change_contact(
    conn: AsyncConnection, customer_id: int, name: str, email: str | None
) -> None:
    """The operator's change of a customer's name and e-mail address. A new address is not
    verified: only the customer opening a link sent there proves it is theirs."""
    name, key = checked_name(name, customers, CUSTOMER_NEEDS_NAME)
    if email is not None:
        check_email(email)
    old_email = await conn.scalar(select(customers.c.email).where(customers.c.id == customer_id))
    values: dict[str, object] = {"name": name, "name_key": key, "email": email}
    if email != old_email:
        values["email_verified_at"] = None
    # The unique key decides, in a savepoint so that the refusal leaves the transaction usable.
    try:
        async with conn.begin_nested():
            await conn.execute(
                update(customers).where(customers.c.id == customer_id).values(**values)
            )
    except IntegrityError:
        raise await _name_taken(conn, key) from None


async def find_customer(conn: AsyncConnection, ref: str) -> int:
    """A customer by id or by name, for the command line."""
    query = select(customers.c.id)
    given_id = typed_id(ref)
    query = query.where(customers.c.name == ref if given_id is None else customers.c.id == given_id)
    customer_id = await conn.scalar(query)
    if customer_id is None:
        raise NO_CUSTOMER(ref=ref)
    return customer_id


async def customer_for_sign_in(conn: AsyncConnection, name: str) -> SigningInCustomer | None:
    """The customer of this name, as signing in needs them, or None."""
    row = (
        await conn.execute(
            select(
                customers.c.id, customers.c.name, customers.c.status, customers.c.password_hash
            ).where(customers.c.name_key == name_key(name))
        )
    ).first()
    return None if row is None else SigningInCustomer(*row)


async def set_customer_password(
    conn: AsyncConnection, customer_id: int, password_hash: str
) -> None:
    await conn.execute(
        update(customers).where(customers.c.id == customer_id).values(password_hash=password_hash)
    )


async def account_settings(conn: AsyncConnection, customer_id: int) -> AccountSettings:
    row = (
        await conn.execute(
            select(
                customers.c.name,
                customers.c.email,
                customers.c.email_verified_at,
                customers.c.time_zone,
                customers.c.mail_order_updates,
                customers.c.password_hash,
            ).where(customers.c.id == customer_id)
        )
    ).first()
    if row is None:
        raise NO_CUSTOMER_ID(id=customer_id)
    return AccountSettings(*row)


def check_email(email: str) -> None:
    """An address a link can be sent to: something on both sides of one @, no spaces."""
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain.strip(".") or any(c.isspace() for c in email):
        raise NOT_AN_EMAIL(email=email)
    check_fits(customers.c.email, email, N_("the e-mail address"))


@cache
def time_zones() -> list[str]:
    """The IANA zones this system knows, in order."""
    return sorted(zoneinfo.available_timezones())


def check_time_zone(zone: str) -> None:
    if zone not in time_zones():
        raise UNKNOWN_TIME_ZONE(zone=zone)


async def set_preferences(
    conn: AsyncConnection, customer_id: int, *, time_zone: str | None, mail_order_updates: bool
) -> None:
    """The customer's time zone (None: the panel's) and whether order updates are e-mailed."""
    if time_zone is not None:
        check_time_zone(time_zone)
    await conn.execute(
        update(customers)
        .where(customers.c.id == customer_id)
        .values(time_zone=time_zone, mail_order_updates=mail_order_updates)
    )


async def set_customer_status(conn: AsyncConnection, customer_id: int, active: bool) -> None:
    status = CUSTOMER_ACTIVE if active else CUSTOMER_SUSPENDED
    await conn.execute(update(customers).where(customers.c.id == customer_id).values(status=status))


async def create_api_key(conn: AsyncConnection, customer_id: int, name: str = "") -> str:
    """A new key for the customer, returned this once: only its digest is stored."""
    key = new_api_key()
    await conn.execute(
        insert(api_keys).values(
            customer_id=customer_id,
            key_hash=hash_key(key),
            prefix=key[:6],
            name=name,
            created_at=utcnow(),
        )
    )
    return key


async def revoke_api_key(conn: AsyncConnection, key_id: int) -> None:
    result = await conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if result.rowcount != 1:
        raise NO_ACTIVE_KEY(id=key_id)


async def revoke_all_api_keys(conn: AsyncConnection, customer_id: int) -> int:
    """Revoke every key of the customer still active; how many there were."""
    result = await conn.execute(
        update(api_keys)
        .where(api_keys.c.customer_id == customer_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount


async def authenticate(
    reader: HotReader, key: str, sql: str = AUTHENTICATE_SQL, *params: Any
) -> ApiCustomer | None:
    """The active customer holding this unrevoked key, or None. `sql` may read more for the
    caller in the same statement (one round trip): its first columns are `CALLER_COLUMNS`, its
    last placeholder the key's digest, and it returns no row for a key that does not open."""
    rows = await reader.fetch_by_key(sql, hash_key(key), *params)
    if not rows:
        return None
    customer_id, balance, key_id, last_used = rows[0][:4]
    if isinstance(last_used, str):  # SQLite read below SQLAlchemy: the text it stored
        last_used = datetime.fromisoformat(last_used)
    read = [row[4:] for row in rows] if len(rows[0]) > 4 else []
    return ApiCustomer(customer_id, balance, key_id, last_used, read)


async def touch_api_key(conn: AsyncConnection, key_id: int) -> None:
    await conn.execute(
        update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=utcnow())
    )


async def debit(
    conn: AsyncConnection,
    customer_id: int,
    amount: int,
    *,
    kind: str,
    reason: str = "",
    order_id: int | None = None,
    cause: str | None = None,
) -> bool:
    """Take `amount` millionths if the balance covers it: one conditional UPDATE, then its row."""
    result = await conn.execute(
        update(customers)
        .where(customers.c.id == customer_id, customers.c.balance >= amount)
        .values(balance=customers.c.balance - amount)
    )
    if result.rowcount != 1:
        return False
    await _record(conn, customer_id, -amount, kind, reason, order_id, cause)
    return True


async def credit(
    conn: AsyncConnection,
    customer_id: int,
    amount: int,
    *,
    kind: str,
    reason: str = "",
    order_id: int | None = None,
    payment_id: int | None = None,
    cause: str | None = None,
) -> bool:
    """Add `amount`; with an order or a payment and a cause, at most once per (order, cause)
    or (payment, cause). False if already done."""
    entry = {
        "customer_id": customer_id,
        "amount": amount,
        "kind": kind,
        "reason": reason,
        "order_id": order_id,
        "payment_id": payment_id,
        "cause": cause,
        "created_at": utcnow(),
    }
    if cause is not None:
        inserted = await conn.execute(insert_or_ignore(conn, ledger_entries).values(**entry))
        if inserted.rowcount != 1:
            return False
    else:
        await conn.execute(insert(ledger_entries).values(**entry))
    await conn.execute(
        update(customers)
        .where(customers.c.id == customer_id)
        .values(balance=customers.c.balance + amount)
    )
    return True


async def _record(
    conn: AsyncConnection,
    customer_id: int,
    amount: int,
    kind: str,
    reason: str,
    order_id: int | None,
    cause: str | None,
) -> None:
    await conn.execute(
        insert(ledger_entries).values(
            customer_id=customer_id,
            amount=amount,
            kind=kind,
            reason=reason,
            order_id=order_id,
            cause=cause,
            created_at=utcnow(),
        )
    )


async def adjust_funds(conn: AsyncConnection, customer_id: int, amount: int, reason: str) -> int:
    """Add (positive) or subtract (negative) funds by hand, never below zero; the new balance."""
    if amount == 0:
        raise ZERO_ADJUSTMENT()
    check_amount(amount)
    if not reason.strip():
        raise ADJUSTMENT_WITHOUT_REASON()
    if amount > 0:
        await credit(conn, customer_id, amount, kind="deposit", reason=reason)
    elif not await debit(conn, customer_id, -amount, kind="adjustment", reason=reason):
        raise BALANCE_TOO_SMALL()
    return await balance_of(conn, customer_id)


async def balance_of(conn: AsyncConnection, customer_id: int) -> int:
    balance = await conn.scalar(select(customers.c.balance).where(customers.c.id == customer_id))
    if balance is None:
        raise NO_CUSTOMER_ID(id=customer_id)
    return balance


async def list_customers(conn: AsyncConnection) -> list[AnyRow]:
    """Every customer, oldest first, for the operator."""
    query = select(
        customers.c.id, customers.c.name, customers.c.status, customers.c.balance
    ).order_by(customers.c.id)
    return list((await conn.execute(query)).all())


async def list_api_keys(conn: AsyncConnection, customer_id: int) -> list[AnyRow]:
    """A customer's keys as the operator may see them: never the key, only its prefix."""
    query = (
        select(
            api_keys.c.id,
            api_keys.c.name,
            api_keys.c.prefix,
            api_keys.c.created_at,
            api_keys.c.last_used_at,
            api_keys.c.revoked_at,
        )
        .where(api_keys.c.customer_id == customer_id)
        .order_by(api_keys.c.id)
    )
    return list((await conn.execute(query)).all())


async def customer_name(conn: AsyncConnection, customer_id: int) -> str:
    name = await conn.scalar(select(customers.c.name).where(customers.c.id == customer_id))
    if name is None:
        raise NO_CUSTOMER_ID(id=customer_id)
    return name


async def ledger_page(
    conn: AsyncConnection, customer_id: int, offset: int, limit: int
) -> list[AnyRow]:
    """Up to `limit` of a customer's ledger entries, newest first, skipping the `offset` newest."""
    query = (
        select(
            ledger_entries.c.id,
            ledger_entries.c.created_at,
            ledger_entries.c.kind,
            ledger_entries.c.amount,
            ledger_entries.c.order_id,
            ledger_entries.c.payment_id,
            ledger_entries.c.cause,
            ledger_entries.c.reason,
        )
        .where(ledger_entries.c.customer_id == customer_id)
        .order_by(ledger_entries.c.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list((await conn.execute(query)).all())
