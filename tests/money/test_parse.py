"""Amounts typed by people: what parse accepts and refuses."""

from decimal import Decimal

import pytest

from smmpanel.errors import Refusal
from smmpanel.money import parse, to_micros

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


@pytest.mark.parametrize("text", ["abc", "", "NaN", "Infinity", "1.0000001", "1e40", "1e13"])
def test_parse_refuses_what_is_not_a_storable_amount(text):
    with pytest.raises(Refusal):
        parse(text)


def test_the_largest_accepted_amount_fits_a_bigint_of_millionths():
    largest = parse("999999999999.999999")
    assert largest == Decimal("999999999999.999999")
    assert to_micros(largest) < 2**63


def test_parse_keeps_exact_decimals_and_signs():
    assert parse(" -10.50 ") == Decimal("-10.50")
    assert parse("1e3") == Decimal(1000)
