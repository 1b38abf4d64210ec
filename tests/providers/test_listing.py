"""Reading upstream entries: the spellings real panels use, and what is refused."""

from decimal import Decimal

import pytest

from smmpanel.errors import Refusal
from smmpanel.providers.listing import (
    MAX_QUANTITY,
    read_count,
    read_flag,
    read_id,
    read_listing,
    read_rate,
    read_type,
)

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


@pytest.mark.parametrize("value", [True, 1, 1.0, "1", "true", "True", " yes ", "on"])
def test_a_clear_yes_is_a_yes(value):
    assert read_flag(value) is True


@pytest.mark.parametrize("value", [False, 0, "0", "false", "", None, "maybe", 2, [], {}])
def test_anything_else_is_a_no(value):
    assert read_flag(value) is False


@pytest.mark.parametrize(
    ("value", "rate"), [("1.02", "1.02"), (0.5, "0.5"), (3, "3"), (" 0.0012 ", "0.0012")]
)
def test_rates_come_as_strings_or_numbers(value, rate):
    assert read_rate(value) == Decimal(rate)


@pytest.mark.parametrize("value", [None, "", "abc", "NaN", "Infinity", True, [1], "-1", 0])
def test_an_unusable_rate_is_refused(value):
    with pytest.raises(Refusal):
        read_rate(value)


@pytest.mark.parametrize(("value", "count"), [("100", 100), (100, 100), (100.0, 100), ("0", 0)])
def test_counts_come_as_strings_or_numbers(value, count):
    assert read_count(value, "min") == count


@pytest.mark.parametrize("value", ["1.5", "ten", None, True, "-3"])
def test_an_unusable_count_is_refused(value):
    with pytest.raises(Refusal):
        read_count(value, "max")


@pytest.mark.parametrize(
    ("value", "name"),
    [("Default", "Default"), ("default", "Default"), ("custom  comments ", "Custom Comments")],
)
def test_type_names_are_matched_whatever_their_case_and_spacing(value, name):
    assert read_type(value) == name


@pytest.mark.parametrize(("value", "text"), [(5, "5"), (" 7 ", "7"), ("abc-9", "abc-9")])
def test_ids_are_kept_as_text(value, text):
    assert read_id(value) == text


@pytest.mark.parametrize("value", [None, "", True, 1.5, "x" * 51, "a\nb"])
def test_an_unusable_id_is_refused(value):
    with pytest.raises(Refusal):
        read_id(value)


def test_limits_are_brought_into_range():
    entry = {"service": 1, "name": "n", "type": "Default", "rate": "1", "min": 0, "max": 10**12}
    service = read_listing([entry]).services["1"]
    assert (service.min_quantity, service.max_quantity) == (1, MAX_QUANTITY)


def test_a_missing_category_and_description_get_defaults():
    entry = {"service": 1, "name": "n", "type": "Default", "rate": "1", "min": 1, "max": 2}
    service = read_listing([entry]).services["1"]
    assert (service.category, service.description) == ("Other", "")
