"""Operator pages: panel-wide settings (name, currency, payment instructions, language) and the
exchange rates providers in other currencies are priced with."""

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import FormData
from starlette.responses import Response

from smmpanel.errors import Refusal, refusal
from smmpanel.money import render_rate
from smmpanel.pagekit import i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit, Visit
from smmpanel.panel.rates import rates, read_rate, set_rate
from smmpanel.panel.service import EDITABLE, change_settings

router = APIRouter()
PATH = "/admin/settings"
RATE_FIELD = "rate_"  # + the currency code: the rate of a currency that has one

CHOOSE_LANGUAGE = refusal("form_choose_language", "Choose one of the languages offered.")
NEW_RATE_WITHOUT_CODE = refusal(
    "form_new_rate_without_code", "Give the currency code of the new exchange rate."
)


def _render(
    current: Visit,
    typed: dict[str, str],
    typed_rates: dict[str, str],
    new_rate: dict[str, str],
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    return current.render(
        "admin/settings.html",
        status_code,
        typed=typed,
        rates=typed_rates,
        new_rate=new_rate,
        error=error,
    )


@router.get(PATH)
async def settings_page(current: OperatorVisit) -> Response:
    typed = {name: getattr(current.panel, name) for name in EDITABLE}
    async with current.db.read() as conn:
        stored = await rates(conn)
    typed_rates = {code: render_rate(micros) for code, micros in stored.items()}
    return _render(current, typed, typed_rates, {"currency": "", "rate": ""})


@router.post(PATH)
async def save_settings(current: OperatorVisit) -> Response:
    form = await current.form()
    typed = {name: str(form.get(name, "")) for name in EDITABLE}
    typed["name"] = typed["name"].strip()
    typed["currency"] = typed["currency"].strip().upper()
    typed_rates = _typed_rates(form)
    new_rate = {
        "currency": str(form.get("new_rate_currency", "")).strip().upper(),
        "rate": str(form.get("new_rate", "")).strip(),
    }
    try:
        # The panel service stores any language code; only those the pages speak are offered.
        if i18n.known_language(typed["default_language"]) != typed["default_language"]:
            raise CHOOSE_LANGUAGE()
        async with current.db.write() as conn:
            await _save(conn, typed, typed_rates, new_rate)
    except Refusal as error:
        explained = i18n.explain(error)
        return _render(current, typed, typed_rates, new_rate, 400, explained)
    return current.redirect(PATH, _("Settings saved."))


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
    await change_settings(conn, **typed)
    for code, text in typed_rates.items():
        micros = read_rate(code, text)
        if code in stored and micros != stored[code]:
            await set_rate(conn, code, micros)
    if new_rate["currency"] or new_rate["rate"]:
        if not new_rate["currency"]:
            raise NEW_RATE_WITHOUT_CODE()
        code = new_rate["currency"]
        await set_rate(conn, code, read_rate(code, new_rate["rate"]))
