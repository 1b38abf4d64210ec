"""Amounts as the API and the pages show them: exact, trailing zeros trimmed to a minimum."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smmpanel.money import MICROS, render_balance, render_charge, render_rate

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


@pytest.mark.parametrize(
    ("micros", "charge", "balance", "rate"),
    [
        (0, "0.0000", "0.00", "0"),
        (1, "0.000001", "0.000001", "0.000001"),
        (36_000, "0.0360", "0.036", "0.036"),
        (3_000_000, "3.0000", "3.00", "3"),
        (1_020_000, "1.0200", "1.02", "1.02"),
        (9_999_999_990, "9999.99999", "9999.99999", "9999.99999"),
        (-1_500_000, "-1.5000", "-1.50", "-1.5"),
        (-7, "-0.000007", "-0.000007", "-0.000007"),
    ],
)
def test_renderings_keep_their_minimum_of_decimals(micros, charge, balance, rate):
    assert (render_charge(micros), render_balance(micros), render_rate(micros)) == (
        charge,
        balance,
        rate,
    )


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_every_rendering_is_the_exact_amount(micros):
    exact = Decimal(micros) / MICROS
    for render, min_places in ((render_charge, 4), (render_balance, 2), (render_rate, 0)):
        shown = render(micros)
        assert Decimal(shown) == exact
        decimals = shown.partition(".")[2]
        assert len(decimals) >= min_places and len(decimals) <= 6
        assert len(decimals) == min_places or not decimals.endswith("0")
