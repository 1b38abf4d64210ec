"""What a person types as an id: ASCII digits that fit a BIGINT; anything else is a name (or
nothing), never an error from int() or the database driver."""

import pytest
from domain_helpers import new_customer

from smmpanel.accounts.service import NO_CUSTOMER, find_customer
from smmpanel.errors import Refusal
from smmpanel.integers import MAX_INT64, typed_id
from smmpanel.payments.methods import NO_SUCH_METHOD, find_method
from smmpanel.providers.service import NO_PROVIDER, find_provider

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`

NOT_IDS = ["²", "١٢", "０１", "0", "-1", "1.0", " 1", "", str(MAX_INT64 + 1), "12a"]


@pytest.mark.parametrize("text", NOT_IDS)
def test_what_is_not_an_id(text):
    assert typed_id(text) is None


def test_an_id():
    assert (typed_id("1"), typed_id("007"), typed_id(str(MAX_INT64))) == (1, 7, MAX_INT64)


@pytest.mark.parametrize("text", NOT_IDS)
async def test_looking_up_by_what_is_not_an_id_refuses_clearly(conn, text):
    for find, kind in (
        (find_customer, NO_CUSTOMER),
        (find_method, NO_SUCH_METHOD),
        (find_provider, NO_PROVIDER),
    ):
        with pytest.raises(Refusal) as refused:
            await find(conn, text)
        assert refused.value.kind is kind


async def test_a_customer_is_found_by_id_and_by_name(conn):
    customer_id = await new_customer(conn)
    assert await find_customer(conn, str(customer_id)) == customer_id
