"""The customer pages' routes."""

from fastapi import APIRouter, Depends
from starlette.responses import Response

from smmpanel.pagekit.pages import AnyVisit
from smmpanel.web import (
    account,
    api_page,
    auth,
    content_pages,
    dashboard,
    funds,
    orders,
    password_reset,
    payment_notices,
    services_page,
    tickets,
    two_factor,
    updates_page,
)

home_router = APIRouter()


@home_router.get("/")
async def home(current: AnyVisit) -> Response:
    if current.customer is not None:
        return current.redirect("/dashboard")
    return current.render("web/home.html")


def routers() -> list[APIRouter]:
    customer = [home_router, auth.router, dashboard.router, orders.router, funds.router]
    customer += [services_page.router, updates_page.router]
    customer += [password_reset.router, account.router]
    customer += [tickets.router, two_factor.router, content_pages.router, api_page.router]
    # Every customer page's footer links to the published pages (base.html).
    with_footer = APIRouter(dependencies=[Depends(content_pages.footer_links)])
    for router in customer:
        with_footer.include_router(router)
    return [with_footer, payment_notices.router]
