"""The price rule: exact Decimal arithmetic, rounding up, the floor, never zero."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smmpanel.errors import Refusal
from smmpanel.providers.catalog_sync import PriceRule
from smmpanel.providers.pricing import cost_micros

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`

D = Decimal


@pytest.mark.parametrize(
    ("rule", "upstream", "ours"),
    [
        (PriceRule(), "1.02", "1.02"),
        (PriceRule(percent=D(10), decimals=2), "1.00", "1.10"),
        (PriceRule(percent=D(30)), "0.123456", "0.160493"),  # 0.1604928 rounded up
        (PriceRule(fixed=D("0.05")), "1", "1.05"),
        (PriceRule(percent=D(150), fixed=D("0.1")), "2", "5.1"),
        (PriceRule(percent=D("12.5"), decimals=4), "0.0008", "0.0009"),
    ],
)
def test_rate_is_upstream_times_percent_plus_fixed(rule, upstream, ours):
    assert rule.price(D(upstream)) == D(ours)


def test_rounding_goes_up_where_half_up_would_go_down():
    # 1.2285 × 1.1 = 1.35135: half up gives 1.35, which is still above cost here, but the rule is
    # "up": 1.36. And 1.0001 at 2 decimals is 1.01, never 1.00 (below cost).
    assert PriceRule(percent=D(10), decimals=2).price(D("1.2285")) == D("1.36")
    assert PriceRule(decimals=2).price(D("1.0001")) == D("1.01")
    assert PriceRule(decimals=0).price(D("0.2")) == D(1)


def test_an_exact_value_is_not_rounded_further():
    assert PriceRule(percent=D(10), decimals=2).price(D("2.00")) == D("2.20")


def test_the_floor_is_the_lowest_rate():
    rule = PriceRule(percent=D(10), decimals=2, floor=D("0.5"))
    assert rule.price(D("0.01")) == D("0.5")
    assert rule.price(D("1")) == D("1.10")


def test_never_zero_even_for_a_rate_below_a_millionth():
    assert PriceRule().price(D("0.0000001")) == D("0.000001")
    assert PriceRule().price(D(0)) == D("0.000001")
    assert PriceRule().price_micros(D("0.0000001")) == 1


def test_cost_is_rounded_up_to_the_millionth():
    assert cost_micros(D("0.0000015")) == 2
    assert cost_micros(D("1.02")) == 1_020_000


@given(
    upstream=st.decimals(min_value=D("0.000001"), max_value=D(100_000), places=6),
    percent=st.decimals(min_value=D(0), max_value=D(500), places=2),
    fixed=st.decimals(min_value=D(0), max_value=D(10), places=6),
    decimals=st.integers(min_value=0, max_value=6),
)
def test_never_below_cost_and_never_more_decimals_than_asked(upstream, percent, fixed, decimals):
    rule = PriceRule(percent=percent, fixed=fixed, decimals=decimals)
    ours = rule.price(upstream)
    exact = upstream * (1 + percent / 100) + fixed
    assert ours >= exact >= upstream
    assert ours - exact < D(1).scaleb(-decimals)
    assert ours == ours.quantize(D(1).scaleb(-decimals))
    assert rule.price_micros(upstream) >= cost_micros(upstream) > 0


@pytest.mark.parametrize(
    "values",
    [
        {"percent": D(-10)},
        {"fixed": D("-0.01")},
        {"floor": D(-1)},
        {"decimals": 7},
        {"decimals": -1},
        {"fixed": D("0.0000001")},
        {"percent": "lots"},
        {"percent": D("NaN")},
    ],
)
def test_a_rule_that_makes_no_sense_is_refused(values):
    with pytest.raises(Refusal):
        PriceRule(**values)


def test_a_rule_survives_its_json_form():
    rule = PriceRule(percent=D("12.5"), fixed=D("0.05"), decimals=2, floor=D("0.01"))
    assert PriceRule.from_json(rule.to_json()) == rule
    assert '"percent": "12.5"' in rule.to_json()


def test_a_provider_without_a_saved_rule_prices_at_cost():
    assert PriceRule.from_json("{}") == PriceRule()
    assert PriceRule.from_json(None) == PriceRule()


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"decimals": "many"}'])
def test_an_unreadable_saved_rule_says_how_to_save_a_new_one(text):
    with pytest.raises(Refusal, match="import again"):
        PriceRule.from_json(text)


def test_the_rule_describes_itself_for_the_operator():
    rule = PriceRule(percent=D(30), fixed=D("0.10"), decimals=2, floor=D("0.01"))
    assert rule.describe() == "+30%, +0.1, rounded up to 2 decimals, at least 0.01"
