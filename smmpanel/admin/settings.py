"""Operator pages: panel-wide settings (name, currency, payment instructions, language)."""

from fastapi import APIRouter
from starlette.responses import Response

from smmpanel.errors import Refusal, refusal
from smmpanel.pagekit import i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit
from smmpanel.panel.service import EDITABLE, change_settings

router = APIRouter()
PATH = "/admin/settings"

CHOOSE_LANGUAGE = refusal("form_choose_language", "Choose one of the languages offered.")


@router.get(PATH)
async def settings_page(current: OperatorVisit) -> Response:
    typed = {name: getattr(current.panel, name) for name in EDITABLE}
    return current.render("admin/settings.html", typed=typed, error=None)


@router.post(PATH)
async def save_settings(current: OperatorVisit) -> Response:
    form = await current.form()
    typed = {name: str(form.get(name, "")) for name in EDITABLE}
    typed["name"] = typed["name"].strip()
    typed["currency"] = typed["currency"].strip().upper()

    try:
        # The panel service stores any language code; only those the pages speak are offered.
        if i18n.known_language(typed["default_language"]) != typed["default_language"]:
            raise CHOOSE_LANGUAGE()
        async with current.db.write() as conn:
            await change_settings(conn, **typed)
    except Refusal as error:
        return current.render("admin/settings.html", 400, typed=typed, error=i18n.explain(error))
    return current.redirect(PATH, _("Settings saved."))
