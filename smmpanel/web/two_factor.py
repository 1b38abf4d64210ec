"""The customer's two-factor sign-in page, /account/two-factor: set up with an authenticator
app, recovery codes, turning off (pagekit.two_factor_setup does the work)."""

from fastapi import APIRouter
from starlette.responses import Response

from smmpanel.accounts.two_factor import Account
from smmpanel.pagekit import two_factor_setup
from smmpanel.pagekit.pages import CustomerVisit, Visit
from smmpanel.pagekit.two_factor_setup import Place
from smmpanel.web.auth import CUSTOMERS

router = APIRouter()
PAGE = "/account/two-factor"


def _place(current: Visit) -> Place:
    assert current.customer is not None
    return Place(
        page=PAGE,
        template="web/two_factor.html",
        door=CUSTOMERS,
        account=Account("customer", current.customer.account_id),
        name=current.customer.name,
        issuer=current.panel.name,
    )


@router.get(PAGE)
async def two_factor_page(current: CustomerVisit) -> Response:
    return await two_factor_setup.page(current, _place(current))


@router.post(f"{PAGE}/on")
async def turn_on(current: CustomerVisit) -> Response:
    return await two_factor_setup.turn_on(current, _place(current))


@router.post(f"{PAGE}/recovery-codes")
async def new_recovery_codes(current: CustomerVisit) -> Response:
    return await two_factor_setup.new_codes(current, _place(current))


@router.post(f"{PAGE}/off")
async def turn_off(current: CustomerVisit) -> Response:
    return await two_factor_setup.turn_off(current, _place(current))
