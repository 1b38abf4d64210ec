"""Stripe Checkout: the customer pays on a page Stripe hosts, and Stripe's signed webhook events
tell the panel how it went (https://docs.stripe.com/checkout/fulfillment).

Stripe counts amounts in each currency's minor unit as Stripe defines it, which is not always
ISO 4217's (https://docs.stripe.com/currencies#minor-units): the tables below are that page's.
"""

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import httpx
import stripe
from stripe.params.checkout import SessionCreateParams

from smmpanel.money import MICROS, render_rate
from smmpanel.panel.rates import is_currency_code
from smmpanel.payments.gateways import (
    FAILED,
    PAID,
    UNCHANGED,
    Checkout,
    GatewayUnavailable,
    Links,
    Notice,
    NotVerified,
    Received,
    Reply,
    Starting,
)

REQUIRED_SETTINGS = ("secret_key", "webhook_secret")
OPTIONAL_SETTINGS = ("base_url",)  # the API's address, https://api.stripe.com unless set
ACCEPTED = Reply(200, "ok")
REFUSED = Reply(400, "invalid signature")  # Stripe sends it again, for up to three days


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The presentment currencies of https://docs.stripe.com/currencies#presentment-currencies
# (which of them an account may charge in depends on its country), and the three-decimal ones.
PRESENTMENT = _codes(
    """
    USD AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BIF BMD BND BOB BRL BSD BWP BYN
    BZD CAD CDF CHF CLP CNY COP CRC CVE CZK DJF DKK DOP DZD EGP ETB EUR FJD FKP GBP GEL GIP GMD
    GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR ISK JMD JPY KES KGS KHR KMF KRW KYD KZT LAK LBP LKR
    LRD LSL MAD MDL MGA MKD MMK MNT MOP MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN
    PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SEK SGD SHP SLE SOS SRD STD SZL THB TJS
    TOP TRY TTD TWD TZS UAH UGX UYU UZS VND VUV WST XAF XCD XOF XPF YER ZAR ZMW
    BHD JOD KWD OMR TND
    """
)
# #zero-decimal: the amount is in whole units ("to charge 500 JPY, provide an amount value of
# 500"). The page lists UGX there too, but its special cases say otherwise: see below.
ZERO_DECIMAL = _codes("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF VND VUV XAF XOF XPF")
# #three-decimal: three decimals, "the least-significant (last) digit to be 0".
THREE_DECIMAL = _codes("BHD JOD KWD OMR TND")
# #special-cases: ISK and UGX "transitioned to a zero-decimal currency, but backwards
# compatibility requires you to represent it as a two-decimal value, where the decimal amount
# is always 00. For example, to charge 5 ISK, provide an amount value of 500." HUF and TWD are
# whole units for payouts only, "even though you can charge two-decimal amounts".
WHOLE_IN_TWO_DECIMALS = frozenset({"ISK", "UGX"})
WHOLE_ONLY = ZERO_DECIMAL | WHOLE_IN_TWO_DECIMALS
CENT = MICROS // 100


def currency_allowed(code: str) -> bool:
    return code in PRESENTMENT and is_currency_code(code)


def amount_step(code: str) -> int:
    """The smallest amount Stripe charges in `code`, in millionths; amounts are its multiples."""
    return MICROS if code in WHOLE_ONLY else CENT


def _exponent(code: str) -> int:
    """How many decimals Stripe's `amount` values have in `code`."""
    if code in ZERO_DECIMAL:
        return 0
    return 3 if code in THREE_DECIMAL else 2


def _to_minor(amount: int, code: str) -> int:
    step = amount_step(code)
    if amount % step:
        raise GatewayUnavailable(
            f"Stripe charges {code} in steps of {render_rate(step)}, "
            f"and {render_rate(amount)} is not one"
        )
    return amount * 10 ** _exponent(code) // MICROS


def _from_minor(minor: int, code: str) -> int:
    return minor * MICROS // 10 ** _exponent(code)


class _PanelHttp(stripe.HTTPClient):
    """Stripe's library sending its requests with the panel's HTTP client (pool, timeouts)."""

    name = "httpx"

    def __init__(self, http: httpx.AsyncClient) -> None:
        super().__init__()
        self._http = http

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            response = await self._http.request(method, url, headers=headers, content=post_data)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            problem = f"{type(error).__name__}: {error}"
            raise stripe.APIConnectionError(problem, should_retry=True) from error
        return response.content, response.status_code, response.headers

    async def sleep_async(self, secs: float) -> None:
        await asyncio.sleep(secs)

    async def close_async(self) -> None:
        """The panel's client stays open: it is not ours to close."""


async def start(
    payment: Starting, settings: Mapping[str, str], links: Links, http: httpx.AsyncClient
) -> Checkout:
    """Create a Checkout Session for the payment; the customer goes to its page."""
    params = _session_params(payment, links)
    base_url = settings.get("base_url", "").strip().rstrip("/")
    client = stripe.StripeClient(
        settings["secret_key"],
        base_addresses={"api": base_url} if base_url else None,
        http_client=_PanelHttp(http),
        max_network_retries=1,  # with the idempotency key the library adds: one session at most
    )
    try:
        session = (await client.v1.checkout.sessions.create_async(params)).to_dict()
    except stripe.StripeError as error:
        raise GatewayUnavailable(_problem(error)) from None
    except Exception:  # the library trips over answers that are not Stripe's JSON
        raise GatewayUnavailable("Stripe's answer made no sense") from None
    session_id, url = session.get("id"), session.get("url")
    if not (isinstance(session_id, str) and session_id and isinstance(url, str) and url):
        raise GatewayUnavailable("Stripe created no checkout page")
    return Checkout(gateway_id=session_id, url=url)


def _session_params(payment: Starting, links: Links) -> SessionCreateParams:
    reference = str(payment.payment_id)
    return {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": payment.currency.lower(),
                    "unit_amount": _to_minor(payment.amount, payment.currency),
                    "product_data": {"name": payment.description},
                },
            }
        ],
        "success_url": links.back,
        "cancel_url": links.back,
        "client_reference_id": reference,
        "metadata": {"payment_id": reference},
    }


def _problem(error: stripe.StripeError) -> str:
    if isinstance(error, stripe.APIConnectionError):
        return "Stripe did not answer"
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        return "Stripe refused the method's secret key"
    if isinstance(error, stripe.InvalidRequestError):
        return "Stripe refused it: " + _one_line(error.user_message or "")
    return f"Stripe answered with an error (HTTP {error.http_status})"


def _one_line(text: str, limit: int = 200) -> str:
    return " ".join(text.split())[:limit]


def claimed_id(received: Received) -> str | None:
    """The Checkout Session an event is about, as its body says (not yet verified)."""
    try:
        event = json.loads(received.body)
    except (ValueError, RecursionError):
        return None
    found = _session_of(event)
    return found[0] if found else None


def _session_of(event: Any) -> tuple[str, Mapping[str, Any]] | None:
    """The id and fields of the Checkout Session a `checkout.session.*` event carries."""
    if not isinstance(event, dict) or not str(event.get("type")).startswith("checkout.session."):
        return None
    data = event.get("data")
    session = data.get("object") if isinstance(data, dict) else None
    if not isinstance(session, dict) or session.get("object") != "checkout.session":
        return None
    session_id = session.get("id")
    return (session_id, session) if isinstance(session_id, str) and session_id else None


def verify(received: Received, settings: Mapping[str, str]) -> Notice:
    """What a webhook event signed with the method's endpoint secret says of its session
    (https://docs.stripe.com/webhooks#verify-events)."""
    try:
        event = stripe.Webhook.construct_event(
            received.body, received.headers.get("stripe-signature"), settings["webhook_secret"]
        ).to_dict()
    except Exception as error:  # the library's parsing of garbage fails in many ways
        reason = _one_line(str(error))
        raise NotVerified(f"not an event signed with this method's secret: {reason}") from None
    found = _session_of(event)
    if found is None:
        raise NotVerified(f"a signed event about no checkout session: {event.get('type')}")
    session_id, session = found
    outcome = _outcome(str(event["type"]), session)
    amount, currency = None, None
    if outcome == PAID:
        amount, currency = _paid(session)
    summary = f"{event['type']}: {session.get('payment_intent') or 'no payment intent'}"
    return Notice(
        gateway_id=session_id,
        outcome=outcome,
        amount=amount,
        currency=currency,
        simulated=event.get("livemode") is not True,  # made with the account's test keys
        summary=summary,
    )


def _outcome(event_type: str, session: Mapping[str, Any]) -> str:
    if event_type == "checkout.session.completed":
        # "unpaid": a payment method whose result comes later, in an async_payment_* event
        return PAID if session.get("payment_status") == "paid" else UNCHANGED
    if event_type == "checkout.session.async_payment_succeeded":
        return PAID
    if event_type in ("checkout.session.async_payment_failed", "checkout.session.expired"):
        return FAILED
    return UNCHANGED


def _paid(session: Mapping[str, Any]) -> tuple[int, str]:
    minor, currency = session.get("amount_total"), session.get("currency")
    if type(minor) is not int or not isinstance(currency, str) or not currency:
        raise NotVerified("a paid checkout session without its amount and currency")
    code = currency.upper()
    return _from_minor(minor, code), code
