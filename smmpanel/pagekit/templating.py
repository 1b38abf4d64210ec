"""The Jinja2 environment shared by customer and operator pages."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Protocol, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import get_month_names, tokenize_pattern
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.nodes import EvalContext
from jinja2.utils import pass_eval_context
from markupsafe import Markup

from smmpanel.db.base import as_utc
from smmpanel.money import render_balance, render_charge, render_rate
from smmpanel.pagekit import i18n, money_format
from smmpanel.pagekit.ledger import describe_entry, kind_label, payment_status
from smmpanel.pagekit.order_rows import not_started

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
    local = as_utc(moment).astimezone(_zone(i18n.current_time_zone.get()))
    shown = _time_writer(i18n.current_language.get(), form)(local)
    if form == DATE_ONLY:
        return shown
    return f"{shown} {_offset_label(local.utcoffset() or timedelta())}"


# The fields of TIME_PATTERNS, as str.format writes them from a moment ({0}) and its month's
# name ({1}): what Babel's DateTimePattern.apply writes, in a third of its time (2 µs a moment,
# measured; a page of orders shows 25).
_FIELDS = {
    ("y", 1): "{0.year}",
    ("M", 2): "{0.month:02d}",
    ("M", 3): "{1}",
    ("d", 1): "{0.day}",
    ("d", 2): "{0.day:02d}",
    ("H", 2): "{0.hour:02d}",
    ("m", 2): "{0.minute:02d}",
    ("s", 2): "{0.second:02d}",
}


@lru_cache(maxsize=32)
def _time_writer(language: str, form: str) -> Callable[[datetime], str]:
    """How `language` writes a moment in `form` (TIME_PATTERNS), read from Babel once."""
    template = "".join(
        _template_part(value) for _kind, value in tokenize_pattern(TIME_PATTERNS[language][form])
    )
    months = get_month_names("abbreviated", "format", _locale(language))
    return lambda local: template.format(local, months[local.month])


def _template_part(value: str | tuple[str, int]) -> str:
    """A field's format (its letter and width), or literal text."""
    if isinstance(value, tuple):
        return _FIELDS[value]
    return value.replace("{", "{{").replace("}", "}}")


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


# jinja2.ext.i18n's newstyle callables, each reached in one call instead of three (its `_` calls
# `gettext` through the context, which calls the translation through it again): a page
# translates some 50 to 300 strings.
@pass_eval_context
def _gettext(eval_context: EvalContext, message: str, **variables: object) -> str:
    return _filled(eval_context, i18n.gettext(message), variables)


@pass_eval_context
def _ngettext(
    eval_context: EvalContext, singular: str, plural: str, num: int, **variables: object
) -> str:
    return _filled(eval_context, i18n.ngettext(singular, plural, num), {"num": num, **variables})


def _filled(eval_context: EvalContext, text: str, variables: dict[str, object]) -> str:
    """As newstyle gettext does: always a format string, its variables escaped."""
    if eval_context.autoescape:
        text = Markup(text)
    return text % variables if variables or "%" in text else text


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
    environment.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext)
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
    environment.tests["not_started"] = not_started
    environment.globals.update(
        languages=i18n.LANGUAGES,
        column_decimals=money_format.column_decimals,
        ledger_kind=kind_label,
        ledger_reason=describe_entry,
        payment_status=payment_status,
        # A table's labels, translated once: `{% set label = labels(id=_('ID')) %}`, then
        # `label.id` in each row. Jinja reads an attribute of an object in a tenth of the time
        # it takes to find a dict's key that way (it tries the attribute first and fails).
        labels=SimpleNamespace,
    )
    return environment
