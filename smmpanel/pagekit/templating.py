"""The Jinja2 environment shared by customer and operator pages."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Protocol, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import DateTimePattern, parse_pattern
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from smmpanel.db.base import as_utc
from smmpanel.money import render_balance, render_charge, render_rate
from smmpanel.pagekit import i18n, money_format
from smmpanel.pagekit.ledger import describe_entry, kind_label, payment_status

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


class _GettextInstaller(Protocol):
    """What jinja2.ext.i18n adds to an environment at run time, which its types do not say."""

    def install_gettext_callables(
        self,
        gettext: Callable[[str], str],
        ngettext: Callable[[str, str, int], str],
        newstyle: bool | None = None,
    ) -> None: ...


# How each language shows a moment, by the form a template asks for. Always on the 24-hour
# clock: the locales' own short forms say "清晨7:43" in zh_TW, and "7:43 AM" sorts badly in a
# column. A date alone (`when("date")`) is the viewer's day, without its zone.
TIME_PATTERNS = {
    "en": {"short": "MMM d, y, HH:mm", "medium": "MMM d, y, HH:mm:ss", "date": "MMM d, y"},
    "zh_TW": {"short": "y/MM/dd HH:mm", "medium": "y/MM/dd HH:mm:ss", "date": "y/MM/dd"},
}
DATE_ONLY = "date"


def _when(moment: datetime | None, form: str = "short") -> str:
    """The moment in the viewer's time zone (i18n.current_time_zone), as its language writes
    it, followed by the zone as its offset from UTC ("2026/12/03 15:43 UTC+8")."""
    if moment is None:
        return ""
    language = i18n.current_language.get()
    local = as_utc(moment).astimezone(_zone(i18n.current_time_zone.get()))
    shown = _time_pattern(language, form).apply(local, _locale(language))
    if form == DATE_ONLY:
        return shown
    return f"{shown} {_offset_label(local.utcoffset() or timedelta())}"


# Babel takes some 20 µs to parse a pattern or a locale: the parsed ones are kept, not the
# results, which differ for every moment shown.
@lru_cache(maxsize=32)
def _time_pattern(language: str, form: str) -> DateTimePattern:
    return parse_pattern(TIME_PATTERNS[language][form])


@lru_cache(maxsize=8)
def _locale(language: str) -> Locale:
    return Locale.parse(language)


@lru_cache(maxsize=1024)
def _zone(name: str) -> tzinfo:
    """The zone of this name; UTC for one this system no longer knows (a tzdata update)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


@lru_cache(maxsize=256)
def _offset_label(offset: timedelta) -> str:
    """The zone as its offset, such as UTC+8 or UTC-3:30: the same in every language, and
    what a reader compares with their own clock."""
    minutes = round(offset.total_seconds() / 60)
    if not minutes:
        return "UTC"
    hours, rest = divmod(abs(minutes), 60)
    sign = "+" if minutes > 0 else "-"
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _number(value: int | float) -> str:
    if isinstance(value, int):
        return _whole_number(value, i18n.current_language.get())
    return format_decimal(value, locale=i18n.babel_locale())


@lru_cache(maxsize=4096)
def _whole_number(value: int, language: str) -> str:
    """Pages show the same counts and limits again and again, and Babel takes some 20 µs of
    CPU for each (measured on the operator's catalogue: 100 a page)."""
    return format_decimal(value, locale=language)


def build_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "svg"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the code and change with it: no disk check of each one per render.
        auto_reload=False,
    )
    cast(_GettextInstaller, environment).install_gettext_callables(
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    environment.filters.update(
        balance=money_format.balance,
        charge=money_format.charge,
        rate=money_format.rate,
        amount=money_format.amount,
        plain_balance=render_balance,
        plain_charge=render_charge,
        plain_rate=render_rate,
        when=_when,
        number=_number,
        # The API's English type names, translated on pages (their msgids: catalog.types).
        service_type=i18n.gettext,
    )
    environment.globals.update(
        languages=i18n.LANGUAGES,
        column_decimals=money_format.column_decimals,
        ledger_kind=kind_label,
        ledger_reason=describe_entry,
        payment_status=payment_status,
    )
    return environment
