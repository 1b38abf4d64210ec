"""An operator's two-factor sign-in page, /admin/two-factor (every role), and the set-up an
operator without it is sent to after the password when the owner requires it of all: there
the operator has no session yet, only the pending step of signing in, and gets the session
once the first code proves the app works."""

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from smmpanel.accounts.operator_audit import record
from smmpanel.accounts.two_factor import Account
from smmpanel.admin.auth import OPERATORS
from smmpanel.errors import Refusal, refusal
from smmpanel.pagekit import i18n, signing_in, two_factor_setup
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import AnyVisit, OperatorVisit, Visit
from smmpanel.pagekit.sessions import start_operator_session
from smmpanel.pagekit.signing_in import SET_UP, Pending
from smmpanel.pagekit.two_factor_setup import Place

router = APIRouter()  # behind the role check: a signed-in operator's own page
sign_in_router = APIRouter()  # part of signing in: no session yet
PAGE = "/admin/two-factor"

REQUIRED_OF_OPERATORS = refusal(
    "two_factor_required_of_operators",
    "The owner requires two-factor sign-in of every operator: it cannot be turned off.",
)


def _place(current: Visit, operator_id: int, name: str) -> Place:
    required = current.panel.operators_need_two_factor
    return Place(
        page=PAGE,
        template="admin/two_factor.html",
        door=OPERATORS,
        account=Account("operator", operator_id),
        name=name,
        issuer=f"{current.panel.name} (admin)",
        off_refused=REQUIRED_OF_OPERATORS() if required else None,
        set_up_action=OPERATORS.set_up_path if current.operator is None else "",
        noted=_audit(operator_id),
    )


def _audit(operator_id: int) -> Callable[[AsyncConnection, str], Awaitable[None]]:
    """The audit row of a change to the operator's own two-factor sign-in; recorded by its id
    rather than the session's, as the required set-up comes before any session."""

    async def noted(conn: AsyncConnection, change: str) -> None:
        subject = f"operator:{operator_id}"
        await record(conn, operator_id=operator_id, action=f"two_factor.{change}", subject=subject)

    return noted


def _own_place(current: Visit) -> Place:
    assert current.operator is not None
    return _place(current, current.operator.account_id, current.operator.name)


@router.get(PAGE)
async def two_factor_page(current: OperatorVisit) -> Response:
    return await two_factor_setup.page(current, _own_place(current))


@router.post(f"{PAGE}/on")
async def turn_on(current: OperatorVisit) -> Response:
    return await two_factor_setup.turn_on(current, _own_place(current))


@router.post(f"{PAGE}/recovery-codes")
async def new_recovery_codes(current: OperatorVisit) -> Response:
    return await two_factor_setup.new_codes(current, _own_place(current))


@router.post(f"{PAGE}/off")
async def turn_off(current: OperatorVisit) -> Response:
    return await two_factor_setup.turn_off(current, _own_place(current))


def _pending(current: Visit) -> Pending | None:
    return signing_in.pending_of(current, OPERATORS, SET_UP)


@sign_in_router.get(OPERATORS.set_up_path)
async def required_set_up_page(current: AnyVisit) -> Response:
    pending = _pending(current)
    if pending is None:
        return current.redirect(OPERATORS.path)
    return await two_factor_setup.page(current, _place(current, pending.account_id, pending.name))


@sign_in_router.post(OPERATORS.set_up_path)
async def required_set_up(current: AnyVisit) -> Response:
    form = await current.form()
    pending = _pending(current)
    if pending is None:
        return current.redirect(OPERATORS.path, i18n.explain(signing_in.SIGN_IN_AGAIN()), "error")
    place = _place(current, pending.account_id, pending.name)
    try:
        codes = await two_factor_setup.confirm(current, place, form)
    except Refusal as refused:
        secret = two_factor_setup.secret_of(current, place, form)
        return await two_factor_setup.page(current, place, 400, i18n.explain(refused), secret)
    async with current.db.write() as conn:
        token = await start_operator_session(conn, pending.account_id)
    two_factor_setup.keep_codes_to_show(current, place, codes)
    message = _("Two-factor sign-in is on.")
    return signing_in.finish_sign_in(current, OPERATORS, token, PAGE, message)
