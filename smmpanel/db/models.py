"""Every table, imported in one place so migrations and tests see the whole schema."""

from smmpanel.accounts import models as accounts_models
from smmpanel.accounts import operator_audit as operator_audit_models
from smmpanel.accounts import recovery as accounts_recovery
from smmpanel.accounts import two_factor as two_factor_models
from smmpanel.catalog import models as catalog_models
from smmpanel.db.base import metadata
from smmpanel.orders import models as orders_models
from smmpanel.outbox import models as outbox_models
from smmpanel.panel import content as content_pages_models
from smmpanel.panel import models as panel_models
from smmpanel.payments import models as payments_models
from smmpanel.providers import models as providers_models
from smmpanel.support import models as support_models

__all__ = [
    "accounts_models",
    "accounts_recovery",
    "catalog_models",
    "content_pages_models",
    "metadata",
    "operator_audit_models",
    "orders_models",
    "outbox_models",
    "panel_models",
    "payments_models",
    "providers_models",
    "support_models",
    "two_factor_models",
]
