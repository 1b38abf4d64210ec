"""Panel-wide settings."""

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.errors import N_, check_fits, refusal
from smmpanel.panel.models import panel_settings

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


@dataclass(frozen=True)
class PanelSettings:
    name: str
    currency: str
    payment_instructions: str
    default_language: str


async def get_settings(conn: AsyncConnection) -> PanelSettings:
    row = (await conn.execute(select(*(panel_settings.c[name] for name in EDITABLE)))).one()
    return PanelSettings(**row._mapping)


async def change_settings(conn: AsyncConnection, **values: str) -> None:
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise UNKNOWN_SETTINGS(names=", ".join(sorted(unknown)))
    if "default_language" in values and values["default_language"] not in LANGUAGES:
        raise UNKNOWN_LANGUAGE(codes=", ".join(LANGUAGES))
    if "currency" in values and not (len(values["currency"]) == 3 and values["currency"].isalpha()):
        raise NOT_A_CURRENCY_CODE()
    for name, value in values.items():
        if not value.strip() and name != "payment_instructions":
            raise EMPTY_SETTING(setting=LABELS[name])
        check_fits(panel_settings.c[name], value, LABELS[name])
    await conn.execute(update(panel_settings).values(**values))
