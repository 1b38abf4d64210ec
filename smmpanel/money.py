"""Money: Decimal in code, integer millionths in the database, one place to parse and render."""

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from smmpanel.errors import refusal

MICROS = 1_000_000
_MICRO = Decimal("0.000001")
# Larger amounts fit no BIGINT of millionths and would overflow quantize's precision.
MAX_DIGITS = 12
# The largest amount of funds, price or rate a person may set: far above any real one, far
# below what a balance of millionths holds (about 9.2e12), so sums of them fit too.
LARGEST_AMOUNT = Decimal(1_000_000_000)
LARGEST_MICROS = int(LARGEST_AMOUNT) * MICROS

NOT_AN_AMOUNT = refusal("not_an_amount", "not an amount: %(text)r (write it like 12.50)")
TOO_MANY_DECIMALS = refusal("too_many_decimals", "at most 6 decimals: %(text)r")
AMOUNT_TOO_LARGE = refusal(
    "amount_too_large", "%(text)s is too large an amount: at most %(largest)s"
)


def parse(text: str | int | Decimal) -> Decimal:
    """Parse an amount typed by a person or a file; refuse what is not a finite plain number."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise NOT_AN_AMOUNT(text=str(text)) from None
    if not value.is_finite() or value.adjusted() > MAX_DIGITS:
        raise NOT_AN_AMOUNT(text=str(text))
    if value != value.quantize(_MICRO, rounding=ROUND_DOWN):
        raise TOO_MANY_DECIMALS(text=str(text))
    return value


def parse_amount(text: str) -> int:
    """An amount a person typed (funds, a price, a rate), in millionths, within the bounds."""
    micros = to_micros(parse(text))
    check_amount(micros)
    return micros


def check_amount(micros: int) -> None:
    """Refuse an amount of funds, price or rate beyond what any real one is (either sign)."""
    if abs(micros) > LARGEST_MICROS:
        raise AMOUNT_TOO_LARGE(text=render_balance(micros), largest=render_balance(LARGEST_MICROS))


def to_micros(value: Decimal) -> int:
    return int((value * MICROS).to_integral_value(rounding=ROUND_HALF_UP))


def from_micros(micros: int) -> Decimal:
    return Decimal(micros).scaleb(-6)


def charge_micros(rate_micros: int, units: int) -> int:
    """rate per 1000 × units / 1000, rounded half up to the millionth."""
    return (rate_micros * units + 500) // 1000


BASIS_POINTS = 10_000  # 100 %


def discounted_micros(rate_micros: int, discount_bp: int) -> int:
    """rate × (10000 − discount) / 10000, rounded half up to the millionth.
    `catalog.service.discounted_rate` is the same in SQL: change both or neither."""
    return (rate_micros * (BASIS_POINTS - discount_bp) + BASIS_POINTS // 2) // BASIS_POINTS


def partial_refund_micros(charge: int, remains: int, units: int) -> int:
    """charge × remains / units, rounded down; never negative, never more than the charge."""
    if units <= 0:
        return 0
    remains = max(0, min(remains, units))
    return charge * remains // units


def _render(micros: int, min_places: int) -> str:
    """Whole units, a point and 6 decimals less trailing zeros, padded to `min_places`
    (at most 6). String slicing: twice as fast as divmod and a format spec, measured."""
    if micros < 0:
        return "-" + _render(-micros, min_places)
    text = str(micros).rjust(7, "0")  # at least one digit before the 6 decimals
    digits = text[-6:].rstrip("0")
    if len(digits) < min_places:
        digits = (digits + "000000")[:min_places]
    return f"{text[:-6]}.{digits}" if digits else text[:-6]


def render_charge(micros: int) -> str:
    """At least 4 decimals, up to 6: "0.0360"."""
    return _render(micros, 4)


def render_balance(micros: int) -> str:
    """At least 2 decimals, up to 6: "0.03"."""
    return _render(micros, 2)


def render_rate(micros: int) -> str:
    """Trailing zeros trimmed: "1.02", "1.2", "3"."""
    return _render(micros, 0)
