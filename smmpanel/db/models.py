"""Every table, imported in one place so migrations and tests see the whole schema."""

from smmpanel.accounts import models as accounts_models
from smmpanel.catalog import models as catalog_models
from smmpanel.db.base import metadata
from smmpanel.orders import models as orders_models
from smmpanel.panel import models as panel_models
from smmpanel.payments import models as payments_models
from smmpanel.providers import models as providers_models

__all__ = [
    "accounts_models",
    "catalog_models",
    "metadata",
    "orders_models",
    "panel_models",
    "payments_models",
    "providers_models",
]
