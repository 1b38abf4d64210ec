"""An operator's own page, /admin/me (every role): the time zone they read the admin pages'
times in, or the panel's default."""

from fastapi import APIRouter
from starlette.responses import Response

from smmpanel.accounts.operators import set_operator_time_zone
from smmpanel.accounts.service import time_zones
from smmpanel.errors import Refusal
from smmpanel.pagekit import i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit, Visit

router = APIRouter()
PAGE = "/admin/me"


def _render(
    current: Visit, chosen_zone: str, status_code: int = 200, error: str | None = None
) -> Response:
    return current.render(
        "admin/me.html",
        status_code,
        chosen_zone=chosen_zone,
        time_zones=time_zones(),
        error=error,
    )


@router.get(PAGE)
async def my_page(current: OperatorVisit) -> Response:
    assert current.operator is not None
    return _render(current, current.operator.time_zone or "")


@router.post(PAGE)
async def save_my_time_zone(current: OperatorVisit) -> Response:
    assert current.operator is not None
    form = await current.form()
    chosen_zone = str(form.get("time_zone", "")).strip()
    try:
        async with current.db.write() as conn:
            await set_operator_time_zone(conn, current.operator.account_id, chosen_zone or None)
    except Refusal as refused:
        return _render(current, chosen_zone, 400, i18n.explain(refused))
    return current.redirect(PAGE, _("Your time zone is saved."))
