"""The Cryptomus gateway: invoices created on a fake Cryptomus that checks the merchant and the
sign, each way the fake misbehaves, and webhooks verified as Cryptomus signs them."""

# The fixtures imported from cryptomus_fixtures are parameters of the tests below.
# ruff: noqa: F811

import json
import re

import harness
import httpx
import pytest
from cryptomus_fixtures import (  # noqa: F401 - fixtures
    FakeCryptomus,
    WebhookReceiver,
    cryptomus_fake,
    http,
    links,
    received,
    shared_cryptomus,
    signed_webhook,
    starting,
    webhook_receiver,
)
from fakes.cryptomus import (
    MERCHANT,
    PAYMENT_KEY,
    md5_sign,
    php_encode,
    webhook_body,
    webhook_fields,
)

from smmpanel.payments.gateways import (
    FAILED,
    PAID,
    UNCHANGED,
    GatewayUnavailable,
    NotVerified,
)
from smmpanel.payments.gateways import cryptomus as gateway

fast = pytest.mark.fast  # starts no process: runs in `make test-fast`
SETTINGS = {"merchant": MERCHANT, "payment_key": PAYMENT_KEY}
ORDER = "smm-7-0123456789ab"

# The example webhook of https://doc.cryptomus.com/business/payments/webhook, as printed there.
# Its sign was made with a key the documentation does not give, so it is signed again here.
DOCS_WEBHOOK = """{
  "type": "payment",
  "uuid": "62f88b36-a9d5-4fa6-aa26-e040c3dbf26d",
  "order_id": "97a75bf8eda5cca41ba9d2e104840fcd",
  "amount": "3.00000000",
  "payment_amount": "3.00000000",
  "payment_amount_usd": "0.23",
  "merchant_amount": "2.94000000",
  "commission": "0.06000000",
  "is_final": true,
  "status": "paid",
  "from": "THgEWubVc8tPKXLJ4VZ5zbiiAK7AgqSeGH",
  "wallet_address_uuid": null,
  "network": "tron",
  "currency": "TRX",
  "payer_currency": "TRX",
  "additional_data": null,
  "convert": {
    "to_currency": "USDT",
    "commission": null,
    "rate": "0.07700000",
    "amount": "0.22638000"
  },
  "txid": "6f0d9c8374db57cac0d806251473de754f361c83a03cd805f74aa9da3193486b",
  "sign": "a76c0d77f3e8e1a419b138af04ab600a"
}"""


def with_sign(text: str, sign: str) -> bytes:
    """A JSON object's text with a `sign` member added last."""
    return (text.rstrip()[:-1] + f',"sign":"{sign}"' + "}").encode()


def tampered(body: bytes, old: str, new: str) -> bytes:
    assert old.encode() in body
    return body.replace(old.encode(), new.encode())


@fast
def test_request_sign_matches_a_published_vector() -> None:
    # From the sign test of github.com/itsjoniur/go-cryptomus (sign_test.go): payment key "bcda".
    body = b'{"amount":10,"currency":"usd","order_id":"OrDeRiD"}'
    assert gateway.sign(body, "bcda") == "0f66e9e002a45d4285cc77a227dadfeb"


@fast
def test_php_json_escapes_as_php_does() -> None:
    value = {
        "url": "https://pay.example/a?b=1",
        "name": "Café ✓ 😀",
        "quote": 'say "hi"\\',
        "controls": "\n\t\x01",
        "separator": "\u2028",
        "n": 1,
        "flags": [True, False, None],
        "empty": {},
    }
    assert gateway.php_json(value) == (
        r'{"url":"https:\/\/pay.example\/a?b=1","name":"Caf\u00e9 \u2713 \ud83d\ude00",'
        r'"quote":"say \"hi\"\\","controls":"\n\t\u0001","separator":"\u2028","n":1,'
        r'"flags":[true,false,null],"empty":{}}'
    )
    assert gateway.php_json(value, escape_unicode=False) == (
        r'{"url":"https:\/\/pay.example\/a?b=1","name":"Café ✓ 😀",'
        r'"quote":"say \"hi\"\\","controls":"\n\t\u0001","separator":"\u2028","n":1,'
        r'"flags":[true,false,null],"empty":{}}'
    )


@fast
def test_the_documented_webhook_verifies_once_signed_with_the_key() -> None:
    fields = json.loads(DOCS_WEBHOOK)
    del fields["sign"]
    body = tampered(
        DOCS_WEBHOOK.encode(),
        "a76c0d77f3e8e1a419b138af04ab600a",
        md5_sign(php_encode(fields, escape_unicode=False), PAYMENT_KEY),
    )
    notice = gateway.verify(received(body), SETTINGS)
    assert (notice.gateway_id, notice.outcome) == ("97a75bf8eda5cca41ba9d2e104840fcd", PAID)
    assert (notice.amount, notice.currency, notice.merchant) == (3_000_000, "TRX", None)
    assert not notice.more_is_fine
    with pytest.raises(NotVerified):  # the documentation's own sign, made with another key
        gateway.verify(received(DOCS_WEBHOOK.encode()), SETTINGS)


@fast
def test_numbers_are_signed_as_written() -> None:
    text = '{"order_id":"smm-9-ab","status":"check","rate":1.50,"count":10,"big":1e3}'
    notice = gateway.verify(received(with_sign(text, md5_sign(text, PAYMENT_KEY))), SETTINGS)
    assert notice.outcome == UNCHANGED
    reencoded = '{"order_id":"smm-9-ab","status":"check","rate":1.5,"count":10,"big":1000.0}'
    with pytest.raises(NotVerified):
        gateway.verify(received(with_sign(text, md5_sign(reencoded, PAYMENT_KEY))), SETTINGS)


@fast
@pytest.mark.parametrize("escape_unicode", [False, True])
def test_unicode_and_slashes_in_a_webhook(escape_unicode: bool) -> None:
    fields = webhook_fields(ORDER, "10", "USDT") | {"additional_data": "Café 測試 / ✓"}
    body = webhook_body(fields, escape_unicode=escape_unicode)
    assert gateway.verify(received(body), SETTINGS).outcome == PAID


@fast
def test_a_sign_made_without_escaping_slashes_is_refused() -> None:
    fields = webhook_fields(ORDER, "10", "USDT") | {"additional_data": "a/b"}
    unescaped = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    assert "a/b" in unescaped
    body = with_sign(php_encode(fields), md5_sign(unescaped, PAYMENT_KEY))
    with pytest.raises(NotVerified):
        gateway.verify(received(body), SETTINGS)


@fast
@pytest.mark.parametrize(
    ("status", "amount", "currency", "payer", "expected", "more_is_fine"),
    [
        (
            "paid",
            "12.5",
            "USD",
            {"payer_currency": "USDT", "payer_amount": "12.45"},
            12_500_000,
            False,
        ),
        ("paid", "0.005", "BTC", {}, 5_000, False),
        ("paid_over", "0.005", "BTC", {"payment_amount": "0.0051"}, 5_100, True),
        (
            "paid_over",
            "10",
            "USD",
            {"payer_currency": "USDT", "payer_amount": "9.99", "payment_amount": "19.98"},
            20_000_000,
            True,
        ),
        # 0.123456789 ETH, written with 8 decimals (0.12345679): rounded down to millionths
        ("paid_over", "0.1", "ETH", {"payment_amount": "0.123456789"}, 123_456, True),
        (
            "paid_over",
            "10",
            "USD",
            {"payer_currency": "USDT", "payer_amount": "3", "payment_amount": "4"},
            13_333_333,
            True,
        ),
        ("wrong_amount", "100", "TRX", {"payment_amount": "60"}, 60_000_000, False),
        (
            "wrong_amount",
            "10",
            "USD",
            {"payer_currency": "USDT", "payer_amount": "9.99", "payment_amount": "4.995"},
            5_000_000,
            False,
        ),
        # Paid in another currency with no planned amount to convert by: how much is unknown.
        (
            "wrong_amount",
            "10",
            "USD",
            {"payer_currency": "USDT", "payer_amount": "0", "payment_amount": "4"},
            0,
            False,
        ),
    ],
)
def test_paid_webhooks_say_what_was_paid_in_the_invoice_currency(
    status: str, amount: str, currency: str, payer: dict, expected: int, more_is_fine: bool
) -> None:
    notice = gateway.verify(signed_webhook(ORDER, amount, currency, status, **payer), SETTINGS)
    assert (notice.gateway_id, notice.outcome, notice.currency) == (ORDER, PAID, currency)
    assert (notice.amount, notice.more_is_fine) == (expected, more_is_fine)
    assert notice.merchant is None
    assert status in notice.summary


@fast
@pytest.mark.parametrize(
    "status", ["fail", "cancel", "system_fail", "refund_process", "refund_fail", "refund_paid"]
)
def test_failed_webhooks(status: str) -> None:
    notice = gateway.verify(signed_webhook(ORDER, "10", "USD", status), SETTINGS)
    assert (notice.gateway_id, notice.outcome, notice.amount) == (ORDER, FAILED, None)


@fast
@pytest.mark.parametrize(
    "status",
    ["check", "process", "confirm_check", "wrong_amount_waiting", "locked", "something_new"],
)
def test_webhooks_that_move_nothing(status: str) -> None:
    notice = gateway.verify(signed_webhook(ORDER, "10", "USD", status), SETTINGS)
    assert (notice.gateway_id, notice.outcome, notice.amount) == (ORDER, UNCHANGED, None)


@fast
def test_forged_webhooks_are_not_verified() -> None:
    genuine = signed_webhook(ORDER, "10", "USD", "wrong_amount", payment_amount="1").body
    assert gateway.verify(received(genuine), SETTINGS).outcome == PAID
    other = signed_webhook("smm-8-0123456789ab", "10", "USD").body
    other_sign = json.loads(other)["sign"]
    unsigned = php_encode(webhook_fields(ORDER, "10", "USD"))
    forgeries = [
        tampered(genuine, '"status":"wrong_amount"', '"status":"paid"'),
        tampered(genuine, '"payment_amount":"1.00000000"', '"payment_amount":"10.00000000"'),
        signed_webhook(ORDER, "10", "USD", key="another-payment-key").body,
        unsigned.encode(),
        with_sign(unsigned, other_sign),
        tampered(genuine, f'"sign":"{json.loads(genuine)["sign"]}"', '"sign":12345'),
        tampered(genuine, f'"sign":"{json.loads(genuine)["sign"]}"', '"sign":"\\ud800"'),
    ]
    for body in forgeries:
        with pytest.raises(NotVerified):
            gateway.verify(received(body), SETTINGS)


GARBAGE = [
    b"",
    b"ok",
    b"[]",
    b"null",
    b'"smm-7-0123456789ab"',
    b'{"order_id":',
    b"\xff\xfe\x00garbage",
    b"[" * 100_000,
    b'{"order_id":"smm-7-0123456789ab","amount":NaN,"sign":"x"}',
]


@fast
@pytest.mark.parametrize("body", GARBAGE)
def test_garbage_is_neither_claimed_nor_verified(body: bytes) -> None:
    assert gateway.claimed_id(received(body)) is None
    with pytest.raises(NotVerified):
        gateway.verify(received(body), SETTINGS)


@fast
def test_a_webhook_nested_deeper_than_any_is_not_verified() -> None:
    deep = b'{"order_id":"smm-7-0123456789ab","sign":"x","deep":' + b"[" * 900 + b"]" * 900 + b"}"
    assert gateway.claimed_id(received(deep)) == ORDER
    with pytest.raises(NotVerified):
        gateway.verify(received(deep), SETTINGS)


@fast
def test_claimed_id_is_the_order_id_cryptomus_would_take() -> None:
    assert gateway.claimed_id(signed_webhook(ORDER, "10", "USD")) == ORDER
    for order_id in (12, "a b", "x" * 129, "é", "", None):
        body = json.dumps({"order_id": order_id, "status": "paid"}).encode()
        assert gateway.claimed_id(received(body)) is None


@fast
def test_currencies() -> None:
    for code in ("USD", "TWD", "EUR", "USDT", "BTC", "TRX", "TON"):
        assert gateway.currency_allowed(code)
    for code in ("XYZ", "usd", "", "DOGECOIN"):
        assert not gateway.currency_allowed(code)


async def test_start_creates_an_invoice_signed_for_the_merchant(
    cryptomus_fake: FakeCryptomus, http: httpx.AsyncClient
) -> None:
    checkout = await gateway.start(starting(), cryptomus_fake.settings(), links(), http)
    assert re.fullmatch(r"smm-7-[0-9a-f]{12}", checkout.gateway_id)
    invoice = cryptomus_fake.invoice(checkout.gateway_id)  # the fake checked merchant and sign
    assert checkout.url == invoice["url"]
    assert checkout.url.startswith(f"{cryptomus_fake.url}/pay/")
    assert checkout.form is None
    assert (invoice["amount"], invoice["currency"]) == ("12.50000000", "USD")
    assert invoice["url_callback"] == "https://panel.example/payments/cryptomus/notify"
    assert (
        invoice["url_return"] == invoice["url_success"] == "https://panel.example/funds/payments/7"
    )
    assert "lifetime" not in invoice and "to_currency" not in invoice
    assert invoice["request"]["merchant"] == MERCHANT
    assert (
        r'"url_callback":"https:\/\/panel.example\/payments\/cryptomus\/notify"'
        in (invoice["request"]["body"])
    )
    assert (await http.get(checkout.url)).status_code == 200


async def test_each_start_is_a_new_invoice(
    cryptomus_fake: FakeCryptomus, http: httpx.AsyncClient
) -> None:
    first = await gateway.start(starting(), cryptomus_fake.settings(), links(), http)
    second = await gateway.start(starting(), cryptomus_fake.settings(), links(), http)
    assert first.gateway_id != second.gateway_id
    assert first.url != second.url


async def test_start_passes_the_optional_settings(
    cryptomus_fake: FakeCryptomus, http: httpx.AsyncClient
) -> None:
    settings = cryptomus_fake.settings(to_currency="USDT", lifetime_seconds="900")
    checkout = await gateway.start(starting(currency="EUR"), settings, links(), http)
    invoice = cryptomus_fake.invoice(checkout.gateway_id)
    assert (invoice["currency"], invoice["to_currency"], invoice["lifetime"]) == (
        "EUR",
        "USDT",
        900,
    )


@pytest.mark.parametrize("lifetime", ["60", "43201", "an hour", "-300"])
async def test_a_lifetime_cryptomus_refuses_is_not_sent(
    cryptomus_fake: FakeCryptomus, http: httpx.AsyncClient, lifetime: str
) -> None:
    calls = cryptomus_fake.state()["calls"]
    settings = cryptomus_fake.settings(lifetime_seconds=lifetime)
    with pytest.raises(GatewayUnavailable, match="lifetime_seconds"):
        await gateway.start(starting(), settings, links(), http)
    assert cryptomus_fake.state()["calls"] == calls


@pytest.mark.parametrize(
    "changes", [{"payment_key": "another-payment-key"}, {"merchant": "another-merchant"}]
)
async def test_wrong_credentials_are_refused(
    cryptomus_fake: FakeCryptomus, http: httpx.AsyncClient, changes: dict
) -> None:
    with pytest.raises(GatewayUnavailable) as refused:
        await gateway.start(starting(), cryptomus_fake.settings(**changes), links(), http)
    assert str(refused.value) == "Cryptomus refused the invoice: Invalid Sign."


@pytest.mark.parametrize(
    ("mode", "problem"),
    [
        ("garbage", "Cryptomus answered HTTP 200, not JSON"),
        ("html", "Cryptomus answered HTTP 200, not JSON"),
        ("http500", "Cryptomus answered HTTP 500, not JSON"),
        ("refuse", "Cryptomus refused the invoice: amount: The amount must be at least 1."),
        ("no_url", "Cryptomus answered without the invoice's page"),
        ("drop", "Cryptomus could not be reached ("),
    ],
)
async def test_each_misbehaviour_is_gateway_unavailable(
    cryptomus_fake: FakeCryptomus, http: httpx.AsyncClient, mode: str, problem: str
) -> None:
    cryptomus_fake.misbehave(mode)
    with pytest.raises(GatewayUnavailable) as unavailable:
        await gateway.start(starting(), cryptomus_fake.settings(), links(), http)
    assert str(unavailable.value).startswith(problem)
    assert "\n" not in str(unavailable.value)


async def test_a_slow_cryptomus_is_gateway_unavailable(
    cryptomus_fake: FakeCryptomus, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway, "TIMEOUT_SECONDS", 1)  # the fake sleeps an hour
    cryptomus_fake.misbehave("slow")
    with pytest.raises(GatewayUnavailable, match="Cryptomus did not answer in 1 s"):
        await gateway.start(starting(), cryptomus_fake.settings(), links(), http)


@pytest.mark.parametrize("base_url", ["a closed port", "not a url", "ftp://example.com"])
async def test_an_unreachable_cryptomus_is_gateway_unavailable(
    http: httpx.AsyncClient, base_url: str
) -> None:
    if base_url == "a closed port":
        base_url = f"http://127.0.0.1:{harness.free_port()}"
    settings = SETTINGS | {"base_url": base_url}
    with pytest.raises(GatewayUnavailable, match="could not be reached"):
        await gateway.start(starting(), settings, links(), http)


@pytest.mark.parametrize(
    ("status", "payer", "amount", "outcome"),
    [
        ("paid", {}, 12_500_000, PAID),
        (
            "paid_over",
            {"payer_currency": "USDT", "payer_amount": "12.45", "payment_amount": "24.90"},
            25_000_000,
            PAID,
        ),
        ("cancel", {}, None, FAILED),
    ],
)
async def test_the_webhook_of_an_invoice_verifies(
    cryptomus_fake: FakeCryptomus,
    http: httpx.AsyncClient,
    webhook_receiver: WebhookReceiver,
    status: str,
    payer: dict,
    amount: int | None,
    outcome: str,
) -> None:
    settings = cryptomus_fake.settings()
    checkout = await gateway.start(starting(), settings, links(webhook_receiver.url), http)
    reply = await cryptomus_fake.notify(checkout.gateway_id, status=status, **payer)
    assert (reply["status"], reply["body"]) == (200, "ok")
    [webhook] = webhook_receiver.received
    assert gateway.claimed_id(webhook) == checkout.gateway_id
    notice = gateway.verify(webhook, settings)
    assert (notice.gateway_id, notice.outcome, notice.amount) == (
        checkout.gateway_id,
        outcome,
        amount,
    )
    with pytest.raises(NotVerified):
        gateway.verify(webhook, settings | {"payment_key": "another-payment-key"})
