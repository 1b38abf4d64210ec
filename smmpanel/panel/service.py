"""Panel-wide settings."""

from dataclasses import dataclass

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import ledger_entries
from smmpanel.accounts.service import check_time_zone
from smmpanel.errors import N_, check_fits, refusal
from smmpanel.orders.models import orders
from smmpanel.panel.models import exchange_rates, panel_settings
from smmpanel.panel.rates import check_currency_code
from smmpanel.payments.models import payment_methods, payments

# The languages the pages speak, each named in itself for the language switch.
LANGUAGES = {"en": "English", "zh_TW": "繁體中文"}
# Each setting a person may change, by the name the pages and the command line give it.
LABELS = {
    "name": N_("name"),
    "currency": N_("currency"),
    "payment_instructions": N_("payment instructions"),
    "default_language": N_("default language"),
}
EDITABLE = tuple(LABELS)

UNKNOWN_SETTINGS = refusal("unknown_settings", "unknown settings: %(names)s")
UNKNOWN_LANGUAGE = refusal(
    "unknown_default_language", "the default language must be one of: %(codes)s"
)
NOT_A_CURRENCY_CODE = refusal(
    "not_a_currency_code", "currency must be a three-letter code such as USD or TWD"
)
EMPTY_SETTING = refusal("empty_setting", "%(setting)s must not be empty")
CURRENCY_FIXED = refusal(
    "panel_currency_fixed",
    "the panel's currency cannot change once money exists: balances, the ledger, orders and"
    " payment methods are in %(currency)s already",
)


@dataclass(frozen=True)
class PanelSettings:
    name: str
    currency: str
    payment_instructions: str
    default_language: str
    operators_need_two_factor: bool = False
    # Times are shown in this IANA zone to whoever has not chosen their own.
    time_zone: str = "UTC"


async def get_settings(conn: AsyncConnection) -> PanelSettings:
    columns = [panel_settings.c[name] for name in EDITABLE]
    row = (
        await conn.execute(
            select(*columns, panel_settings.c.operators_need_two_factor, panel_settings.c.time_zone)
        )
    ).one()
    return PanelSettings(**row._mapping)


async def require_operator_two_factor(conn: AsyncConnection, required: bool) -> None:
    """The owner's rule that every operator signs in with two-factor sign-in, or not."""
    await conn.execute(update(panel_settings).values(operators_need_two_factor=required))


async def set_default_time_zone(conn: AsyncConnection, zone: str) -> None:
    """The IANA zone (such as Asia/Taipei) times are shown in to whoever has not chosen one."""
    check_time_zone(zone)
    await conn.execute(update(panel_settings).values(time_zone=zone))


async def change_settings(conn: AsyncConnection, **values: str) -> None:
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise UNKNOWN_SETTINGS(names=", ".join(sorted(unknown)))
    if "default_language" in values and values["default_language"] not in LANGUAGES:
        raise UNKNOWN_LANGUAGE(codes=", ".join(LANGUAGES))
    if "currency" in values:
        await _check_new_currency(conn, values["currency"])
    for name, value in values.items():
        if not value.strip() and name != "payment_instructions":
            raise EMPTY_SETTING(setting=LABELS[name])
        check_fits(panel_settings.c[name], value, LABELS[name])
    await conn.execute(update(panel_settings).values(**values))


async def _check_new_currency(conn: AsyncConnection, currency: str) -> None:
    """A currency code of ISO 4217, changed only while no money exists. A change removes the
    exchange rates: they are in the currency left behind."""
    if not (len(currency) == 3 and currency.isalpha()):
        raise NOT_A_CURRENCY_CODE()
    check_currency_code(currency)
    current = await conn.scalar(select(panel_settings.c.currency))
    if currency == current:
        return
    if await money_exists(conn):
        raise CURRENCY_FIXED(currency=current)
    await conn.execute(delete(exchange_rates))


async def money_exists(conn: AsyncConnection) -> bool:
    """Whether any ledger row, order, payment or payment method exists: amounts and rates
    stored in the panel's currency."""
    money = or_(
        exists().select_from(ledger_entries),
        exists().select_from(orders),
        exists().select_from(payments),
        exists().select_from(payment_methods),
    )
    return bool(await conn.scalar(select(money)))
