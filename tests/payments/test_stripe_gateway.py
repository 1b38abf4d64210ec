"""The Stripe Checkout gateway against localstripe, a fake Stripe in its own process (with the
Checkout Sessions it lacks added: stripe_fixtures.py), and webhook events signed as Stripe signs
them (https://docs.stripe.com/webhooks#verify-manually)."""

import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

import httpx
import pytest

# The fixtures imported from stripe_fixtures are parameters of the tests below.
# ruff: noqa: F811
from stripe_fixtures import (  # noqa: F401 - fixtures
    SECRET_KEY,
    WEBHOOK_SECRET,
    LocalStripe,
    answering,
    free_port,
    localstripe,
    stripe_webhooks,
)

from smmpanel.money import MICROS
from smmpanel.payments.gateways import (
    FAILED,
    PAID,
    UNCHANGED,
    GatewayUnavailable,
    Links,
    NotVerified,
    Received,
    Starting,
)
from smmpanel.payments.gateways import stripe_checkout as gateway

LINKS = Links(
    notify="https://panel.test/payments/stripe/notify",
    info="https://panel.test/payments/stripe/info",
    back="https://panel.test/funds/payments/41",
)
TOLERANCE = 300  # seconds: how old a signature Stripe's library takes by default


def starting(amount: int, currency: str = "USD", description: str = "Top-up 41") -> Starting:
    return Starting(41, amount, currency, description, datetime.now(UTC))


def settings(base_url: str, secret_key: str = SECRET_KEY) -> dict[str, str]:
    return {"secret_key": secret_key, "webhook_secret": WEBHOOK_SECRET, "base_url": base_url}


def event(
    session: dict[str, Any], type: str = "checkout.session.completed", livemode: bool = False
) -> bytes:
    """An event as Stripe posts it (https://docs.stripe.com/api/events/object)."""
    fields = {
        "id": "evt_test_1",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": int(time.time()),
        "data": {"object": session},
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type,
    }
    return json.dumps(fields).encode()


def signed(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> Received:
    """`Stripe-Signature: t=<timestamp>,v1=<HMAC-SHA256 of "<timestamp>.<body>">`."""
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, sha256).hexdigest()
    return Received(body, {"stripe-signature": f"t={timestamp},v1={mac}"})


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def started(server: LocalStripe, http: httpx.AsyncClient, amount: int, currency: str) -> str:
    checkout = await gateway.start(starting(amount, currency), settings(server.url), LINKS, http)
    return checkout.gateway_id


async def test_start_creates_a_checkout_session(localstripe, http):
    checkout = await gateway.start(starting(12_340_000), settings(localstripe.url), LINKS, http)

    session = localstripe.session(checkout.gateway_id)
    assert checkout.url == session["url"] and checkout.form is None
    assert {
        key: session[key]
        for key in (
            "mode",
            "amount_total",
            "currency",
            "metadata",
            "client_reference_id",
            "success_url",
            "cancel_url",
            "status",
        )
    } == {
        "mode": "payment",
        "amount_total": 1234,
        "currency": "usd",
        "metadata": {"payment_id": "41"},
        "client_reference_id": "41",
        "success_url": LINKS.back,
        "cancel_url": LINKS.back,
        "status": "open",
    }


@pytest.mark.parametrize(
    "amount, currency, minor",
    [
        (500 * MICROS, "JPY", 500),  # zero-decimal
        (12_340_000, "USD", 1234),
        (800_450_000, "TWD", 80045),  # whole units for payouts only
        (5 * MICROS, "ISK", 500),  # whole units written with two decimals
        (5_120_000, "KWD", 5120),  # three decimals, the last one 0
    ],
)
async def test_amounts_reach_stripe_in_its_minor_units(localstripe, http, amount, currency, minor):
    session = localstripe.session(await started(localstripe, http, amount, currency))
    assert (session["amount_total"], session["currency"]) == (minor, currency.lower())


@pytest.mark.parametrize("amount, currency", [(500 * MICROS, "JPY"), (12_340_000, "USD")])
async def test_a_paid_session_is_paid_what_it_charged(localstripe, http, amount, currency):
    session_id = await started(localstripe, http, amount, currency)
    paid = localstripe.pay(session_id)
    received = signed(event(localstripe.session(session_id)))

    assert gateway.claimed_id(received) == session_id
    notice = gateway.verify(received, settings(localstripe.url))
    assert (notice.gateway_id, notice.outcome, notice.amount, notice.currency) == (
        session_id,
        PAID,
        amount,
        currency,
    )
    assert notice.simulated  # a test-mode event
    assert paid["payment_intent"] in notice.summary


def paid_later(server: LocalStripe, session_id: str) -> dict[str, Any]:
    server.pay(session_id, "unpaid")  # a bank debit, say: its result comes later
    return server.session(session_id)


def paid(server: LocalStripe, session_id: str) -> dict[str, Any]:
    server.pay(session_id)
    return server.session(session_id)


def free(server: LocalStripe, session_id: str) -> dict[str, Any]:
    return paid(server, session_id) | {"payment_status": "no_payment_required"}


def expired(server: LocalStripe, session_id: str) -> dict[str, Any]:
    return server.expire(session_id)


@pytest.mark.parametrize(
    "event_type, state, outcome",
    [
        ("checkout.session.completed", paid_later, UNCHANGED),
        ("checkout.session.completed", free, UNCHANGED),
        ("checkout.session.async_payment_succeeded", paid, PAID),
        ("checkout.session.async_payment_failed", paid_later, FAILED),
        ("checkout.session.expired", expired, FAILED),
        ("checkout.session.not_yet_known", paid, UNCHANGED),
    ],
)
async def test_what_each_event_of_a_session_means(
    localstripe,
    http,
    event_type: str,
    state: Callable[[LocalStripe, str], dict[str, Any]],
    outcome: str,
):
    session_id = await started(localstripe, http, 12_340_000, "USD")
    notice = gateway.verify(signed(event(state(localstripe, session_id), event_type)), settings(""))
    assert (notice.gateway_id, notice.outcome) == (session_id, outcome)
    assert notice.amount == (12_340_000 if outcome == PAID else None)


async def test_the_events_localstripe_signs_and_sends_are_verified(
    localstripe, stripe_webhooks, http
):
    session_id = await started(localstripe, http, 500 * MICROS, "JPY")
    localstripe.pay(session_id)

    delivered = stripe_webhooks.about(session_id)
    received = Received(delivered.body, delivered.headers)
    assert gateway.claimed_id(received) == session_id
    notice = gateway.verify(received, settings(localstripe.url))
    assert (notice.outcome, notice.amount, notice.currency) == (PAID, 500 * MICROS, "JPY")


@pytest.fixture
async def paid_event(localstripe: LocalStripe, http: httpx.AsyncClient) -> bytes:
    session_id = await started(localstripe, http, 12_340_000, "USD")
    return event(paid(localstripe, session_id))


def tampered(body: bytes) -> Received:
    changed = body.replace(b'"amount_total": 1234', b'"amount_total": 1')
    assert changed != body
    return Received(changed, signed(body).headers)


def signature_only_in_another_scheme(body: bytes) -> Received:
    header = signed(body).headers["stripe-signature"].replace("v1=", "v0=")
    return Received(body, {"stripe-signature": header})


@pytest.mark.parametrize(
    "forge",
    [
        lambda body: signed(body, secret="whsec_someone_else"),
        tampered,
        lambda body: signed(body, at=int(time.time()) - 2 * TOLERANCE),
        lambda body: Received(body, {}),
        lambda body: Received(body, {"stripe-signature": "garbage"}),
        signature_only_in_another_scheme,
    ],
    ids=["other secret", "body changed", "too old", "no signature", "garbage", "v0 only"],
)
async def test_an_event_stripe_did_not_sign_is_refused(paid_event, forge):
    received = forge(paid_event)
    with pytest.raises(NotVerified):
        gateway.verify(received, settings(""))


GARBAGE = [
    b"",
    b"\xff\xfe",
    b"[]",
    b"null",
    b"[" * 100_000,
    b'{"type": "checkout.session.completed"}',
    b'{"type": "checkout.session.completed", "data": {"object": "cs_test_1"}}',
    b'{"type": "checkout.session.completed", "data": {"object": {"id": "cs_test_1"}}}',
    b'{"type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1"}}}',
]


@pytest.mark.fast
@pytest.mark.parametrize("body", GARBAGE)
def test_garbage_names_no_session_and_is_refused_even_signed(body):
    assert gateway.claimed_id(Received(body, {})) is None
    for received in (Received(body, {}), signed(body)):
        with pytest.raises(NotVerified):
            gateway.verify(received, settings(""))


@pytest.mark.fast
def test_only_live_mode_payments_are_real():
    session = {
        "id": "cs_live_1",
        "object": "checkout.session",
        "payment_status": "paid",
        "amount_total": 1234,
        "currency": "usd",
        "payment_intent": "pi_live_1",
    }
    live = gateway.verify(signed(event(session, livemode=True)), settings(""))
    test = gateway.verify(signed(event(session, livemode=False)), settings(""))
    assert (live.outcome, live.amount, live.simulated) == (PAID, 12_340_000, False)
    assert (test.outcome, test.amount, test.simulated) == (PAID, 12_340_000, True)


@pytest.mark.fast
def test_a_paid_session_without_its_amount_is_refused():
    session = {"id": "cs_test_1", "object": "checkout.session", "payment_status": "paid"}
    with pytest.raises(NotVerified):
        gateway.verify(signed(event(session)), settings(""))


@pytest.mark.fast
async def test_stripe_not_answering_is_unavailable(http):
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(GatewayUnavailable, match="did not answer"):
        await gateway.start(starting(12_340_000), settings(closed), LINKS, http)


@pytest.mark.parametrize(
    "status, body",
    [(200, b"[]"), (200, b"\xff\xfe"), (200, b"{}"), (400, b'{"error": "no"}'), (502, b"<html>")],
)
@pytest.mark.fast
async def test_answers_that_are_not_stripe_s_are_unavailable(http, status, body):
    with answering(status, body) as url, pytest.raises(GatewayUnavailable):
        await gateway.start(starting(12_340_000), settings(url), LINKS, http)


async def test_a_refused_key_is_unavailable(localstripe, http):
    refused = settings(localstripe.url, secret_key="pk_test_publishable")
    with pytest.raises(GatewayUnavailable, match="secret key"):
        await gateway.start(starting(12_340_000), refused, LINKS, http)


async def test_refused_parameters_are_unavailable(localstripe, http):
    nameless = starting(12_340_000, description="")
    with pytest.raises(GatewayUnavailable, match="Stripe refused it"):
        await gateway.start(nameless, settings(localstripe.url), LINKS, http)


@pytest.mark.fast
@pytest.mark.parametrize(
    "amount, currency",
    [(12_500_000, "JPY"), (5_500_000, "ISK"), (1_234_500, "USD"), (5_125_000, "KWD")],
)
async def test_amounts_finer_than_stripe_charges_are_refused_unsent(http, amount, currency):
    closed = f"http://127.0.0.1:{free_port()}"  # asked, it would say "did not answer"
    with pytest.raises(GatewayUnavailable, match="in steps of"):
        await gateway.start(starting(amount, currency), settings(closed), LINKS, http)


@pytest.mark.fast
def test_currencies_are_those_stripe_charges_in():
    assert all(map(gateway.currency_allowed, ["USD", "TWD", "JPY", "KWD", "ISK", "EUR"]))
    assert not any(map(gateway.currency_allowed, ["XAU", "BTC", "usd", ""]))
