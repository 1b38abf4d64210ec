"""The gateways that talk to the panel, by name; each module is imported when first used
(Stripe's library is large). `manual` has none: an operator approves its payments."""

import importlib
from types import ModuleType

MODULES = {
    "ecpay": "smmpanel.payments.gateways.ecpay",
    "stripe": "smmpanel.payments.gateways.stripe_checkout",
    "cryptomus": "smmpanel.payments.gateways.cryptomus",
}


def gateway(name: str) -> ModuleType:
    return importlib.import_module(MODULES[name])
