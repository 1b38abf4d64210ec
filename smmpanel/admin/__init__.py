"""Operator pages under /admin."""

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from smmpanel.admin import (
        auth,
        catalog,
        customers,
        dashboard,
        orders,
        payment_methods,
        payments,
        providers,
        settings,
    )

    return [
        auth.router,
        dashboard.router,
        customers.router,
        catalog.router,
        providers.router,
        orders.router,
        payments.router,
        payment_methods.router,
        settings.router,
    ]
