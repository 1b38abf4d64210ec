"""Money: Decimal in code, integer millionths in the database, one place to parse and render."""

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

MICROS = 1_000_000
_MICRO = Decimal("0.000001")
# Larger amounts fit no BIGINT of millionths and would overflow quantize's precision.
MAX_DIGITS = 12


class MoneyError(ValueError):
    pass


def parse(text: str | int | Decimal) -> Decimal:
    """Parse an amount typed by a person or a file; refuse what is not a finite plain number."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise MoneyError(f"not an amount: {text!r}") from None
    if not value.is_finite() or value.adjusted() > MAX_DIGITS:
        raise MoneyError(f"not an amount: {text!r}")
    if value != value.quantize(_MICRO, rounding=ROUND_DOWN):
        raise MoneyError(f"at most 6 decimals: {text!r}")
    return value


def to_micros(value: Decimal) -> int:
    return int((value * MICROS).to_integral_value(rounding=ROUND_HALF_UP))


def from_micros(micros: int) -> Decimal:
    return Decimal(micros).scaleb(-6)


def charge_micros(rate_micros: int, units: int) -> int:
    """rate per 1000 × units / 1000, rounded half up to the millionth."""
    return (rate_micros * units + 500) // 1000


def partial_refund_micros(charge: int, remains: int, units: int) -> int:
    """charge × remains / units, rounded down; never negative, never more than the charge."""
    if units <= 0:
        return 0
    remains = max(0, min(remains, units))
    return charge * remains // units


def _render(micros: int, min_places: int) -> str:
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), MICROS)
    digits = f"{frac:06d}".rstrip("0").ljust(min_places, "0")
    return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"


def render_charge(micros: int) -> str:
    """At least 4 decimals, up to 6: "0.0360"."""
    return _render(micros, 4)


def render_balance(micros: int) -> str:
    """At least 2 decimals, up to 6: "0.03"."""
    return _render(micros, 2)


def render_rate(micros: int) -> str:
    """Trailing zeros trimmed: "1.02", "1.2", "3"."""
    return _render(micros, 0)
