"""Strings the customer pages take from the domain and translate when shown: statuses, refusals."""

from smmpanel.orders import errors
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


def fixed_refusals() -> list[str]:
    return [value for name, value in vars(errors).items() if name.isupper()]


def test_every_status_and_fixed_refusal_has_a_traditional_chinese_translation():
    statuses = {*ORDER_STATUSES, *SUBSCRIPTION_STATUSES, *REFILL_STATUSES}
    statuses |= {CANCEL_PENDING, CANCEL_ACCEPTED, CANCEL_REJECTED}
    translations = i18n._catalogue("zh_TW")
    missing = [text for text in sorted(statuses) + fixed_refusals() if text not in translations]
    assert not missing


def test_refusals_with_numbers_and_field_names_are_translated_whole():
    token = i18n.current_language.set("zh_TW")
    try:
        assert explain_refusal(errors.quantity_below(50)) == "數量低於最低限制 50"
        assert explain_refusal(errors.quantity_above(900)) == "數量超過最高限制 900"
        assert explain_refusal(errors.required("answer_number")) == "請填寫「選項編號」。"
        assert explain_refusal(errors.OrderRefused(errors.NOT_ENOUGH_FUNDS)) == "餘額不足"
    finally:
        i18n.current_language.reset(token)
    assert explain_refusal(errors.required("link")) == "Link is required."
