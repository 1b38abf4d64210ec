"""Panel-wide settings."""

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.errors import DomainError, check_fits
from smmpanel.panel.models import panel_settings

# The languages the pages speak, each named in itself for the language switch.
LANGUAGES = {"en": "English", "zh_TW": "繁體中文"}
EDITABLE = ("name", "currency", "payment_instructions", "default_language")


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
        raise DomainError(f"unknown settings: {', '.join(sorted(unknown))}")
    if "default_language" in values and values["default_language"] not in LANGUAGES:
        codes = ", ".join(LANGUAGES)
        raise DomainError(f"the default language must be one of: {codes}")
    if "currency" in values and not (len(values["currency"]) == 3 and values["currency"].isalpha()):
        raise DomainError("currency must be a three-letter code such as USD or TWD")
    for name, value in values.items():
        if not value.strip() and name != "payment_instructions":
            raise DomainError(f"{name.replace('_', ' ')} must not be empty")
        check_fits(panel_settings.c[name], value, name.replace("_", " "))
    await conn.execute(update(panel_settings).values(**values))
