"""ECPay's gateway: CheckMacValue as ECPay's documents and SDK compute it, the checkout form,
and notices verified, read, or refused whatever arrives."""

import hashlib
import string
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import quote_plus, urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smmpanel.money import MICROS
from smmpanel.payments.gateways import (
    FAILED,
    INFO,
    PAID,
    Checkout,
    GatewayUnavailable,
    Links,
    NotVerified,
    Received,
    Starting,
    ecpay,
)
from smmpanel.payments.gateways.registry import gateway
from smmpanel.payments.methods import settings_known

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`

# ECPay's published stage merchant.
STAGE = {
    "merchant_id": "2000132",
    "hash_key": "5294y06JbISpM5x9",
    "hash_iv": "v77hoKGq4kWxNNIS",
    "base_url": "https://payment-stage.ecpay.com.tw",
}
LINKS = Links(
    notify="https://panel.example/payments/ecpay/notify",
    info="https://panel.example/payments/ecpay/info",
    back="https://panel.example/funds/payments/42",
)

# https://developers.ecpay.com.tw/?p=2902 (附錄 / 檢查碼機制): the AioCheckOut example, signed
# with the keys of the stage merchant 3002607; step (3) shows the URL-encoded string.
DOC_FIELDS = {
    "TradeDesc": "促銷方案",
    "PaymentType": "aio",
    "MerchantTradeDate": "2023/03/12 15:30:23",
    "MerchantTradeNo": "ecpay20230312153023",
    "MerchantID": "3002607",
    "ReturnURL": "https://www.ecpay.com.tw/receive.php",
    "ItemName": "Apple iphone 15",
    "TotalAmount": "30000",
    "ChoosePayment": "ALL",
    "EncryptType": "1",
}
DOC_KEY, DOC_IV = "pwFHCqoQZGmho4w6", "EkRm7iFT261dpevs"
DOC_ENCODED = (
    "HashKey%3dpwFHCqoQZGmho4w6%26ChoosePayment%3dALL%26EncryptType%3d1%26ItemName%3dApple+"
    "iphone+15%26MerchantID%3d3002607%26MerchantTradeDate%3d2023%2f03%2f12+15%3a30%3a23%26"
    "MerchantTradeNo%3decpay20230312153023%26PaymentType%3daio%26ReturnURL%3dhttps%3a%2f%2f"
    "www.ecpay.com.tw%2freceive.php%26TotalAmount%3d30000%26TradeDesc%3d%e4%bf%83%e9%8a%b7"
    "%e6%96%b9%e6%a1%88%26HashIV%3dEkRm7iFT261dpevs"
)
DOC_MAC = "6C51C9E6888DE861FD62FB1DD17029FC742634498FD813DC43D4243B5685B840"

# ECPay/SDK_PHP example/Payment/GetCheckoutResponse.php: a paid notice of the stage merchant
# 2000132 and the CheckMacValue the SDK accepts for it.
SDK_NOTICE = {
    "MerchantID": "2000132",
    "MerchantTradeNo": "WPLL4E341E122DB44D62",
    "PaymentDate": "2019/05/09 00:01:21",
    "PaymentType": "Credit_CreditCard",
    "PaymentTypeChargeFee": "1",
    "RtnCode": "1",
    "RtnMsg": "交易成功",
    "SimulatePaid": "0",
    "TradeAmt": "500",
    "TradeDate": "2019/05/09 00:00:18",
    "TradeNo": "1905090000188278",
    "CheckMacValue": "59B085BAEC4269DC1182D48DEF106B431055D95622EB285DECD400337144C698",
}
# ECPay/SDK_PHP example/Payment/Aio/GetCheckoutResponse.php: the same notice for 3002607.
SDK_AIO_MAC = "6E7F053EF215FC851A050A2FF01D72CBE440EA138DC3E905647985DDF236FD25"


def received(body: bytes | str) -> Received:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return Received(raw, {"content-type": "application/x-www-form-urlencoded"})


def signed(fields: dict[str, str], settings: dict[str, str] = STAGE) -> Received:
    mac = ecpay.check_mac_value(fields, settings["hash_key"], settings["hash_iv"])
    return received(urlencode({**fields, "CheckMacValue": mac}))


def notice_fields(**changes: str) -> dict[str, str]:
    fields = {name: value for name, value in SDK_NOTICE.items() if name != "CheckMacValue"}
    fields["MerchantTradeNo"] = "SP42ABCDEFGHIJKLMNOP"
    return fields | changes


# CheckMacValue


def test_documented_checkout_example():
    assert ecpay.check_mac_value(DOC_FIELDS, DOC_KEY, DOC_IV) == DOC_MAC


def test_documented_encoding_step():
    ordered = "&".join(f"{name}={DOC_FIELDS[name]}" for name in sorted(DOC_FIELDS))
    text = f"HashKey={DOC_KEY}&{ordered}&HashIV={DOC_IV}"
    assert ecpay.net_url_encode(text) == DOC_ENCODED


def test_sdk_notice_examples():
    fields = dict(SDK_NOTICE)
    assert (
        ecpay.check_mac_value(fields, STAGE["hash_key"], STAGE["hash_iv"])
        == (SDK_NOTICE["CheckMacValue"])
    )
    fields["MerchantID"] = "3002607"
    assert ecpay.check_mac_value(fields, DOC_KEY, DOC_IV) == SDK_AIO_MAC


def php_sdk_encoding(text: str) -> str:
    """ECPay/SDK_PHP src/Services/UrlService.php: PHP's urlencode (which encodes '~'), lower
    case, then the characters .NET leaves alone put back."""
    encoded = quote_plus(text, safe="").replace("~", "%7E").lower()
    for code, char in (
        ("%2d", "-"),
        ("%5f", "_"),
        ("%2e", "."),
        ("%21", "!"),
        ("%2a", "*"),
        ("%28", "("),
        ("%29", ")"),
    ):
        encoded = encoded.replace(code, char)
    return encoded


@pytest.mark.parametrize("char", [*string.printable, "促", "é", "🙂", "\u3000"])
def test_encoding_follows_the_sdk_rule(char):
    assert ecpay.net_url_encode(char).lower() == php_sdk_encoding(char)


def test_encoding_edge_cases():
    assert ecpay.net_url_encode("a b*(x)!-_.~'") == "a+b*(x)!-_.%7e%27"
    assert ecpay.net_url_encode("綠界") == "%e7%b6%a0%e7%95%8c"
    assert ecpay.net_url_encode("+&=%") == "%2b%26%3d%25"


def test_names_sort_without_regard_to_case():
    expected = hashlib.sha256(b"hashkey%3dk%26alpha%3d2%26zeta%3d1%26hashiv%3div")
    fields = {"Zeta": "1", "alpha": "2", "CheckMacValue": "left out"}
    assert ecpay.check_mac_value(fields, "k", "iv") == expected.hexdigest().upper()


def test_every_value_counts_but_not_its_letter_case():
    base = {"ItemName": "a b", "TradeDesc": "x"}
    mac = ecpay.check_mac_value(base, "k", "iv")
    for changed in ({"ItemName": "a+b"}, {"ItemName": "a~b"}, {"TradeDesc": "y"}):
        assert ecpay.check_mac_value(base | changed, "k", "iv") != mac
    # ECPay lowers the case of the whole string before hashing.
    assert ecpay.check_mac_value(base | {"TradeDesc": "X"}, "k", "iv") == mac


# Starting


PAYMENT = Starting(
    payment_id=42,
    amount=1500 * MICROS,
    currency="TWD",
    description="Balance top-up 42",
    created_at=datetime(2024, 1, 31, 20, 30, 5, tzinfo=UTC),
)


def starting(**changes: object) -> Starting:
    return replace(PAYMENT, **changes)


def refuse_requests(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"ECPay's checkout sends nothing itself: {request.url}")


async def start(payment: Starting, settings: dict[str, str] = STAGE) -> Checkout:
    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse_requests)) as http:
        return await ecpay.start(payment, settings, LINKS, http)


async def test_checkout_form_is_signed_and_complete():
    checkout = await start(starting())
    form = dict(checkout.form or {})
    assert checkout.url == "https://payment-stage.ecpay.com.tw/Cashier/AioCheckOut/V5"
    assert (
        ecpay.check_mac_value(form, STAGE["hash_key"], STAGE["hash_iv"]) == (form["CheckMacValue"])
    )
    assert form["MerchantTradeNo"] == checkout.gateway_id
    assert form | {"MerchantTradeNo": "", "CheckMacValue": ""} == {
        "MerchantID": "2000132",
        "MerchantTradeNo": "",
        "MerchantTradeDate": "2024/02/01 04:30:05",  # Taiwan is UTC+8
        "PaymentType": "aio",
        "TotalAmount": "1500",
        "TradeDesc": "Balance top up 42",
        "ItemName": "Balance top-up 42",
        "ReturnURL": LINKS.notify,
        "PaymentInfoURL": LINKS.info,
        "ClientBackURL": LINKS.back,
        "ChoosePayment": "ALL",
        "EncryptType": "1",
        "NeedExtraPaidInfo": "N",
        "CheckMacValue": "",
    }


async def test_trade_numbers_are_unique_and_fit_ecpay():
    numbers = {(await start(starting())).gateway_id for _ in range(20)}
    assert len(numbers) == 20
    for number in numbers:
        assert len(number) == 20 and number.isalnum() and number.isascii()
        assert number.startswith("SP42")
    assert len((await start(starting(payment_id=12_345_678_901_234))).gateway_id) == 20
    with pytest.raises(GatewayUnavailable):
        await start(starting(payment_id=123_456_789_012_345))


async def test_production_address_and_naive_times_as_utc():
    settings = {name: value for name, value in STAGE.items() if name != "base_url"}
    checkout = await start(starting(created_at=datetime(2024, 6, 30, 16, 0, 0)), settings)
    assert checkout.url == "https://payment.ecpay.com.tw/Cashier/AioCheckOut/V5"
    assert (checkout.form or {})["MerchantTradeDate"] == "2024/07/01 00:00:00"


async def test_chosen_payment():
    credit = dict((await start(starting(), STAGE | {"choose_payment": "Credit"})).form or {})
    assert credit["ChoosePayment"] == "Credit"
    assert "PaymentInfoURL" not in credit
    atm = dict((await start(starting(), STAGE | {"choose_payment": "ATM"})).form or {})
    assert atm["PaymentInfoURL"] == LINKS.info
    with pytest.raises(GatewayUnavailable, match="Credit"):
        await start(starting(), STAGE | {"choose_payment": "credit card"})


@pytest.mark.parametrize(
    "changes", [{"currency": "USD"}, {"amount": 1500 * MICROS + 1}, {"amount": 0}]
)
async def test_only_whole_twd(changes):
    with pytest.raises(GatewayUnavailable):
        await start(starting(**changes))


async def test_item_name_and_trade_desc_within_ecpay_limits():
    description = "儲值 #1 <script>&\n\nsecond line\n" + "長" * 500
    form = dict((await start(starting(description=description))).form or {})
    assert form["ItemName"].startswith("儲值 1 <script>&#second line#長長")
    assert len(form["ItemName"]) == 400
    assert form["TradeDesc"] == "儲值 1 script"
    long_desc = dict((await start(starting(description="x" * 300))).form or {})["TradeDesc"]
    assert long_desc == "x" * 200
    symbols = dict((await start(starting(description="&<>"))).form or {})
    assert symbols["TradeDesc"] == "Payment 42" and symbols["ItemName"] == "&<>"
    blank = dict((await start(starting(description=" # \n#"))).form or {})
    assert blank["TradeDesc"] == "Payment 42" and blank["ItemName"] == "Payment 42"


# Notices


def test_documented_notice_is_paid():
    notice = ecpay.verify(received(urlencode(SDK_NOTICE)), STAGE)
    assert notice.outcome == PAID
    assert notice.gateway_id == "WPLL4E341E122DB44D62"
    assert (notice.amount, notice.currency, notice.merchant) == (500 * MICROS, "TWD", "2000132")
    assert not notice.simulated
    assert notice.summary == "ECPay TradeNo 1905090000188278 paid by Credit_CreditCard"


def test_simulated_payment():
    notice = ecpay.verify(signed(notice_fields(SimulatePaid="1", PaymentType="ATM_TAISHIN")), STAGE)
    assert (notice.outcome, notice.simulated, notice.amount) == (PAID, True, 500 * MICROS)


def test_failed_payment():
    notice = ecpay.verify(signed(notice_fields(RtnCode="10100248", RtnMsg="拒絕交易")), STAGE)
    assert notice.outcome == FAILED
    assert notice.gateway_id == "SP42ABCDEFGHIJKLMNOP"
    assert notice.amount is None
    assert notice.summary == "ECPay RtnCode 10100248: 拒絕交易"


def info_fields(**changes: str) -> dict[str, str]:
    return {
        "MerchantID": "2000132",
        "MerchantTradeNo": "SP42ABCDEFGHIJKLMNOP",
        "StoreID": "",
        "RtnMsg": "Get VirtualAccount Succeeded",
        "TradeNo": "2401312030051234",
        "TradeAmt": "1500",
        "TradeDate": "2024/02/01 04:30:05",
        "CustomField1": "",
        "CustomField2": "",
        "CustomField3": "",
        "CustomField4": "",
    } | changes


def test_atm_account_issued():
    fields = info_fields(
        RtnCode="2",
        PaymentType="ATM_TAISHIN",
        BankCode="812",
        vAccount="9103522175887271",
        ExpireDate="2024/02/04",
    )
    notice = ecpay.verify(signed(fields), STAGE)
    assert notice.outcome == INFO
    assert dict(notice.details) == {
        "bank_code": "812",
        "account": "9103522175887271",
        "expires": "2024/02/04",
    }
    assert notice.amount is None


def test_store_code_issued():
    fields = info_fields(
        RtnCode="10100073",
        RtnMsg="Get CVS Code Succeeded.",
        PaymentType="CVS_CVS",
        PaymentNo="LLL17355880822",
        ExpireDate="2024/02/08 04:30:05",
        Barcode1="",
        Barcode2="",
        Barcode3="",
    )
    notice = ecpay.verify(signed(fields), STAGE)
    assert notice.outcome == INFO
    assert dict(notice.details) == {
        "payment_no": "LLL17355880822",
        "expires": "2024/02/08 04:30:05",
    }


def test_barcodes_issued():
    fields = info_fields(
        RtnCode="10100073",
        PaymentType="BARCODE_BARCODE",
        PaymentNo="",
        ExpireDate="2024/02/08 04:30:05",
        Barcode1="130208OAD",
        Barcode2="4013000000052931",
        Barcode3="0208T60000001500",
    )
    details = dict(ecpay.verify(signed(fields), STAGE).details)
    assert details == {
        "barcode_1": "130208OAD",
        "barcode_2": "4013000000052931",
        "barcode_3": "0208T60000001500",
        "expires": "2024/02/08 04:30:05",
    }


def test_issuing_failed():
    fields = info_fields(RtnCode="10100050", RtnMsg="取號失敗", PaymentType="ATM_TAISHIN")
    notice = ecpay.verify(signed(fields), STAGE)
    assert (notice.outcome, notice.summary) == (FAILED, "ECPay RtnCode 10100050: 取號失敗")


def test_lower_case_mac_is_the_same_mac():
    body = urlencode(SDK_NOTICE | {"CheckMacValue": SDK_NOTICE["CheckMacValue"].lower()})
    assert ecpay.verify(received(body), STAGE).outcome == PAID


def test_a_changed_field_is_refused():
    for changed in ({"TradeAmt": "5000"}, {"RtnCode": "1 "}, {"SimulatePaid": "1"}):
        with pytest.raises(NotVerified):
            ecpay.verify(received(urlencode(SDK_NOTICE | changed)), STAGE)
    with pytest.raises(NotVerified):
        ecpay.verify(received(urlencode(SDK_NOTICE | {"Extra": ""})), STAGE)


def test_other_keys_are_refused():
    other_merchant = {"merchant_id": "3002607", "hash_key": DOC_KEY, "hash_iv": DOC_IV}
    with pytest.raises(NotVerified, match="keys"):
        ecpay.verify(signed(notice_fields(), other_merchant), STAGE)
    with pytest.raises(NotVerified):
        ecpay.verify(signed(notice_fields()), STAGE | {"hash_iv": DOC_IV})


@pytest.mark.parametrize(
    "mac", ["", "0" * 64, SDK_NOTICE["CheckMacValue"][:-1], "６" + "0" * 63, "ﬀ" * 32]
)
def test_wrong_or_missing_mac_is_refused(mac):
    body = urlencode(SDK_NOTICE | {"CheckMacValue": mac})
    with pytest.raises(NotVerified):
        ecpay.verify(received(body), STAGE)
    without = {name: value for name, value in SDK_NOTICE.items() if name != "CheckMacValue"}
    with pytest.raises(NotVerified):
        ecpay.verify(received(urlencode(without)), STAGE)


def test_a_field_named_twice_is_refused():
    body = urlencode(SDK_NOTICE) + "&TradeAmt=500"
    with pytest.raises(NotVerified, match="twice"):
        ecpay.verify(received(body), STAGE)


def test_signed_but_not_an_amount_is_refused():
    for amount in ("", "5.0", "-5", "５００", "1" * 13):
        with pytest.raises(NotVerified, match="TradeAmt"):
            ecpay.verify(signed(notice_fields(TradeAmt=amount)), STAGE)


def test_signed_without_trade_number_is_refused():
    for trade_no in ("", "SP-42", "x" * 21):
        with pytest.raises(NotVerified, match="MerchantTradeNo"):
            ecpay.verify(signed(notice_fields(MerchantTradeNo=trade_no)), STAGE)


GARBAGE = [
    b"",
    b"\xff\xfe\x00garbage",
    b"RtnCode=%ff%fe&CheckMacValue=00",
    b"no equals sign",
    b"a=1&&b=2",
    b"MerchantTradeNo=SP42ABCD&" * 300,
    b"MerchantTradeNo=" + b"A" * 2_000_000,
    "MerchantTradeNo=SP42&RtnMsg=\ud800".encode("utf-8", "surrogatepass"),
    b'{"MerchantTradeNo": "SP42ABCD"}',
]


@pytest.mark.parametrize("body", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_is_not_verified(body):
    with pytest.raises(NotVerified):
        ecpay.verify(received(body), STAGE)
    assert ecpay.claimed_id(received(body)) is None


@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda text: text.encode()))
def test_any_body_is_verified_or_refused(body):
    with pytest.raises(NotVerified):
        ecpay.verify(received(body), STAGE)
    claimed = ecpay.claimed_id(received(body))
    assert claimed is None or (claimed.isascii() and claimed.isalnum() and len(claimed) <= 20)


def test_claimed_id():
    assert ecpay.claimed_id(received(urlencode(SDK_NOTICE))) == "WPLL4E341E122DB44D62"
    assert ecpay.claimed_id(received("MerchantTradeNo=SP42ABCD&CheckMacValue=x")) == "SP42ABCD"
    for trade_no in ("", "SP42 ABCD", "x" * 21, "SP４２"):
        assert ecpay.claimed_id(received(urlencode({"MerchantTradeNo": trade_no}))) is None


# The module as the panel sees it


def test_speaks_the_gateway_protocol():
    assert gateway("ecpay") is ecpay
    assert settings_known("ecpay") == (
        ("merchant_id", "hash_key", "hash_iv"),
        ("base_url", "choose_payment"),
    )
    assert ecpay.amount_step("TWD") == 1_000_000
    assert ecpay.currency_allowed("TWD") and not ecpay.currency_allowed("USD")
    assert (ecpay.ACCEPTED.status, ecpay.ACCEPTED.body) == (200, "1|OK")
    assert ecpay.REFUSED.status == 400 and ecpay.REFUSED.body.startswith("0|")
