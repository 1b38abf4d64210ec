"""The Jinja2 environment shared by customer and operator pages."""

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Protocol, cast

from babel.dates import format_datetime
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from smmpanel.db.base import as_utc
from smmpanel.money import render_balance, render_charge, render_rate
from smmpanel.pagekit import i18n
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


def _when(moment: datetime | None, form: str = "short") -> str:
    if moment is None:
        return ""
    return format_datetime(as_utc(moment), form, tzinfo=None, locale=i18n.babel_locale())


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
        balance=render_balance,
        charge=render_charge,
        rate=render_rate,
        when=_when,
        number=_number,
    )
    environment.globals.update(
        languages=i18n.LANGUAGES,
        ledger_kind=kind_label,
        ledger_reason=describe_entry,
        payment_status=payment_status,
    )
    return environment
