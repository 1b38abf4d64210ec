"""Two-factor sign-in's rules (accounts.two_factor) under a pinned clock: codes of pyotp within
one step either side, each step's code accepted once, recovery codes once each, on both
databases."""

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from domain_helpers import new_customer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts import two_factor
from smmpanel.accounts.models import web_sessions
from smmpanel.accounts.operators import create_operator
from smmpanel.accounts.two_factor import Account
from smmpanel.errors import Refusal

NOW = datetime(2026, 12, 3, 12, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)


async def _with_two_factor(
    conn: AsyncConnection, at: datetime = NOW
) -> tuple[Account, str, list[str]]:
    """A customer who turned two-factor sign-in on at `at`: (account, secret, recovery codes)."""
    account = Account("customer", await new_customer(conn))
    secret = two_factor.new_secret()
    codes = await two_factor.turn_on(conn, account, secret, pyotp.TOTP(secret).at(at), at)
    return account, secret, codes


async def test_a_code_of_pyotp_is_accepted_once_and_never_one_of_an_earlier_step(conn):
    account, secret, _ = await _with_two_factor(conn, NOW - 2 * STEP)
    app = pyotp.TOTP(secret)
    assert await two_factor.accept_code(conn, account, app.at(NOW), NOW)
    # The same code again, even seconds later in the same step: refused.
    assert not await two_factor.accept_code(conn, account, app.at(NOW), NOW + timedelta(seconds=5))
    # The step before, still inside the window: refused, it is older than the one accepted.
    assert not await two_factor.accept_code(conn, account, app.at(NOW - STEP), NOW)
    assert await two_factor.accept_code(conn, account, app.at(NOW + STEP), NOW + STEP)


async def test_codes_one_step_either_side_are_accepted_and_no_further(conn):
    account, secret, _ = await _with_two_factor(conn, NOW - 4 * STEP)
    app = pyotp.TOTP(secret)
    later = NOW + 10 * STEP
    assert not await two_factor.accept_code(conn, account, app.at(later - 2 * STEP), later)
    assert not await two_factor.accept_code(conn, account, app.at(later + 2 * STEP), later)
    assert await two_factor.accept_code(conn, account, app.at(later - STEP), later)
    assert await two_factor.accept_code(conn, account, app.at(later + STEP), later)


async def test_a_wrong_or_malformed_code_is_refused_and_changes_nothing(conn):
    account, secret, _ = await _with_two_factor(conn, NOW - STEP)
    right = pyotp.TOTP(secret).at(NOW)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for typed in (wrong, "", "12345", "1234567", "abcdef", right + "0"):
        assert not await two_factor.accept_code(conn, account, typed, NOW), typed
    assert await two_factor.accept_code(conn, account, f" {right[:3]} {right[3:]} ", NOW)


async def test_an_account_without_two_factor_accepts_no_code(conn):
    account = Account("customer", await new_customer(conn))
    assert not await two_factor.is_on(conn, account)
    assert not await two_factor.accept_code(conn, account, "123456", NOW)


async def test_turning_on_needs_a_code_of_the_new_secret_and_happens_once(conn):
    account = Account("customer", await new_customer(conn))
    secret = two_factor.new_secret()
    wrong_secret = two_factor.new_secret()
    with pytest.raises(Refusal) as refused:
        await two_factor.turn_on(conn, account, secret, pyotp.TOTP(wrong_secret).at(NOW), NOW)
    assert refused.value.kind is two_factor.WRONG_SETUP_CODE
    assert not await two_factor.is_on(conn, account)
    await two_factor.turn_on(conn, account, secret, pyotp.TOTP(secret).at(NOW), NOW)
    assert await two_factor.is_on(conn, account)
    # The code that turned it on cannot sign in afterwards.
    assert not await two_factor.accept_code(conn, account, pyotp.TOTP(secret).at(NOW), NOW)
    with pytest.raises(Refusal) as again:
        await two_factor.turn_on(conn, account, secret, pyotp.TOTP(secret).at(NOW + STEP), NOW)
    assert again.value.kind is two_factor.ALREADY_ON


async def test_recovery_codes_work_once_each_whatever_their_case_and_dash(conn):
    account, _, codes = await _with_two_factor(conn)
    assert len(codes) == len(set(codes)) == two_factor.RECOVERY_CODE_COUNT
    assert await two_factor.recovery_codes_left(conn, account) == 10
    first, second = codes[0], codes[1]
    assert await two_factor.accept_code(conn, account, first, NOW)
    assert not await two_factor.accept_code(conn, account, first, NOW)
    assert await two_factor.accept_code(conn, account, " " + second.upper().replace("-", ""), NOW)
    assert await two_factor.recovery_codes_left(conn, account) == 8
    other, _, _ = await _with_two_factor(conn)
    assert not await two_factor.accept_code(conn, other, codes[2], NOW), "another's code"


async def test_new_recovery_codes_replace_the_old(conn):
    account, _, old = await _with_two_factor(conn)
    new = await two_factor.new_recovery_codes(conn, account)
    assert not set(new) & set(old)
    assert not await two_factor.accept_code(conn, account, old[0], NOW)
    assert await two_factor.accept_code(conn, account, new[0], NOW)


async def test_turning_off_removes_the_secret_and_the_codes(conn):
    account, secret, codes = await _with_two_factor(conn, NOW - STEP)
    await two_factor.turn_off(conn, account)
    assert not await two_factor.is_on(conn, account)
    assert await two_factor.recovery_codes_left(conn, account) == 0
    assert not await two_factor.accept_code(conn, account, codes[0], NOW)
    with pytest.raises(Refusal) as refused:
        await two_factor.turn_off(conn, account)
    assert refused.value.kind is two_factor.NOT_ON


async def test_the_provisioning_address_names_the_panel_as_issuer(conn):
    secret = two_factor.new_secret()
    uri = two_factor.provisioning_uri(secret, "alice", "Best Panel")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    query = parse_qs(parsed.query)
    assert query["secret"] == [secret] and query["issuer"] == ["Best Panel"]
    assert pyotp.parse_uri(uri).at(NOW) == pyotp.TOTP(secret).at(NOW)


async def test_requiring_it_signs_out_the_operators_without_it(conn):
    def operator_named() -> str:
        return f"op-{uuid.uuid4().hex[:8]}"

    with_it = await create_operator(conn, operator_named(), "x")
    without = await create_operator(conn, operator_named(), "x")
    secret = two_factor.new_secret()
    await two_factor.turn_on(
        conn, Account("operator", with_it), secret, pyotp.TOTP(secret).at(NOW), NOW
    )
    customer = await new_customer(conn)
    for owner in ({"operator_id": with_it}, {"operator_id": without}, {"customer_id": customer}):
        await conn.execute(
            web_sessions.insert().values(
                token_hash=uuid.uuid4().hex, created_at=NOW, expires_at=NOW + STEP * 100, **owner
            )
        )
    await two_factor.end_sessions_of_operators_without_it(conn)

    async def sessions(column, account_id: int) -> int:
        return await conn.scalar(select(func.count()).where(column == account_id))

    assert await sessions(web_sessions.c.operator_id, with_it) == 1
    assert await sessions(web_sessions.c.operator_id, without) == 0
    assert await sessions(web_sessions.c.customer_id, customer) == 1
