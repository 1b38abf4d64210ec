"""Exchange rates the operator sets: what one unit of another currency is worth in the panel's.

Providers list their rates and charge in their own currency. Nothing converts with a rate the
operator has not set: a missing one is a refusal that says how to set it, never a silent 1.

Rounding: an amount converted to the panel's currency is rounded half up to the millionth (a
half millionth goes up). Prices are worked out from the exact product instead (`factor`), so
a price rule's rounding up keeps them from ever falling below the converted cost.
"""

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.base import utcnow
from smmpanel.db.dialect import insert_or_ignore
from smmpanel.errors import Refusal, refusal
from smmpanel.money import MICROS, check_amount, parse_amount
from smmpanel.panel.models import exchange_rates, panel_settings

CODE_LENGTH = 3

NOT_A_CURRENCY = refusal(
    "unknown_currency_code",
    "%(code)s is not a currency code of ISO 4217, such as USD or TWD",
)
NO_EXCHANGE_RATE = refusal(
    "no_exchange_rate",
    "no exchange rate for %(code)s: set one with smmpanel settings set --rate %(code)s=RATE,"
    " RATE being what one %(code)s is worth in %(panel)s (such as 31.5), or on the settings"
    " page",
)
RATE_OF_PANEL_CURRENCY = refusal(
    "exchange_rate_of_panel_currency",
    "%(code)s is the panel's own currency: it needs no exchange rate",
)
RATE_NOT_POSITIVE = refusal(
    "exchange_rate_not_positive", "the exchange rate of %(code)s must be above zero"
)
RATE_UNREADABLE = refusal("exchange_rate_unreadable", "exchange rate of %(code)s: %(problem)s")
RATE_NOT_WRITTEN_AS_PAIR = refusal(
    "exchange_rate_not_a_pair",
    "write an exchange rate as CODE=RATE, such as USD=31.5, not %(text)r",
)


@lru_cache(maxsize=1)
def _iso_codes() -> frozenset[str]:
    # Babel's data is loaded here, not on import: the command line's help stays fast.
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


def is_currency_code(code: str) -> bool:
    """Whether `code` is a currency code of ISO 4217, as written (upper case)."""
    return code in _iso_codes()


def check_currency_code(code: str) -> None:
    if not is_currency_code(code):
        raise NOT_A_CURRENCY(code=code)


def factor(from_code: str, panel_code: str, known: dict[str, int]) -> Decimal:
    """What one unit of `from_code` is worth in the panel's currency, exactly."""
    if from_code == panel_code:
        return Decimal(1)
    if from_code not in known:
        raise NO_EXCHANGE_RATE(code=from_code, panel=panel_code)
    return Decimal(known[from_code]).scaleb(-6)


def convert(amount_micros: int, from_code: str, panel_code: str, known: dict[str, int]) -> int:
    """An amount in `from_code` (millionths) in the panel's currency, rounded half up."""
    if from_code == panel_code:
        return amount_micros
    if from_code not in known:
        raise NO_EXCHANGE_RATE(code=from_code, panel=panel_code)
    return (amount_micros * known[from_code] + MICROS // 2) // MICROS


@dataclass(frozen=True)
class Conversion:
    """The panel's currency and the rates set, read once for many conversions."""

    panel: str
    known: dict[str, int]

    def factor(self, from_code: str) -> Decimal:
        return factor(from_code, self.panel, self.known)

    def convert(self, amount_micros: int, from_code: str) -> int:
        return convert(amount_micros, from_code, self.panel, self.known)


async def conversion(conn: AsyncConnection) -> Conversion:
    panel = (await conn.execute(select(panel_settings.c.currency))).scalar_one()
    return Conversion(panel, await rates(conn))


async def rates(conn: AsyncConnection) -> dict[str, int]:
    """Every rate set, by currency code: millionths of the panel's currency per unit."""
    rows = await conn.execute(
        select(exchange_rates.c.currency, exchange_rates.c.rate).order_by(exchange_rates.c.currency)
    )
    return {code: rate for code, rate in rows}


async def set_rate(conn: AsyncConnection, code: str, rate_micros: int) -> None:
    """Set (or change) what one unit of `code` is worth, in millionths of the panel's currency."""
    check_currency_code(code)
    if code == await conn.scalar(select(panel_settings.c.currency)):
        raise RATE_OF_PANEL_CURRENCY(code=code)
    if rate_micros <= 0:
        raise RATE_NOT_POSITIVE(code=code)
    check_amount(rate_micros)
    now = utcnow()
    values = {"currency": code, "rate": rate_micros, "updated_at": now}
    added = await conn.execute(insert_or_ignore(conn, exchange_rates).values(**values))
    if added.rowcount != 1:
        await conn.execute(
            update(exchange_rates)
            .where(exchange_rates.c.currency == code)
            .values(rate=rate_micros, updated_at=now)
        )


def read_rate(code: str, text: str) -> int:
    """A rate as a person typed it ("31.5"), in millionths."""
    try:
        return parse_amount(text)
    except Refusal as problem:
        raise RATE_UNREADABLE(code=code, problem=problem) from None


def read_pair(text: str) -> tuple[str, int]:
    """`USD=31.5` as the code (upper case) and the rate in millionths."""
    code, equals, amount = text.partition("=")
    code = code.strip().upper()
    if not equals or len(code) != CODE_LENGTH or not amount.strip():
        raise RATE_NOT_WRITTEN_AS_PAIR(text=text)
    return code, read_rate(code, amount)
