"""ECPay (綠界) AioCheckOut V5: the browser posts a signed form to ECPay, ECPay posts signed
forms back (application/x-www-form-urlencoded, UTF-8).

Both directions are signed with CheckMacValue (EncryptType 1, SHA256), as ECPay's
"附錄 / 檢查碼機制" (https://developers.ecpay.com.tw/?p=2902) and its PHP SDK
(ECPay/SDK_PHP, src/Services/CheckMacValueService.php) compute it.

`MerchantTradeNo` is "SP", the payment's id, then random capitals and digits up to ECPay's 20
characters: unique even when two panels (a test and a live one) share a merchant, or a
database starts again, as ECPay refuses a number it has seen.

Notices, told apart by `RtnCode`:
- 1: paid (ReturnURL);
- 2: an ATM account was issued (PaymentInfoURL); details `bank_code`, `account`, `expires`;
- 10100073: a store code (CVS) or barcodes (BARCODE) were issued (PaymentInfoURL); details
  `payment_no`, `barcode_1`, `barcode_2`, `barcode_3`, `expires`;
- anything else: it failed, ECPay's `RtnMsg` says why.
`expires` is ECPay's text in Taiwan time ("2024/01/31" for ATM, "2024/01/31 23:59:59" for a
store code); details ECPay left empty are left out.
"""

import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl

import httpx

from smmpanel.money import MICROS
from smmpanel.payments.gateways import (
    FAILED,
    INFO,
    PAID,
    Checkout,
    GatewayUnavailable,
    Links,
    Notice,
    NotVerified,
    Received,
    Reply,
    Starting,
)

REQUIRED_SETTINGS = ("merchant_id", "hash_key", "hash_iv")
OPTIONAL_SETTINGS = ("base_url", "choose_payment")

DEFAULT_BASE_URL = "https://payment.ecpay.com.tw"  # the stage is https://payment-stage.ecpay.com.tw
CHECKOUT_PATH = "/Cashier/AioCheckOut/V5"
CHOOSE_PAYMENTS = (
    "ALL",
    "Credit",
    "WebATM",
    "ATM",
    "CVS",
    "BARCODE",
    "ApplePay",
    "TWQR",
    "BNPL",
    "WeiXin",
)
# The methods that issue a code to pay later, told to PaymentInfoURL.
ISSUING_PAYMENTS = frozenset({"ALL", "ATM", "CVS", "BARCODE"})

ACCEPTED = Reply(200, "1|OK")
REFUSED = Reply(400, "0|Error")

PAID_CODE = "1"
ATM_ISSUED = "2"
CODE_ISSUED = "10100073"

TAIWAN = timezone(timedelta(hours=8))  # no daylight saving since 1979
TRADE_NO_LENGTH = 20
TRADE_NO_PREFIX = "SP"
MIN_RANDOM = 4
# Capitals only: the MAC ignores letter case, so no two numbers may differ only in it.
RANDOM_ALPHABET = string.ascii_uppercase + string.digits
ITEM_NAME_LIMIT = 400
TRADE_DESC_LIMIT = 200
BODY_LIMIT = 64 * 1024
FIELDS_LIMIT = 200
TRADE_NO = re.compile(r"[A-Za-z0-9]{1,20}")
WHOLE_NUMBER = re.compile(r"[0-9]{1,12}")

# What .NET's HttpUtility.UrlEncode leaves as it is; ECPay's server computes the MAC with it.
NET_UNRESERVED = frozenset((string.ascii_letters + string.digits + "-_.!*()").encode("ascii"))


def amount_step(code: str) -> int:
    """ECPay charges whole TWD."""
    return MICROS


def currency_allowed(code: str) -> bool:
    return code == "TWD"


def net_url_encode(text: str) -> str:
    """`text` as .NET's HttpUtility.UrlEncode writes it: UTF-8, space as '+', '~' encoded."""
    return "".join(_encoded_byte(byte) for byte in text.encode("utf-8"))


def _encoded_byte(byte: int) -> str:
    if byte in NET_UNRESERVED:
        return chr(byte)
    if byte == 0x20:
        return "+"
    return f"%{byte:02x}"


def check_mac_value(fields: Mapping[str, str], hash_key: str, hash_iv: str) -> str:
    """ECPay's CheckMacValue (SHA256) of `fields`; a CheckMacValue among them is left out."""
    names = sorted((name for name in fields if name != "CheckMacValue"), key=str.lower)
    joined = "&".join(f"{name}={fields[name]}" for name in names)
    text = f"HashKey={hash_key}&{joined}&HashIV={hash_iv}"
    digest = hashlib.sha256(net_url_encode(text).lower().encode("ascii"))
    return digest.hexdigest().upper()


async def start(
    payment: Starting, settings: Mapping[str, str], links: Links, http: httpx.AsyncClient
) -> Checkout:
    """The signed form the browser posts to ECPay; nothing is sent from here."""
    choose_payment = settings.get("choose_payment") or "ALL"
    if choose_payment not in CHOOSE_PAYMENTS:
        raise GatewayUnavailable(
            f"ECPay has no payment method {choose_payment!r}; use one of "
            + ", ".join(CHOOSE_PAYMENTS)
        )
    if payment.currency != "TWD" or payment.amount <= 0 or payment.amount % MICROS:
        raise GatewayUnavailable("ECPay takes whole amounts of TWD only")
    trade_no = _new_trade_no(payment.payment_id)
    fields = {
        "MerchantID": settings["merchant_id"],
        "MerchantTradeNo": trade_no,
        "MerchantTradeDate": _taiwan_time(payment.created_at),
        "PaymentType": "aio",
        "TotalAmount": str(payment.amount // MICROS),
        "TradeDesc": _trade_desc(payment),
        "ItemName": _item_name(payment.description) or _trade_desc(payment),
        "ReturnURL": links.notify,
        "ClientBackURL": links.back,
        "ChoosePayment": choose_payment,
        "EncryptType": "1",
        "NeedExtraPaidInfo": "N",
    }
    if choose_payment in ISSUING_PAYMENTS:
        fields["PaymentInfoURL"] = links.info
    fields["CheckMacValue"] = check_mac_value(fields, settings["hash_key"], settings["hash_iv"])
    base_url = (settings.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
    return Checkout(gateway_id=trade_no, url=base_url + CHECKOUT_PATH, form=fields)


def _new_trade_no(payment_id: int) -> str:
    prefix = f"{TRADE_NO_PREFIX}{payment_id}"
    random_length = TRADE_NO_LENGTH - len(prefix)
    if random_length < MIN_RANDOM:
        raise GatewayUnavailable(f"payment {payment_id} has too long an id for ECPay")
    return prefix + "".join(secrets.choice(RANDOM_ALPHABET) for _ in range(random_length))


def _taiwan_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(TAIWAN).strftime("%Y/%m/%d %H:%M:%S")


def _item_name(description: str) -> str:
    """One item per line of the description; ECPay shows '#' as a new line."""
    lines = (" ".join(line.replace("#", " ").split()) for line in description.splitlines())
    return "#".join(line for line in lines if line)[:ITEM_NAME_LIMIT]


def _trade_desc(payment: Starting) -> str:
    """ECPay asks for no special characters here: letters, digits and spaces only."""
    first_line = next(iter(payment.description.splitlines()), "")
    plain = "".join(char if char.isalnum() else " " for char in first_line)
    return " ".join(plain.split())[:TRADE_DESC_LIMIT] or f"Payment {payment.payment_id}"


def claimed_id(received: Received) -> str | None:
    """The MerchantTradeNo a notice names, unverified; None if it names none."""
    try:
        trade_no = _form_fields(received.body).get("MerchantTradeNo", "")
    except NotVerified:
        return None
    return trade_no if TRADE_NO.fullmatch(trade_no) else None


def verify(received: Received, settings: Mapping[str, str]) -> Notice:
    """What a notice signed with the method's keys says; NotVerified otherwise."""
    fields = _form_fields(received.body)
    _check_signature(fields, settings)
    trade_no = fields.get("MerchantTradeNo", "")
    if not TRADE_NO.fullmatch(trade_no) or not fields.get("MerchantID"):
        raise NotVerified("the notice names no MerchantTradeNo or MerchantID")
    code = fields.get("RtnCode", "")
    if code == PAID_CODE:
        return _paid(trade_no, fields)
    if code in (ATM_ISSUED, CODE_ISSUED):
        return _issued(trade_no, fields)
    message = fields.get("RtnMsg", "")
    return Notice(
        gateway_id=trade_no,
        outcome=FAILED,
        merchant=fields["MerchantID"],
        summary=f"ECPay RtnCode {code or '(none)'}: {message}"[:300],
    )


def _form_fields(body: bytes) -> dict[str, str]:
    """A form body's fields; NotVerified unless it is a plain UTF-8 form naming each once."""
    if len(body) > BODY_LIMIT:
        raise NotVerified("the notice is too large")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=True,
            errors="strict",
            max_num_fields=FIELDS_LIMIT,
        )
    except ValueError:  # UnicodeDecodeError too
        raise NotVerified("the notice is not a UTF-8 form") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise NotVerified("the notice names a field twice")
    return fields


def _check_signature(fields: Mapping[str, str], settings: Mapping[str, str]) -> None:
    given = fields.get("CheckMacValue", "")
    if not given or not given.isascii():
        raise NotVerified("the notice has no CheckMacValue")
    expected = check_mac_value(fields, settings["hash_key"], settings["hash_iv"])
    # ECPay writes it in capitals; the letters' case changes nothing it proves.
    if not hmac.compare_digest(given.upper().encode("ascii"), expected.encode("ascii")):
        raise NotVerified("the CheckMacValue does not match the method's keys")


def _paid(trade_no: str, fields: Mapping[str, str]) -> Notice:
    amount = fields.get("TradeAmt", "")
    if not WHOLE_NUMBER.fullmatch(amount):
        raise NotVerified(f"the paid notice's TradeAmt {amount[:20]!r} is not an amount")
    return Notice(
        gateway_id=trade_no,
        outcome=PAID,
        amount=int(amount) * MICROS,
        currency="TWD",
        merchant=fields["MerchantID"],
        simulated=fields.get("SimulatePaid") == "1",
        summary=(
            f"ECPay TradeNo {fields.get('TradeNo', '?')} paid by {fields.get('PaymentType', '?')}"
        )[:300],
    )


def _issued(trade_no: str, fields: Mapping[str, str]) -> Notice:
    if fields["RtnCode"] == ATM_ISSUED:
        names = {"BankCode": "bank_code", "vAccount": "account"}
    else:
        names = {
            "PaymentNo": "payment_no",
            "Barcode1": "barcode_1",
            "Barcode2": "barcode_2",
            "Barcode3": "barcode_3",
        }
    names["ExpireDate"] = "expires"
    details = {ours: fields[theirs] for theirs, ours in names.items() if fields.get(theirs)}
    return Notice(
        gateway_id=trade_no,
        outcome=INFO,
        merchant=fields["MerchantID"],
        summary=(
            f"ECPay TradeNo {fields.get('TradeNo', '?')}: {fields.get('PaymentType', '?')} "
            f"issued, to pay by {fields.get('ExpireDate', '?')}"
        )[:300],
        details=details,
    )
