"""Reading a catalogue file: every shape of mistake is named, in process (no database)."""

import json

import pytest

from smmpanel.catalog.transfer import CATALOG_FILE_REFUSED, read_catalog
from smmpanel.errors import Refusal

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`

GOOD_SERVICE = {
    "id": 1,
    "name": "Followers",
    "type": "Default",
    "rate": "1.5",
    "min": 10,
    "max": 99,
}


def read(services: list, **category: object) -> str:
    document = {"categories": [{"name": "Cat", "position": 0, "services": services, **category}]}
    return json.dumps(document)


def problems(text: str) -> str:
    with pytest.raises(Refusal) as refused:
        read_catalog(text)
    assert refused.value.kind is CATALOG_FILE_REFUSED
    return str(refused.value)


def test_a_service_is_read_as_the_columns_it_gives_with_the_rate_in_millionths():
    [category] = read_catalog(read([GOOD_SERVICE]))
    assert category.services[0].columns == {
        "id": 1,
        "name": "Followers",
        "type": "Default",
        "rate": 1_500_000,
        "min_quantity": 10,
        "max_quantity": 99,
    }


def test_a_service_named_in_part_is_read_with_only_those_fields():
    [category] = read_catalog(read([{"id": 7, "rate": "2", "provider_service_id": 12}]))
    assert category.services[0].columns == {
        "id": 7,
        "rate": 2_000_000,
        "provider_service_id": "12",
    }
    [unplaced] = read_catalog(json.dumps({"categories": [{"name": "A"}]}))
    assert unplaced.position is None  # left as it is, or 0 for a new category


def test_a_json_number_rate_is_read_exactly():
    [category] = read_catalog(read([{**GOOD_SERVICE, "rate": 0.1}]))
    assert category.services[0].columns["rate"] == 100_000


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rate": "0"}, "the rate must be above zero"),
        ({"rate": "1.0000001"}, "at most 6 decimals"),
        ({"rate": "abc"}, "not an amount"),
        ({"rate": True}, "rate must be a decimal number"),
        ({"min": 0}, "need 1 <= min <= max"),
        ({"min": "10"}, "min must be a whole number"),
        ({"max": 10.0}, "max must be a whole number"),
        ({"id": 0}, "id must be a whole number from 1"),
        ({"enabled": 1}, "enabled must be true or false"),
        ({"type": "default"}, "unknown service type 'default'"),
        ({"name": " "}, "a service needs a name"),
        ({"mn": 1}, "unknown field mn"),
        ({"fulfilment": "robot"}, "fulfilment must be 'manual' or 'provider'"),
        ({"provider": 5}, "provider must be a provider's name, or null"),
        ({"fallback_provider": ""}, "fallback_provider must be a provider's name, or null"),
        ({"provider_service_id": "x" * 51}, "provider_service_id must be text of 1 to 50"),
        ({"upstream_rate": "-1"}, "upstream_rate cannot be negative"),
        ({"upstream_dripfeed": "no"}, "upstream_dripfeed must be true or false"),
        ({"name_zh_tw": "讚" * 301}, "name_zh_tw must be text of at most 300 characters"),
        ({"description_zh_tw": 5}, "description_zh_tw must be text, or null"),
    ],
)
def test_a_wrong_field_is_named_with_the_entry(change, message):
    text = problems(read([GOOD_SERVICE, {**GOOD_SERVICE, "id": 2, **change}]))
    name = repr(change.get("name", "Followers"))
    assert f"service entry 2 ({name} in category 'Cat'): " in text
    assert message in text
    assert "service entry 1 " not in text


def test_missing_fields_duplicate_ids_and_names_are_named():
    missing = {key: value for key, value in GOOD_SERVICE.items() if key != "id"}
    assert "missing id" in problems(read([missing]))
    assert "id 1 appears twice" in problems(read([GOOD_SERVICE, GOOD_SERVICE]))
    twice = json.dumps({"categories": [{"name": "A"}, {"name": "A"}]})
    assert "category 2 ('A'): the name appears twice" in problems(twice)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ("[]", 'expected an object {"categories": [...]}'),
        ('{"categories": [7]}', "category 1: expected an object"),
        ('{"categories": [{"name": ""}]}', "name must be text of 1 to 200 characters"),
        ('{"categories": [{"name": "A", "services": {}}]}', "services must be a list"),
    ],
)
def test_a_wrong_shape_is_refused(text, message):
    assert message in problems(text)


def test_services_keep_their_numbering_past_a_bad_category():
    document = {
        "categories": [
            {"name": "", "services": [GOOD_SERVICE]},
            {"name": "B", "services": [{**GOOD_SERVICE, "id": 2, "min": 0}]},
        ]
    }
    assert "service entry 2 ('Followers' in category 'B')" in problems(json.dumps(document))


def test_a_rate_beyond_the_largest_amount_is_refused():
    found = problems(read([{**GOOD_SERVICE, "rate": "1000000000.000001"}]))
    assert "1000000000.000001 is too large an amount: at most 1000000000.00" in found
    [category] = read_catalog(read([{**GOOD_SERVICE, "rate": "1000000000"}]))
    assert category.services[0].columns["rate"] == 1_000_000_000 * 1_000_000
