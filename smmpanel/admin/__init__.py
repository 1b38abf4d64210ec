"""Operator pages under /admin.

Every page but signing in and out is reached through `guarded`, whose dependency refuses a
route the operator's role may not use (admin/roles.py).
"""

from fastapi import APIRouter, Depends


def routers() -> list[APIRouter]:
    from smmpanel.admin import (
        audit,
        auth,
        catalog,
        catalog_mapping,
        catalog_transfer,
        content_pages,
        customer_discount,
        customers,
        dashboard,
        me,
        operators,
        orders,
        outbox,
        payment_methods,
        payments,
        providers,
        roles,
        settings,
        tickets,
        two_factor,
    )

    guarded = APIRouter(dependencies=[Depends(roles.require_role)])
    for router in (
        dashboard.router,
        customers.router,
        customer_discount.router,
        catalog.router,
        catalog_mapping.router,
        catalog_transfer.router,
        providers.router,
        orders.router,
        payments.router,
        payment_methods.router,
        settings.router,
        operators.router,
        audit.router,
        tickets.router,
        two_factor.router,
        me.router,
        outbox.router,
        content_pages.router,
    ):
        guarded.include_router(router)
    return [auth.router, two_factor.sign_in_router, guarded]
