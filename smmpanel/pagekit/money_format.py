"""Money on pages: one rule per kind of amount, written the way the reader's language writes it.

Amounts are integer millionths (smmpanel.money). Pages show them with the currency's ISO code,
the language's digit grouping and decimal sign from Babel's CLDR data ("TWD 1,234.50"):

- a balance (what a customer holds, a day's revenue) has 2 decimals, 4 when it is below 0.01,
  and is rounded down, so no page shows more money than there is; one below 0.0001 is shown
  exactly rather than as a misleading zero;
- a rate, a charge or any other amount (payments, fees, ledger entries) is shown exactly, with
  the fewest decimals that do it, at least 2: "0.135", "91.6375", "49.55222".

A column of a table passes the same `decimals` to every row (see `column_decimals`), so trailing
zeros line up; a value that needs more than the column's decimals still shows all of them, as no
amount is ever cut. The API's formats stay in smmpanel.money, which pages keep for form values.

Babel's own formatting takes some 50 µs an amount (measured) and pages show 100 of them, so the
pattern of each (language, currency) is read from Babel once and applied here to the integer.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from babel import Locale
from babel.numbers import get_decimal_symbol, get_group_symbol
from jinja2 import pass_context
from jinja2.runtime import Context

from smmpanel.money import MICROS
from smmpanel.pagekit import i18n

Kind = Literal["balance", "rate", "charge", "amount"]

FEWEST_DECIMALS = 2
SMALL_BALANCE_DECIMALS = 4
UNIT_DECIMALS = 6
SMALL_BALANCE = MICROS // 100  # below 0.01: 4 decimals
TINY_BALANCE = MICROS // 10_000  # below 0.0001: 4 decimals would show zero
# CLDR's currency spacing: a code written before or after digits is kept apart from them.
CURRENCY_SPACE = "\u00a0"


@dataclass(frozen=True)
class _Shape:
    """How one language writes an amount of one currency."""

    prefix: tuple[str, str]  # (positive, negative)
    suffix: tuple[str, str]
    decimal: str
    group: str
    grouping: tuple[int, int]  # (first group, later groups), counted from the decimal sign


@lru_cache(maxsize=256)
def _shape(language: str, currency: str) -> _Shape:
    locale = Locale.parse(language)
    pattern = locale.currency_formats["standard"]
    code = currency.upper()

    def spelled(text: str, before_digits: bool) -> str:
        text = text.replace("¤", code).replace("'", "")
        if code and before_digits and text[-1:].isalpha():
            return text + CURRENCY_SPACE
        if code and not before_digits and text[:1].isalpha():
            return CURRENCY_SPACE + text
        return text

    prefix = (spelled(pattern.prefix[0], True), spelled(pattern.prefix[1], True))
    suffix = (spelled(pattern.suffix[0], False), spelled(pattern.suffix[1], False))
    return _Shape(
        prefix=prefix,
        suffix=suffix,
        decimal=get_decimal_symbol(locale),
        group=get_group_symbol(locale),
        grouping=pattern.grouping,
    )


def exact_decimals(micros: int) -> int:
    """The fewest decimals, at least 2, that show the amount exactly."""
    fraction = abs(micros) % MICROS
    places = UNIT_DECIMALS
    # Arithmetic, not the string of the digits: a fifth of the time of a format and a strip.
    while places > FEWEST_DECIMALS and fraction % 10 == 0:
        fraction //= 10
        places -= 1
    return places


def balance_decimals(micros: int) -> int:
    size = abs(micros)
    if size >= SMALL_BALANCE or size == 0:
        return FEWEST_DECIMALS
    if size >= TINY_BALANCE:
        return SMALL_BALANCE_DECIMALS
    return exact_decimals(micros)


def decimals_of(micros: int, kind: Kind) -> int:
    return balance_decimals(micros) if kind == "balance" else exact_decimals(micros)


def column_decimals(values: Iterable[int | None], kind: Kind) -> int:
    """The decimals a column of amounts of one kind needs: the most any of its rows needs."""
    return max(
        (decimals_of(value, kind) for value in values if value is not None), default=FEWEST_DECIMALS
    )


def format_money(
    micros: int, kind: Kind, language: str, currency: str, decimals: int | None = None
) -> str:
    """One amount as the page shows it; `currency` "" for the number alone."""
    places = decimals_of(micros, kind)
    if decimals is not None and decimals > places:
        places = min(decimals, UNIT_DECIMALS)
    if kind == "balance":
        step = 10 ** (UNIT_DECIMALS - places)
        micros -= micros % step  # rounded down: never shows more than there is
    shape = _shape(language, currency)
    negative = micros < 0
    whole, fraction = divmod(abs(micros), MICROS)
    digits = _grouped(str(whole), shape) + shape.decimal + f"{fraction:06d}"[:places]
    return shape.prefix[negative] + digits + shape.suffix[negative]


def _grouped(whole: str, shape: _Shape) -> str:
    first, later = shape.grouping
    if len(whole) <= first:
        return whole
    head, groups = whole[:-first], [whole[-first:]]
    while len(head) > later:
        groups.append(head[-later:])
        head = head[:-later]
    groups.append(head)
    return shape.group.join(reversed(groups))


def _page_currency(context: Context, currency: str | None) -> str:
    if currency is not None:
        return currency
    panel = context["panel"]
    return str(panel.currency)


MoneyFilter = Callable[[Context, int, int | None, str | None], str]


def _filter(kind: Kind) -> MoneyFilter:
    @pass_context
    def money_filter(
        context: Context, micros: int, decimals: int | None = None, currency: str | None = None
    ) -> str:
        language = i18n.current_language.get()
        return format_money(micros, kind, language, _page_currency(context, currency), decimals)

    money_filter.__name__ = kind
    return money_filter


balance = _filter("balance")
rate = _filter("rate")
charge = _filter("charge")
amount = _filter("amount")
