"""Account names compare by key and refuse odd characters; new passwords are long and uncommon."""

import pytest

from smmpanel.accounts.names import NAME_HAS_ODD_CHARACTER, check_new_name, name_key
from smmpanel.accounts.operators import OPERATOR_NAME_TAKEN, create_operator, operator_by_name
from smmpanel.accounts.passwords import (
    PASSWORD_TOO_COMMON,
    PASSWORD_TOO_SHORT,
    check_new_password,
)
from smmpanel.accounts.service import CUSTOMER_NAME_TAKEN, create_customer, customer_for_sign_in
from smmpanel.errors import Refusal

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    "typed", ["admin", " admin", "\tadmin", "\u00a0admin", "\u2003admin ", "ADMIN", "\uff41dmin"]
)
def test_a_name_with_white_space_around_or_in_another_case_or_width_has_one_key(typed):
    assert name_key(typed) == "admin"


@pytest.mark.parametrize("odd", ["a b", "a\u00a0b", "a\u202eb", "a\u200bb", "a\x00b", "a\x1bb"])
def test_names_with_space_control_or_format_characters_are_refused(odd):
    with pytest.raises(Refusal) as caught:
        check_new_name(odd)
    assert caught.value.kind is NAME_HAS_ODD_CHARACTER
    assert caught.value.params == {"character": f"U+{ord(odd[1]):04X}"}


def test_names_in_any_script_are_taken():
    check_new_name("王小明")
    check_new_name("o'brien-2")


@pytest.mark.parametrize(
    ("password", "kind"),
    [("nine char", PASSWORD_TOO_SHORT), ("Password123", PASSWORD_TOO_COMMON)],
)
def test_short_or_common_passwords_are_refused(password, kind):
    with pytest.raises(Refusal) as caught:
        check_new_password(password)
    assert caught.value.kind is kind


def test_a_long_uncommon_password_is_taken():
    check_new_password("correct horse battery")


async def test_a_customer_is_found_and_taken_by_its_key(conn):
    customer_id = await create_customer(conn, "Zoë")
    found = await customer_for_sign_in(conn, " ZOË ")
    assert found is not None and found.id == customer_id
    with pytest.raises(Refusal) as caught:
        await create_customer(conn, "zoë")
    assert caught.value.kind is CUSTOMER_NAME_TAKEN
    assert caught.value.params == {"name": "Zoë", "id": customer_id}


async def test_an_operator_is_found_and_taken_by_its_key(conn):
    operator_id = await create_operator(conn, "Chief", "hash")
    found = await operator_by_name(conn, "\u2003chief")
    assert found is not None and found.id == operator_id
    with pytest.raises(Refusal) as caught:
        await create_operator(conn, "CHIEF", "hash")
    assert caught.value.kind is OPERATOR_NAME_TAKEN
