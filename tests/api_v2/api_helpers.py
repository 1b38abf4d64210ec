"""Plain helpers for the API v2 contract tests: what the contract says, computed apart."""

import uuid
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

MICRO = Decimal("0.000001")


def new_link() -> str:
    return f"https://instagram.com/p/{uuid.uuid4().hex[:12]}"


def expected_charge(rate: str, units: int) -> Decimal:
    """The contract's charge: rate × units / 1000, rounded half up to 6 decimals."""
    return (Decimal(rate) * units / 1000).quantize(MICRO, rounding=ROUND_HALF_UP)


def expected_refund(charge: Decimal, remains: int, units: int) -> Decimal:
    """The contract's partial refund: charge × remains / units, rounded down to 6 decimals."""
    return (charge * remains / units).quantize(MICRO, rounding=ROUND_DOWN)


def assert_success(reply: object) -> None:
    """A success reply never carries an `error` key, not even a null one."""
    assert isinstance(reply, dict | list), reply
    if isinstance(reply, dict):
        assert "error" not in reply, reply
