"""Operator sign-in and sign-out: a separate session cookie, scoped to /admin."""

from fastapi import APIRouter
from starlette.responses import Response

from smmpanel.accounts.models import OPERATOR_ACTIVE
from smmpanel.accounts.operators import Operator, operator_by_name
from smmpanel.errors import Refusal, refusal
from smmpanel.pagekit import signing_in
from smmpanel.pagekit.pages import OPERATOR_COOKIE, AnyVisit
from smmpanel.pagekit.sessions import OPERATOR_SESSION_HOURS, start_operator_session
from smmpanel.pagekit.signing_in import Door
from smmpanel.panel.service import PanelSettings

router = APIRouter()

OPERATOR_DISABLED = refusal(
    "operator_disabled",
    "This operator is disabled. Another operator can enable it with `smmpanel operator enable`.",
)


def _disabled(account: Operator) -> Refusal | None:
    return OPERATOR_DISABLED() if account.status != OPERATOR_ACTIVE else None


def _two_factor_required(panel: PanelSettings) -> bool:
    return panel.operators_need_two_factor


OPERATORS = Door(
    path="/admin/signin",
    template="admin/signin.html",
    layout="admin/layout.html",
    kind="operator",
    home="/admin",
    find_account=operator_by_name,
    start_session=start_operator_session,
    cookie=OPERATOR_COOKIE,
    cookie_path="/admin",
    session_seconds=OPERATOR_SESSION_HOURS * 3600,
    # Operator names share the failure counter with customer names; the prefix keeps them apart.
    throttle_prefix="operator:",
    why_refused=_disabled,
    must_set_up=_two_factor_required,
    set_up_path="/admin/signin/set-up",
)


@router.get("/admin/signin")
async def sign_in_page(current: AnyVisit, next: str = "") -> Response:
    return signing_in.sign_in_page(current, OPERATORS, next)


@router.post("/admin/signin")
async def sign_in(current: AnyVisit) -> Response:
    return await signing_in.sign_in(current, OPERATORS)


@router.get("/admin/signin/code")
async def code_page(current: AnyVisit) -> Response:
    return signing_in.code_page(current, OPERATORS)


@router.post("/admin/signin/code")
async def enter_code(current: AnyVisit) -> Response:
    return await signing_in.enter_code(current, OPERATORS)


@router.post("/admin/signout")
async def sign_out(current: AnyVisit) -> Response:
    return await signing_in.sign_out(current, OPERATORS)
