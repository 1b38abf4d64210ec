"""Password hashing with argon2; hashing runs off the event loop (it costs tens of ms of CPU)."""

import asyncio
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from smmpanel.errors import refusal

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
_hasher = PasswordHasher()

# Verified against when the account does not exist, so a wrong name costs the same time.
_UNKNOWN_ACCOUNT_HASH = _hasher.hash("no account has this password")


PASSWORD_TOO_SHORT = refusal(
    "password_too_short", "a password needs at least %(count)s characters; choose a longer one"
)
PASSWORD_TOO_LONG = refusal(
    "password_too_long", "a password has at most %(count)s characters; choose a shorter one"
)
PASSWORD_TOO_COMMON = refusal(
    "password_too_common",
    "that password is too common: it is among the first that guessers try; choose another",
)


@cache
def _common_passwords() -> frozenset[str]:
    """zxcvbn's 30,000 most common passwords, in lower case; loaded on first use."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_new_password(password: str) -> None:
    """The rule for every password set, a customer's or an operator's."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PASSWORD_TOO_SHORT(count=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PASSWORD_TOO_LONG(count=MAX_PASSWORD_LENGTH)
    if password.lower() in _common_passwords():
        raise PASSWORD_TOO_COMMON()


async def hash_password(password: str) -> str:
    check_new_password(password)
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; an account without a password never matches."""
    if password_hash is None:
        await asyncio.to_thread(_verify, _UNKNOWN_ACCOUNT_HASH, password)
        return False
    return await asyncio.to_thread(_verify, password_hash, password[:MAX_PASSWORD_LENGTH])
