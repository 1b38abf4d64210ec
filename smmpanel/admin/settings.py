"""Operator pages: panel-wide settings (name, currency, payment instructions, language, the
default time zone) and the exchange rates providers in other currencies are priced with."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import FormData
from starlette.responses import Response

from smmpanel.accounts import two_factor
from smmpanel.accounts.service import time_zones
from smmpanel.admin.audit import note
from smmpanel.errors import Refusal, refusal
from smmpanel.money import render_rate
from smmpanel.pagekit import i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit, Visit
from smmpanel.panel.rates import rates, read_rate, set_rate
from smmpanel.panel.service import (
    EDITABLE,
    change_settings,
    require_operator_two_factor,
    set_default_time_zone,
)

router = APIRouter()
PATH = "/admin/settings"
RATE_FIELD = "rate_"  # + the currency code: the rate of a currency that has one

CHOOSE_LANGUAGE = refusal("form_choose_language", "Choose one of the languages offered.")
NEW_RATE_WITHOUT_CODE = refusal(
    "form_new_rate_without_code", "Give the currency code of the new exchange rate."
)
OWN_TWO_FACTOR_FIRST = refusal(
    "two_factor_own_first",
    "Turn on two-factor sign-in for yourself first, then require it of every operator.",
)


def _render(
    current: Visit,
    typed: dict[str, str],
    typed_rates: dict[str, str],
    new_rate: dict[str, str],
    status_code: int = 200,
    error: str | None = None,
    two_factor_required: bool | None = None,
) -> Response:
    if two_factor_required is None:
        two_factor_required = current.panel.operators_need_two_factor
    return current.render(
        "admin/settings.html",
        status_code,
        two_factor_required=two_factor_required,
        typed=typed,
        rates=typed_rates,
        new_rate=new_rate,
        error=error,
        time_zones=time_zones(),
    )


@router.get(PATH)
async def settings_page(current: OperatorVisit) -> Response:
    typed = {name: getattr(current.panel, name) for name in (*EDITABLE, "time_zone")}
    async with current.db.read() as conn:
        stored = await rates(conn)
    typed_rates = {code: render_rate(micros) for code, micros in stored.items()}
    return _render(current, typed, typed_rates, {"currency": "", "rate": ""})


@router.post(PATH)
async def save_settings(current: OperatorVisit) -> Response:
    form = await current.form()
    typed = {name: str(form.get(name, "")) for name in (*EDITABLE, "time_zone")}
    typed["name"] = typed["name"].strip()
    # A form without the field (an older page) leaves the zone as it is.
    typed["time_zone"] = str(form.get("time_zone", current.panel.time_zone)).strip()
    typed["currency"] = typed["currency"].strip().upper()
    typed_rates = _typed_rates(form)
    new_rate = {
        "currency": str(form.get("new_rate_currency", "")).strip().upper(),
        "rate": str(form.get("new_rate", "")).strip(),
    }
    two_factor_required = form.get("operators_need_two_factor") == "on"
    try:
        # The panel service stores any language code; only those the pages speak are offered.
        if i18n.known_language(typed["default_language"]) != typed["default_language"]:
            raise CHOOSE_LANGUAGE()
        async with current.db.write() as conn:
            await _save(conn, typed, typed_rates, new_rate)
            await note(conn, current, "settings.change", "settings", _settings_detail(typed))
            await _save_two_factor_rule(conn, current, two_factor_required)
    except Refusal as error:
        explained = i18n.explain(error)
        return _render(current, typed, typed_rates, new_rate, 400, explained, two_factor_required)
    return current.redirect(PATH, _("Settings saved."))


def _settings_detail(typed: dict[str, str]) -> str:
    """The short settings as saved; the instructions only by their length."""
    return ", ".join(
        f"{name}={value}" if len(value) <= 40 else f"{name}=({len(value)} characters)"
        for name, value in typed.items()
    )


async def _save_two_factor_rule(conn: AsyncConnection, current: Visit, required: bool) -> None:
    """The owner's rule that every operator signs in with two-factor sign-in. It is turned on
    by one who has it; operators without it are signed out then, and their next sign-in sets
    it up before any other admin page."""
    if required == current.panel.operators_need_two_factor:
        return
    if required:
        assert current.operator is not None
        owner = two_factor.Account("operator", current.operator.account_id)
        if not await two_factor.is_on(conn, owner):
            raise OWN_TWO_FACTOR_FIRST()
        await two_factor.end_sessions_of_operators_without_it(conn)
    await require_operator_two_factor(conn, required)
    detail = "operators_need_two_factor=" + ("yes" if required else "no")
    await note(conn, current, "settings.change", "settings", detail)


def _typed_rates(form: FormData) -> dict[str, str]:
    """The rates as typed, by currency code, in the order of the form."""
    return {
        name.removeprefix(RATE_FIELD): str(value).strip()
        for name, value in form.items()
        if name.startswith(RATE_FIELD)
    }


async def _save(
    conn: AsyncConnection,
    typed: dict[str, str],
    typed_rates: dict[str, str],
    new_rate: dict[str, str],
) -> None:
    """The settings first, then each rate changed and the new one, in the currency saved: a
    changed currency has removed the rates that were in the old one."""
    stored = await rates(conn)
    await change_settings(conn, **{name: typed[name] for name in EDITABLE})
    await set_default_time_zone(conn, typed["time_zone"])
    for code, text in typed_rates.items():
        micros = read_rate(code, text)
        if code in stored and micros != stored[code]:
            await set_rate(conn, code, micros)
    if new_rate["currency"] or new_rate["rate"]:
        if not new_rate["currency"]:
            raise NEW_RATE_WITHOUT_CODE()
        code = new_rate["currency"]
        await set_rate(conn, code, read_rate(code, new_rate["rate"]))
