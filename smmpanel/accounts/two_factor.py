"""Two-factor sign-in (TOTP, RFC 6238) for customers and operators, and its recovery codes.

An account has two-factor sign-in on when it has a row in `two_factor`: the secret its
authenticator app shares and the last time step a code was accepted for. A code is accepted
for its own step and the one either side (clocks drift), and only once: the step is stored by
one conditional UPDATE (`last_step < step`), so of two sign-ins with the same code at once
exactly one passes, and a code of a step at or before the last accepted one is refused.

Recovery codes stand in for the app when it is lost: ten random codes shown once, stored as
SHA-256 digests (they are random, so a fast digest is enough, as for API keys), each deleted
by the DELETE that accepts it, so each works once.

Nothing here reads a clock: the caller passes `now`, so tests can pin the time.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import pyotp
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ColumnElement,
    ForeignKey,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import web_sessions
from smmpanel.db.base import BigId, Timestamp, metadata, utcnow
from smmpanel.db.dialect import insert_or_ignore
from smmpanel.errors import refusal

AccountKind = Literal["customer", "operator"]

STEP_SECONDS = 30
CODE_DIGITS = 6
WINDOW_STEPS = 1  # a code of the step before or after now's is accepted too
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
RECOVERY_CODE_LENGTH = 10  # about 49 bits each

two_factor = Table(
    "two_factor",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=True, unique=True),
    Column("operator_id", BigId, ForeignKey("operators.id"), nullable=True, unique=True),
    # Base32, as authenticator apps take it; the app needs it whole, so it cannot be a digest.
    Column("secret", String(64), nullable=False),
    # The time step (Unix time // 30) of the last code accepted: no code of it or before again.
    Column("last_step", BigInteger, nullable=False),
    Column("enabled_at", Timestamp, nullable=False),
    CheckConstraint("(customer_id IS NULL) <> (operator_id IS NULL)", name="one_kind_of_account"),
)

two_factor_recovery_codes = Table(
    "two_factor_recovery_codes",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=True, index=True),
    Column("operator_id", BigId, ForeignKey("operators.id"), nullable=True, index=True),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    CheckConstraint("(customer_id IS NULL) <> (operator_id IS NULL)", name="one_kind_of_account"),
)

WRONG_CODE = refusal(
    "two_factor_wrong_code",
    "Wrong code. Type the 6 digits your app shows now, or one of your recovery codes.",
)
WRONG_SETUP_CODE = refusal(
    "two_factor_wrong_setup_code",
    "That code does not match. Scan the code again and type the 6 digits your app shows now.",
)
ALREADY_ON = refusal("two_factor_already_on", "Two-factor sign-in is on already.")
NOT_ON = refusal("two_factor_not_on", "Two-factor sign-in is off already.")


@dataclass(frozen=True)
class Account:
    """Whose two-factor sign-in: a customer's or an operator's, by id."""

    kind: AccountKind
    id: int

    def owner(self, table: Table) -> ColumnElement[bool]:
        """The WHERE clause that picks this account's rows of `table`."""
        return table.c[f"{self.kind}_id"] == self.id

    def values(self) -> dict[str, int]:
        return {f"{self.kind}_id": self.id}


def new_secret() -> str:
    """A random secret of 160 bits, in Base32."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, account_name: str, issuer: str) -> str:
    """The otpauth:// address an authenticator app scans: the panel's name as issuer."""
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=issuer)


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code of one time step (what the app shows during it)."""
    return pyotp.TOTP(secret).generate_otp(step)


def _digits(code: str) -> str:
    return "".join(code.split())


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step, within the window around now, whose code this is; None if none."""
    typed = _digits(code)
    if len(typed) != CODE_DIGITS or not typed.isdigit():
        return None
    current = time_step(now)
    for step in range(current + WINDOW_STEPS, current - WINDOW_STEPS - 1, -1):
        if hmac.compare_digest(code_at(secret, step), typed):
            return step
    return None


def looks_like_app_code(code: str) -> bool:
    return _digits(code).isdigit()


async def is_on(conn: AsyncConnection, account: Account) -> bool:
    found = await conn.scalar(select(two_factor.c.id).where(account.owner(two_factor)))
    return found is not None


async def accept_app_code(
    conn: AsyncConnection, account: Account, code: str, now: datetime
) -> bool:
    """Whether the code is the app's for now and newer than the last one accepted; if so it is
    recorded as the last, in the same statement that decides, so it is never accepted again."""
    secret = await conn.scalar(select(two_factor.c.secret).where(account.owner(two_factor)))
    if secret is None:
        return False
    step = matching_step(secret, code, now)
    if step is None:
        return False
    accepted = await conn.execute(
        update(two_factor)
        .where(account.owner(two_factor), two_factor.c.last_step < step)
        .values(last_step=step)
    )
    return accepted.rowcount == 1


async def use_recovery_code(conn: AsyncConnection, account: Account, code: str) -> bool:
    """Whether the code is one of the account's unused recovery codes; it is used up at once."""
    used = await conn.execute(
        delete(two_factor_recovery_codes).where(
            account.owner(two_factor_recovery_codes),
            two_factor_recovery_codes.c.code_hash == _recovery_digest(code),
        )
    )
    return used.rowcount == 1


async def accept_code(conn: AsyncConnection, account: Account, code: str, now: datetime) -> bool:
    """An app code, or else a recovery code: whichever the typed text looks like."""
    if looks_like_app_code(code):
        return await accept_app_code(conn, account, code, now)
    return await use_recovery_code(conn, account, code)


async def turn_on(
    conn: AsyncConnection, account: Account, secret: str, code: str, now: datetime
) -> list[str]:
    """Turn two-factor sign-in on with a secret the app was given, once a code of it proves the
    app has it; the new recovery codes, to be shown once."""
    step = matching_step(secret, code, now)
    if step is None:
        raise WRONG_SETUP_CODE()
    inserted = await conn.scalar(
        insert_or_ignore(conn, two_factor)
        .values(secret=secret, last_step=step, enabled_at=utcnow(), **account.values())
        .returning(two_factor.c.id)
    )
    if inserted is None:
        raise ALREADY_ON()
    return await new_recovery_codes(conn, account)


async def turn_off(conn: AsyncConnection, account: Account) -> None:
    await conn.execute(
        delete(two_factor_recovery_codes).where(account.owner(two_factor_recovery_codes))
    )
    gone = await conn.execute(delete(two_factor).where(account.owner(two_factor)))
    if gone.rowcount == 0:
        raise NOT_ON()


async def new_recovery_codes(conn: AsyncConnection, account: Account) -> list[str]:
    """A fresh set of recovery codes in place of any left: the codes, to be shown once."""
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    owned = account.owner(two_factor_recovery_codes)
    await conn.execute(delete(two_factor_recovery_codes).where(owned))
    now = utcnow()
    rows = [
        {"code_hash": _recovery_digest(code), "created_at": now, **account.values()}
        for code in codes
    ]
    await conn.execute(insert(two_factor_recovery_codes), rows)
    return codes


async def recovery_codes_left(conn: AsyncConnection, account: Account) -> int:
    owned = account.owner(two_factor_recovery_codes)
    return (await conn.execute(select(func.count()).where(owned))).scalar_one()


async def end_sessions_of_operators_without_it(conn: AsyncConnection) -> None:
    """Sign out every operator without two-factor sign-in: when the owner requires it, their
    next sign-in sets it up."""
    with_it = select(two_factor.c.operator_id).where(two_factor.c.operator_id.is_not(None))
    await conn.execute(
        delete(web_sessions).where(
            web_sessions.c.operator_id.is_not(None), web_sessions.c.operator_id.not_in(with_it)
        )
    )


def _new_recovery_code() -> str:
    code = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return f"{code[:5]}-{code[5:]}"


def _recovery_digest(code: str) -> str:
    """Digest of the code as typed, forgiving case, spaces and the dash."""
    typed = "".join(code.lower().split()).replace("-", "")
    return hashlib.sha256(typed.encode()).hexdigest()
