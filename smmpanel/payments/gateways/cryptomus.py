"""Cryptomus: an invoice the customer pays in crypto on Cryptomus's page; Cryptomus posts each
change of the invoice's status to the panel (a webhook).

A request carries the merchant's uuid in the `merchant` header and, in `sign`, the MD5 of the
base64 of its JSON body followed by the payment API key
(https://doc.cryptomus.com/business/general/request-format). A webhook carries its sign in the
body: the same MD5 of the body without `sign`, encoded as PHP's json_encode encodes it, slashes
escaped as `\\/` (https://doc.cryptomus.com/business/payments/webhook).
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation, localcontext
from typing import Any

import httpx

from smmpanel.money import LARGEST_MICROS, MAX_DIGITS, MICROS, render_balance
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

REQUIRED_SETTINGS = ("merchant", "payment_key")
OPTIONAL_SETTINGS = ("base_url", "to_currency", "lifetime_seconds")

ACCEPTED = Reply(200, "ok")
REFUSED = Reply(400, "invalid sign")

DEFAULT_BASE_URL = "https://api.cryptomus.com"
TIMEOUT_SECONDS = 15
LIFETIME_SECONDS = range(300, 43_200 + 1)  # the invoice's `lifetime` Cryptomus accepts

# The coins and tokens Cryptomus lists for invoices (its payment services).
CRYPTO_CODES = frozenset(
    {"AVAX", "BCH", "BNB", "BTC", "CGPT", "DAI", "DASH", "DOGE", "ETH", "LTC", "MATIC", "SOL"}
    | {"TON", "TRX", "USDC", "USDT", "VERSE", "XMR"}
)

# https://doc.cryptomus.com/business/payments/payment-statuses
PAID_STATUSES = frozenset({"paid", "paid_over", "wrong_amount"})
FAILED_STATUSES = frozenset(
    {"fail", "cancel", "system_fail", "refund_process", "refund_fail", "refund_paid"}
)
# PHP's json_encode escapes these two even when told to leave unicode unescaped.
LINE_TERMINATORS = {"\u2028": "\\u2028", "\u2029": "\\u2029"}
MESSAGE_LIMIT = 200
MAX_DECIMALS = 18  # the most a crypto amount has
ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def amount_step(code: str) -> int:
    """Any amount down to the millionth: the invoice is in the method's currency."""
    return 1


def currency_allowed(code: str) -> bool:
    return code in CRYPTO_CODES or is_currency_code(code)


@dataclass(frozen=True)
class _Number:
    """A JSON number kept as written, so that re-encoding reproduces what was signed."""

    text: str


def php_json(value: Any, *, escape_unicode: bool = True) -> str:
    """`value` as PHP's json_encode writes it: no spaces, `/` escaped as `\\/`, non-ASCII as
    \\uXXXX unless `escape_unicode` is False (JSON_UNESCAPED_UNICODE); keys in their order."""
    if isinstance(value, dict):
        members = (
            f"{php_json(str(key), escape_unicode=escape_unicode)}:"
            f"{php_json(item, escape_unicode=escape_unicode)}"
            for key, item in value.items()
        )
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(php_json(item, escape_unicode=escape_unicode) for item in value) + "]"
    if isinstance(value, _Number):
        return value.text
    if isinstance(value, str):
        return _php_string(value, escape_unicode)
    return json.dumps(value)  # true, false, null, an int


def _php_string(text: str, escape_unicode: bool) -> str:
    encoded = json.dumps(text, ensure_ascii=escape_unicode).replace("/", "\\/")
    if not escape_unicode:
        for character, escaped in LINE_TERMINATORS.items():
            encoded = encoded.replace(character, escaped)
    return encoded


def sign(body: bytes, payment_key: str) -> str:
    return hashlib.md5(base64.b64encode(body) + payment_key.encode()).hexdigest()


async def start(
    payment: Starting, settings: Mapping[str, str], links: Links, http: httpx.AsyncClient
) -> Checkout:
    """Create the invoice; the customer pays on its page. The order id is new each time:
    Cryptomus answers an order id it knows with that invoice, not a new one."""
    order_id = f"smm-{payment.payment_id}-{secrets.token_hex(6)}"
    invoice = {
        "amount": render_balance(payment.amount),
        "currency": payment.currency,
        "order_id": order_id,
        "url_callback": links.notify,
        "url_return": links.back,
        "url_success": links.back,
        **_options(settings),
    }
    result = await _create(http, settings, php_json(invoice).encode())
    url = result.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise GatewayUnavailable("Cryptomus answered without the invoice's page")
    return Checkout(gateway_id=order_id, url=url)


def _options(settings: Mapping[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if settings.get("to_currency"):
        options["to_currency"] = settings["to_currency"]
    lifetime = settings.get("lifetime_seconds")
    if lifetime:
        if not (lifetime.isascii() and lifetime.isdigit()) or int(lifetime) not in LIFETIME_SECONDS:
            raise GatewayUnavailable(
                "the Cryptomus setting lifetime_seconds must be whole seconds from 300 to 43200"
            )
        options["lifetime"] = int(lifetime)
    return options


async def _create(
    http: httpx.AsyncClient, settings: Mapping[str, str], body: bytes
) -> Mapping[str, Any]:
    """POST the invoice; its `result`, or GatewayUnavailable saying why there is none."""
    url = (settings.get("base_url") or DEFAULT_BASE_URL).rstrip("/") + "/v1/payment"
    headers = {
        "merchant": settings["merchant"],
        "sign": sign(body, settings["payment_key"]),
        "content-type": "application/json",
    }
    try:
        response = await http.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.TimeoutException:
        raise GatewayUnavailable(f"Cryptomus did not answer in {TIMEOUT_SECONDS} s") from None
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as problem:
        raise GatewayUnavailable(f"Cryptomus could not be reached ({_one_line(problem)})") from None
    try:
        answer = response.json()
    except ValueError:
        raise GatewayUnavailable(
            f"Cryptomus answered HTTP {response.status_code}, not JSON"
        ) from None
    if (
        response.status_code == 200
        and isinstance(answer, dict)
        and answer.get("state") == 0
        and isinstance(answer.get("result"), dict)
    ):
        return answer["result"]
    raise GatewayUnavailable(f"Cryptomus refused the invoice: {_why(answer, response)}")


def _why(answer: object, response: httpx.Response) -> str:
    """Cryptomus's reason: its `message`, or the first of its `errors` by field."""
    if isinstance(answer, dict):
        message = answer.get("message")
        if isinstance(message, str) and message.strip():
            return _one_line(message)
        errors = answer.get("errors")
        if isinstance(errors, dict) and errors:
            field, problems = next(iter(errors.items()))
            problem = problems[0] if isinstance(problems, list) and problems else problems
            return _one_line(f"{field}: {problem}")
    return f"HTTP {response.status_code}"


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:MESSAGE_LIMIT] or type(text).__name__


def _parse(body: bytes) -> dict[str, Any] | None:
    """The JSON object of a body, numbers kept as written; None for anything else."""
    try:
        value = json.loads(body, parse_float=_Number, parse_int=_Number, parse_constant=_not_json)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def claimed_id(received: Received) -> str | None:
    fields = _parse(received.body)
    return None if fields is None else _order_id(fields)


def _order_id(fields: Mapping[str, Any]) -> str | None:
    """The webhook's order_id, if it is one Cryptomus takes (letters, digits, _ and -)."""
    order_id = fields.get("order_id")
    if isinstance(order_id, str) and ORDER_ID.fullmatch(order_id):
        return order_id
    return None


def verify(received: Received, settings: Mapping[str, str]) -> Notice:
    fields = _parse(received.body)
    if fields is None:
        raise NotVerified("the body is not a JSON object")
    given = fields.pop("sign", None)
    if not isinstance(given, str):
        raise NotVerified("the body has no sign")
    if not _signed(fields, given, settings["payment_key"]):
        raise NotVerified("the sign does not match the body and the payment key")
    return _notice(fields)


def _signed(fields: Mapping[str, Any], given: str, payment_key: str) -> bool:
    given_bytes = given.encode("utf-8", "surrogatepass")
    try:
        return any(
            hmac.compare_digest(given_bytes, expected.encode())
            for expected in _signs(fields, payment_key)
        )
    except RecursionError:  # nested deeper than any webhook is
        return False


def _signs(fields: Mapping[str, Any], payment_key: str) -> Iterator[str]:
    """The signs Cryptomus may have made of `fields`. Its documentation verifies with unicode
    left as it is (JSON_UNESCAPED_UNICODE); PHP's default escapes it. Both encode the same
    data, so a match either way proves the payment key signed it."""
    for escape_unicode in (False, True):
        text = php_json(dict(fields), escape_unicode=escape_unicode)
        yield sign(text.encode("utf-8", "surrogatepass"), payment_key)


def _notice(fields: Mapping[str, Any]) -> Notice:
    order_id = _order_id(fields)
    status = fields.get("status")
    if order_id is None or not isinstance(status, str):
        raise NotVerified("the webhook names no order_id or status")
    if status in FAILED_STATUSES:
        return Notice(order_id, FAILED, summary=f"Cryptomus: {status}")
    if status not in PAID_STATUSES:
        return Notice(order_id, UNCHANGED, summary=f"Cryptomus: {_one_line(status)}")
    return _paid_notice(order_id, status, fields)


def _paid_notice(order_id: str, status: str, fields: Mapping[str, Any]) -> Notice:
    """Paid exactly, more (credit what was paid) or less (for an operator to review): the
    amount in the invoice's currency."""
    asked = _micros(fields.get("amount"))
    currency = fields.get("currency")
    if asked is None or not isinstance(currency, str):
        raise NotVerified("a paid webhook without the invoice's amount and currency")
    paid = _paid_in_invoice_currency(fields)
    if status == "paid":
        amount = asked
    elif status == "paid_over":
        amount = asked if paid is None else paid
    else:  # wrong_amount: less than asked; 0 when Cryptomus's figures do not say how much
        amount = paid if paid is not None and paid < asked else 0
    summary = (
        f"Cryptomus {status}: paid {_text(fields.get('payment_amount'))} "
        f"{_text(fields.get('payer_currency'))} for {_text(fields.get('amount'))} {currency}"
    )
    return Notice(
        order_id,
        PAID,
        amount=amount,
        currency=currency,
        more_is_fine=status == "paid_over",
        summary=_one_line(summary),
    )


def _paid_in_invoice_currency(fields: Mapping[str, Any]) -> int | None:
    """`payment_amount` (in `payer_currency`) in the invoice's currency: as it is when the
    two currencies are one, else at the invoice's own rate, `amount` per `payer_amount`;
    None if the figures do not say, or say more than any amount is."""
    paid = _decimal(fields.get("payment_amount"))
    if paid is None:
        return None
    if fields.get("payer_currency") != fields.get("currency"):
        amount, planned = _decimal(fields.get("amount")), _decimal(fields.get("payer_amount"))
        if amount is None or not planned:
            return None
        with localcontext() as context:
            context.prec, context.rounding = 60, ROUND_DOWN  # never round a credit up
            paid = paid * amount / planned
    micros = _to_micros(paid)
    return micros if micros <= LARGEST_MICROS else None


def _decimal(value: object) -> Decimal | None:
    """A non-negative amount written as a string or a number, of at most MAX_DIGITS digits
    before the point and nothing below 10**-MAX_DECIMALS; None for anything else."""
    text = value.text if isinstance(value, _Number) else value
    if not isinstance(text, str):
        return None
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0 or number.adjusted() > MAX_DIGITS:
        return None
    if number and number.adjusted() < -MAX_DECIMALS:
        return None
    return number


def _micros(value: object) -> int | None:
    number = _decimal(value)
    return None if number is None else _to_micros(number)


def _to_micros(number: Decimal) -> int:
    """Rounded down: a crypto amount has up to 18 decimals, and the panel never credits a
    fraction of a millionth more than was paid."""
    return int((number * MICROS).to_integral_value(rounding=ROUND_DOWN))


def _text(value: object) -> str:
    if isinstance(value, _Number):
        return value.text
    return value if isinstance(value, str) else "?"
