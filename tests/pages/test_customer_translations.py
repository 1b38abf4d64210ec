"""Strings the customer pages take from the domain and translate when shown: statuses, refusals."""

import pytest

from smmpanel.orders import refusals
from smmpanel.orders.statuses import (
    CANCEL_ACCEPTED,
    CANCEL_PENDING,
    CANCEL_REJECTED,
    ORDER_STATUSES,
    REFILL_STATUSES,
    SUBSCRIPTION_STATUSES,
)
from smmpanel.pagekit import i18n
from smmpanel.web.customer_placing import explain_refusal

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


def test_every_status_has_a_traditional_chinese_translation():
    statuses = {*ORDER_STATUSES, *SUBSCRIPTION_STATUSES, *REFILL_STATUSES}
    statuses |= {CANCEL_PENDING, CANCEL_ACCEPTED, CANCEL_REJECTED}
    translations = i18n._catalogue("zh_TW")
    assert not [text for text in sorted(statuses) if text not in translations]


def test_refusals_with_numbers_and_field_names_are_translated_whole():
    token = i18n.current_language.set("zh_TW")
    try:
        assert explain_refusal(refusals.QUANTITY_BELOW_MIN(min=50)) == "數量低於最低限制 50"
        assert explain_refusal(refusals.QUANTITY_ABOVE_MAX(max=900)) == "數量超過最高限制 900"
        assert (
            explain_refusal(refusals.FIELD_REQUIRED(field="answer_number"))
            == "請填寫「選項編號」。"
        )
        assert explain_refusal(refusals.NOT_ENOUGH_FUNDS()) == "餘額不足"
    finally:
        i18n.current_language.reset(token)
    assert explain_refusal(refusals.FIELD_REQUIRED(field="link")) == "Link is required"


def test_the_api_reads_the_contracts_words_from_the_same_refusal():
    assert refusals.QUANTITY_BELOW_MIN(min=100).message == "Quantity less than minimal 100"
    assert refusals.FIELD_REQUIRED(field="link").message == "link is required"
    assert refusals.QUANTITY_BELOW_MIN(min=100).code == "quantity_below_min"
