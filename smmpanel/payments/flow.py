"""A payment's way through the gateway: started by the customer, settled by verified notices.

The gateway is called outside any transaction: a payment is opened (committed) before its
gateway hears of it, and a notice is verified before the transaction that acts on it.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from types import ModuleType
from typing import cast

import httpx

from smmpanel.db import Database
from smmpanel.errors import refusal
from smmpanel.money import parse_amount, render_rate
from smmpanel.payments.gateways import (
    Checkout,
    GatewayUnavailable,
    Links,
    NotVerified,
    Received,
    Reply,
    Starting,
)
from smmpanel.payments.gateways.registry import gateway
from smmpanel.payments.methods import Method, list_methods, method_by_id
from smmpanel.payments.service import (
    METHOD_DISABLED,
    apply_notice,
    fail,
    open_payment,
    payment_at_gateway,
    payment_by_id,
    record_notice,
    set_gateway_id,
)

log = logging.getLogger("smmpanel.payments")

AMOUNT_STEP = refusal(
    "payment_amount_step", "%(method)s takes amounts in steps of %(step)s %(currency)s"
)
GATEWAY_UNAVAILABLE = refusal(
    "payment_gateway_unavailable",
    "the payment could not be started: %(problem)s. Try again in a minute or pick another method",
)


@dataclass(frozen=True)
class Started:
    payment_id: int
    checkout: Checkout | None  # None for a manual payment: nothing to do but wait


async def start_payment(
    db: Database,
    http: httpx.AsyncClient,
    *,
    customer_id: int,
    method_id: int,
    amount_text: str,
    lifetime: timedelta,
    base_url: str,
    reference: str | None = None,
    description: str = "",
) -> Started:
    """Open a payment and hand it to its gateway, giving it the panel's addresses under
    `base_url`; a manual one (with the customer's `reference`) waits for an operator."""
    amount = parse_amount(amount_text)
    async with db.write() as conn:
        method = await method_by_id(conn, method_id)
        if not method.enabled:
            raise METHOD_DISABLED()
        if method.gateway == "manual":
            payment_id = await open_payment(
                conn, customer_id, method, amount, lifetime, reference=reference or ""
            )
            return Started(payment_id, None)
        module = gateway(method.gateway)
        currency = method.terms.currency
        step = module.amount_step(currency)
        if amount % step:
            raise AMOUNT_STEP(method=method.name, step=render_rate(step), currency=currency)
        payment_id = await open_payment(conn, customer_id, method, amount, lifetime)
        payment = await payment_by_id(conn, payment_id)
    starting = Starting(
        payment_id,
        amount,
        method.terms.currency,
        description or f"Balance top-up {payment_id}",
        payment.created_at,
    )
    try:
        links = LinksFor(base_url, method.gateway)(payment_id)
        checkout = await module.start(starting, method.settings, links, http)
    except GatewayUnavailable as problem:
        log.warning(
            "gateway unavailable", extra={"payment_id": payment_id, "problem": str(problem)}
        )
        async with db.write() as conn:
            await fail(conn, payment_id, f"the gateway did not start it: {problem}")
        raise GATEWAY_UNAVAILABLE(problem=str(problem)) from None
    async with db.write() as conn:
        await set_gateway_id(conn, payment_id, checkout.gateway_id)
    return Started(payment_id, checkout)


# Where each gateway sends its notices (the routes are web.payment_notices').
NOTICE_PATHS = {
    "ecpay": "/payments/ecpay/notify",
    "stripe": "/payments/stripe/webhook",
    "cryptomus": "/payments/cryptomus/webhook",
}
INFO_PATH = "/payments/ecpay/info"  # ECPay's payment-info notices (ATM account, store code)


class LinksFor:
    """The panel's addresses for one payment, from the panel's public address."""

    def __init__(self, base_url: str, gateway_name: str) -> None:
        self.base = base_url.rstrip("/")
        self.gateway = gateway_name

    def __call__(self, payment_id: int) -> Links:
        return Links(
            notify=self.base + NOTICE_PATHS.get(self.gateway, ""),
            info=self.base + INFO_PATH,
            back=f"{self.base}/funds/payments/{payment_id}",
        )


async def receive_notice(
    db: Database, gateway_name: str, received: Received, *, live: bool
) -> Reply:
    """Verify a gateway's notice against the keys of the payment it names and act on it;
    the reply the gateway expects. A notice naming no payment, or not signed with its method's
    keys, changes nothing."""
    module = gateway(gateway_name)
    claimed = module.claimed_id(received)
    async with db.read() as conn:
        found = None if claimed is None else await payment_at_gateway(conn, gateway_name, claimed)
        methods = await list_methods(conn)
    if found is None:
        return _about_no_payment(module, gateway_name, received, claimed, methods)
    payment, method = found
    body = received.body.decode("utf-8", "replace")
    try:
        notice = module.verify(received, method.settings)
    except NotVerified as why:
        log.warning("notice not verified", extra={"payment_id": payment.id, "problem": str(why)})
        async with db.write() as conn:
            await record_notice(
                conn, payment.id, verified=False, outcome=f"refused: {why}", body=body
            )
        return module.REFUSED
    async with db.write() as conn:
        current = await payment_by_id(conn, payment.id)
        merchant = method.settings.get("merchant_id") or method.settings.get("merchant")
        outcome = await apply_notice(conn, current, notice, merchant=merchant, live=live)
        await record_notice(conn, payment.id, verified=True, outcome=outcome, body=body)
    log.info("notice", extra={"payment_id": payment.id, "outcome": outcome})
    return module.ACCEPTED


def _about_no_payment(
    module: ModuleType,
    gateway_name: str,
    received: Received,
    claimed: str | None,
    methods: list[Method],
) -> Reply:
    """A notice that names no payment of this panel: taken (and ignored) if one of the
    gateway's methods' keys signed it, so the gateway stops sending it; refused otherwise."""
    for method in methods:
        if method.gateway != gateway_name:
            continue
        try:
            module.verify(received, method.settings)
        except NotVerified:
            continue
        log.info("notice for no payment", extra={"gateway": gateway_name, "id": claimed})
        return cast(Reply, module.ACCEPTED)
    log.warning("notice refused", extra={"gateway": gateway_name, "id": claimed})
    return cast(Reply, module.REFUSED)
