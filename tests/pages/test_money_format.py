"""Money on pages: the rule of each kind of amount, in both languages, and on real pages."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from babel.numbers import format_currency
from page_client import text_of

import smmpanel
from smmpanel.orders.placement import place_order
from smmpanel.pagekit.money_format import column_decimals, format_money

NBSP = "\u00a0"
LANGUAGES = ["en", "zh_TW"]


def shown(micros: int, kind: str, language: str = "en", currency: str = "TWD", decimals=None):
    return format_money(micros, kind, language, currency, decimals).replace(NBSP, " ")


@pytest.mark.fast
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_balance_has_two_decimals_and_four_below_a_cent(language):
    assert shown(0, "balance", language) == "TWD 0.00"
    assert shown(4_000, "balance", language) == "TWD 0.0040"
    assert shown(1_234_500_000, "balance", language) == "TWD 1,234.50"
    assert shown(10_000, "balance", language) == "TWD 0.01"


@pytest.mark.fast
def test_a_balance_is_rounded_down_and_never_shown_as_a_false_zero():
    assert shown(12_345_678, "balance") == "TWD 12.34"
    assert shown(9_999, "balance") == "TWD 0.0099"
    assert shown(-12_345_678, "balance") == "-TWD 12.35"
    assert shown(50, "balance") == "TWD 0.00005"
    assert shown(-1, "balance") == "-TWD 0.000001"


@pytest.mark.fast
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["rate", "charge", "amount"])
def test_rates_and_charges_show_the_fewest_exact_decimals_at_least_two(language, kind):
    assert shown(135_000, kind, language) == "TWD 0.135"
    assert shown(91_637_500, kind, language) == "TWD 91.6375"
    assert shown(49_552_220, kind, language) == "TWD 49.55222"
    assert shown(1_200_000, kind, language) == "TWD 1.20"
    assert shown(3_000_000, kind, language) == "TWD 3.00"
    assert shown(1_234_567_890_123_456, kind, language) == "TWD 1,234,567,890.123456"


@pytest.mark.fast
def test_negative_amounts_carry_the_sign_before_the_currency():
    assert shown(-135_500, "amount") == "-TWD 0.1355"
    assert shown(-1_000_000, "amount", "zh_TW") == "-TWD 1.00"


@pytest.mark.fast
def test_without_a_currency_only_the_number_is_shown():
    assert shown(-1_234_500_000, "balance", currency="") == "-1,234.50"


@pytest.mark.fast
def test_a_column_has_the_decimals_its_most_exact_row_needs():
    charges = [1_000_000, 135_500, None, 2_500_000]
    decimals = column_decimals(charges, "charge")
    assert decimals == 4
    assert [shown(c, "charge", decimals=decimals) for c in charges if c is not None] == [
        "TWD 1.0000",
        "TWD 0.1355",
        "TWD 2.5000",
    ]
    assert column_decimals([], "rate") == 2
    assert column_decimals([12_000_000, 4_000], "balance") == 4


@pytest.mark.fast
def test_a_column_never_cuts_a_row_that_needs_more_decimals():
    assert shown(49_552_220, "charge", decimals=2) == "TWD 49.55222"
    assert shown(12_345_678, "balance", decimals=4) == "TWD 12.3456"


@pytest.mark.fast
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("currency", ["TWD", "USD"])
def test_the_digits_are_what_babel_writes_with_the_iso_code(language, currency):
    for micros in (0, 5, 999_999, 1_000_000, 12_345_678_901, -987_654_321_000, 10**15 + 1):
        places = max(2, len(f"{abs(micros) % 1_000_000:06d}".rstrip("0")))
        babel = format_currency(
            Decimal(micros).scaleb(-6),
            currency,
            format="¤¤#,##0." + "0" * places,
            locale=language,
            currency_digits=False,
        )
        assert format_money(micros, "amount", language, currency) == babel.replace(
            currency, currency + NBSP
        )


AMOUNT_WITH_CODE = re.compile(r"-?USD [0-9,]+\.[0-9]+")


async def test_orders_and_funds_show_each_amount_with_its_currency_once(customer, shop, db):
    client, customer_id = customer
    whole = await shop.service("Default", rate="2")
    exact = await shop.service("Default", rate="0.271")
    async with db.write() as conn:
        for service_id in (whole, exact):
            await place_order(
                conn,
                customer_id,
                {"service": str(service_id), "link": "m.example", "quantity": "500"},
            )
    for language in LANGUAGES:
        assert (await client.get(f"/language/{language}", next="/orders")).status_code == 303
        orders = text_of(await client.page("/orders"))
        assert "USD 1.0000" in orders and "USD 0.1355" in orders
        funds = text_of(await client.page("/funds"))
        assert re.search(r"(Balance|餘額) USD 98\.86 ", funds)
        assert "-USD 0.1355" in funds and "-USD 1.0000" in funds and "+USD 100.0000" in funds
        for page in (orders, funds):
            assert AMOUNT_WITH_CODE.search(page)
            assert not re.search(r"\.[0-9]+ USD", page), page  # no code after an amount


TEMPLATES = Path(smmpanel.__file__).parent / "templates"
CODE_AFTER_AMOUNT = re.compile(
    r"\|\s*(balance|rate|charge|amount)\b[^}]*}}\s*\(?{{\s*[\w.]*currency", re.S
)


@pytest.mark.fast
def test_no_template_prints_a_currency_after_an_amount_that_carries_it():
    printed_twice = [
        f"{template.relative_to(TEMPLATES)}: {found.group(0)}"
        for template in TEMPLATES.rglob("*.html")
        for found in CODE_AFTER_AMOUNT.finditer(template.read_text())
    ]
    assert printed_twice == []


async def test_a_form_keeps_the_plain_number_its_reader_accepts(operator, shop):
    service_id = await shop.service("Default", rate="0.1355")
    html = await operator.page(f"/admin/catalog/services/{service_id}")
    assert 'name="rate" value="0.1355"' in html
