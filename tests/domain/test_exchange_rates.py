"""Exchange rates: set by the operator for ISO 4217 codes, converting to the panel's currency
(half up to the millionth), refusing a missing one; and the panel's currency, which changes
only while no money exists, taking the rates in the old one with it."""

from decimal import Decimal

import pytest
from domain_helpers import micros, new_customer, new_service
from harness import payment_method
from sqlalchemy import insert

from smmpanel.db.base import utcnow
from smmpanel.errors import Refusal
from smmpanel.orders.models import orders
from smmpanel.panel.rates import (
    NO_EXCHANGE_RATE,
    NOT_A_CURRENCY,
    RATE_NOT_POSITIVE,
    RATE_NOT_WRITTEN_AS_PAIR,
    RATE_OF_PANEL_CURRENCY,
    RATE_UNREADABLE,
    Conversion,
    conversion,
    convert,
    factor,
    rates,
    read_pair,
    set_rate,
)
from smmpanel.panel.service import (
    CURRENCY_FIXED,
    NOT_A_CURRENCY_CODE,
    change_settings,
    get_settings,
)
from smmpanel.payments.methods import add_method

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`

KNOWN = {"USD": 31_500_000, "JPY": 207_000}  # TWD per unit, in millionths


def test_converting_to_the_panels_currency_rounds_half_up_to_the_millionth():
    assert convert(2_000_000, "USD", "TWD", KNOWN) == 63_000_000
    assert convert(1, "JPY", "TWD", KNOWN) == 0  # 0.207 millionths
    assert convert(3, "JPY", "TWD", KNOWN) == 1  # 0.621
    assert convert(1, "USD", "TWD", {"USD": 500_000}) == 1  # exactly a half: up
    assert convert(1, "USD", "TWD", {"USD": 499_999}) == 0
    assert convert(123, "TWD", "TWD", {}) == 123  # the panel's own currency needs no rate
    assert factor("USD", "TWD", KNOWN) == Decimal("31.5")
    assert factor("TWD", "TWD", {}) == 1


def test_a_missing_rate_is_refused_never_taken_as_one():
    for attempt in (lambda: convert(1, "EUR", "TWD", KNOWN), lambda: factor("EUR", "TWD", {})):
        with pytest.raises(Refusal) as refused:
            attempt()
        assert refused.value.kind is NO_EXCHANGE_RATE
        assert str(refused.value).startswith(
            "no exchange rate for EUR: set one with smmpanel settings set --rate EUR=RATE"
        )
        assert "worth in TWD" in str(refused.value)


def test_a_rate_is_written_code_equals_amount():
    assert read_pair("usd=31.5") == ("USD", 31_500_000)
    assert read_pair(" EUR = 34.123456 ") == ("EUR", 34_123_456)
    for text in ("USD", "USD=", "=31.5", "DOLLAR=1"):
        with pytest.raises(Refusal) as refused:
            read_pair(text)
        assert refused.value.kind is RATE_NOT_WRITTEN_AS_PAIR, text
    for text in ("USD=abc", "USD=0.0000001", "USD=99999999999"):
        with pytest.raises(Refusal) as refused:
            read_pair(text)
        assert refused.value.kind is RATE_UNREADABLE, text


async def test_rates_are_set_then_changed_and_read_back(conn):
    await change_settings(conn, currency="TWD")
    await set_rate(conn, "USD", 31_500_000)
    await set_rate(conn, "JPY", 207_000)
    await set_rate(conn, "USD", 32_000_000)
    assert await rates(conn) == {"JPY": 207_000, "USD": 32_000_000}
    assert await conversion(conn) == Conversion("TWD", {"JPY": 207_000, "USD": 32_000_000})


@pytest.mark.parametrize(
    ("code", "rate", "kind"),
    [
        ("ABC", 1_000_000, NOT_A_CURRENCY),
        ("usd", 1_000_000, NOT_A_CURRENCY),
        ("TWD", 1_000_000, RATE_OF_PANEL_CURRENCY),
        ("USD", 0, RATE_NOT_POSITIVE),
        ("USD", -5, RATE_NOT_POSITIVE),
    ],
)
async def test_a_bad_rate_is_refused(conn, code, rate, kind):
    await change_settings(conn, currency="TWD")
    with pytest.raises(Refusal) as refused:
        await set_rate(conn, code, rate)
    assert refused.value.kind is kind
    assert await rates(conn) == {}


async def test_the_currency_must_be_an_iso_4217_code(conn):
    for typed, kind in (
        ("US1", NOT_A_CURRENCY_CODE),
        ("ABC", NOT_A_CURRENCY),
        ("XYZ", NOT_A_CURRENCY),
    ):
        with pytest.raises(Refusal) as refused:
            await change_settings(conn, currency=typed)
        assert refused.value.kind is kind, typed
    await change_settings(conn, currency="JPY")
    assert (await get_settings(conn)).currency == "JPY"


async def test_a_new_currency_before_any_money_takes_the_old_rates_away(conn):
    await change_settings(conn, currency="TWD")
    await set_rate(conn, "USD", 31_500_000)
    await change_settings(conn, currency="TWD")  # the same: the rates stay
    assert await rates(conn) == {"USD": 31_500_000}
    await change_settings(conn, currency="USD")
    assert await rates(conn) == {}


async def test_the_currency_stays_once_a_ledger_row_exists(conn):
    await change_settings(conn, currency="TWD")
    await new_customer(conn, balance="10")  # an opening balance: one ledger row
    with pytest.raises(Refusal) as refused:
        await change_settings(conn, currency="USD")
    assert refused.value.kind is CURRENCY_FIXED
    assert str(refused.value).startswith("the panel's currency cannot change once money exists: ")
    assert "in TWD already" in str(refused.value)
    await change_settings(conn, currency="TWD", name="Same currency")  # no change: allowed
    assert (await get_settings(conn)).currency == "TWD"


async def test_the_currency_stays_once_an_order_exists(conn):
    customer_id = await new_customer(conn)  # no funds: no ledger row
    await change_settings(conn, currency="TWD")
    now = utcnow()
    await conn.execute(
        insert(orders).values(
            customer_id=customer_id,
            service_id=await new_service(conn),
            type="Default",
            status="Pending",
            quantity=10,
            charge=micros("0"),
            created_at=now,
            updated_at=now,
        )
    )
    with pytest.raises(Refusal) as refused:
        await change_settings(conn, currency="EUR")
    assert refused.value.kind is CURRENCY_FIXED


async def test_the_currency_stays_once_a_payment_method_exists(conn):
    await change_settings(conn, currency="TWD")
    # The rate is TWD per USD: in the panel's currency.
    await add_method(conn, **payment_method(currency="USD", rate=micros("31.5")))
    with pytest.raises(Refusal) as refused:
        await change_settings(conn, currency="USD")
    assert refused.value.kind is CURRENCY_FIXED
