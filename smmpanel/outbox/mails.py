"""The texts of the e-mails and alerts, in each language the panel speaks.

Each text is a `%(name)s` template filled from the context its caller gives; a mail is rendered
when it is queued, so the outbox keeps exactly what was sent. Kept here rather than in the pages'
gettext catalogue: a mail is a whole text per language, and the outbox is a domain that does not
use the pages' machinery.
"""

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


MAILS: dict[str, dict[str, Text]] = {
    "verify_email": {
        "en": Text(
            "Confirm your e-mail address",
            "Hello %(name)s,\n\n"
            "please confirm that this address is yours by opening this link:\n\n"
            "%(url)s\n\n"
            "If you did not ask for this, ignore this e-mail.\n",
        ),
        "zh_TW": Text(
            "請確認您的電子郵件地址",
            "%(name)s 您好：\n\n"
            "請開啟以下連結，確認這個地址屬於您：\n\n"
            "%(url)s\n\n"
            "如果這不是您要求的，請忽略這封郵件。\n",
        ),
    },
    "password_reset": {
        "en": Text(
            "Reset your password",
            "Hello %(name)s,\n\n"
            "someone asked to reset the password of your account. To choose a new one, open "
            "this link within one hour:\n\n"
            "%(url)s\n\n"
            "If it was not you, ignore this e-mail: your password stays as it is.\n",
        ),
        "zh_TW": Text(
            "重設您的密碼",
            "%(name)s 您好：\n\n"
            "有人要求重設您帳號的密碼。請在一小時內開啟以下連結設定新密碼：\n\n"
            "%(url)s\n\n"
            "如果這不是您本人，請忽略這封郵件，您的密碼不會改變。\n",
        ),
    },
    "ticket_reply": {
        "en": Text(
            "Reply to your ticket #%(ticket_id)s: %(subject)s",
            "Hello %(name)s,\n\n"
            "your ticket #%(ticket_id)s (%(subject)s) has a new reply. Read it here:\n\n"
            "%(url)s\n",
        ),
        "zh_TW": Text(
            "您的工單 #%(ticket_id)s 有新回覆：%(subject)s",
            "%(name)s 您好：\n\n"
            "您的工單 #%(ticket_id)s（%(subject)s）有新回覆，請至此閱讀：\n\n"
            "%(url)s\n",
        ),
    },
    "order_canceled": {
        "en": Text(
            "Order #%(order_id)s canceled",
            "Hello %(name)s,\n\n"
            "your order #%(order_id)s was canceled and its charge returned to your balance. "
            "See it here:\n\n"
            "%(url)s\n",
        ),
        "zh_TW": Text(
            "訂單 #%(order_id)s 已取消",
            "%(name)s 您好：\n\n"
            "您的訂單 #%(order_id)s 已取消，費用已退回您的餘額。詳情請見：\n\n"
            "%(url)s\n",
        ),
    },
    "order_partial": {
        "en": Text(
            "Order #%(order_id)s partially delivered",
            "Hello %(name)s,\n\n"
            "your order #%(order_id)s was delivered in part: %(remains)s were not delivered, "
            "and their share of the charge was returned to your balance. See it here:\n\n"
            "%(url)s\n",
        ),
        "zh_TW": Text(
            "訂單 #%(order_id)s 部分完成",
            "%(name)s 您好：\n\n"
            "您的訂單 #%(order_id)s 只完成了一部分：未完成的數量為 %(remains)s，"
            "這部分的費用已退回您的餘額。詳情請見：\n\n"
            "%(url)s\n",
        ),
    },
    "deposit_receipt": {
        "en": Text(
            "Deposit received: %(amount)s",
            "Hello %(name)s,\n\n%(amount)s was added to your balance. Your payments:\n\n%(url)s\n",
        ),
        "zh_TW": Text(
            "已收到儲值：%(amount)s",
            "%(name)s 您好：\n\n%(amount)s 已加入您的餘額。您的付款紀錄：\n\n%(url)s\n",
        ),
    },
}

ALERTS: dict[str, dict[str, Text]] = {
    "new_ticket": {
        "en": Text(
            "New ticket #%(ticket_id)s from %(customer)s",
            "New ticket #%(ticket_id)s from %(customer)s: %(subject)s\n%(url)s\n",
        ),
        "zh_TW": Text(
            "%(customer)s 開了新工單 #%(ticket_id)s",
            "%(customer)s 開了新工單 #%(ticket_id)s：%(subject)s\n%(url)s\n",
        ),
    },
    "payment_review": {
        "en": Text(
            "Payment #%(payment_id)s held for review",
            "Payment #%(payment_id)s waits for an operator's review.\n%(url)s\n",
        ),
        "zh_TW": Text(
            "付款 #%(payment_id)s 待審核",
            "付款 #%(payment_id)s 正等待管理員審核。\n%(url)s\n",
        ),
    },
    "order_doubt": {
        "en": Text(
            "Order #%(order_id)s in doubt",
            "Order #%(order_id)s is in doubt: whether its provider received it is not known. "
            "Check it at the provider, then settle it.\n%(url)s\n",
        ),
        "zh_TW": Text(
            "訂單 #%(order_id)s 狀態不明",
            "訂單 #%(order_id)s 狀態不明：無法確定供應商是否已收到。"
            "請向供應商確認後再處理。\n%(url)s\n",
        ),
    },
    "provider_funds": {
        "en": Text(
            "Provider %(provider)s is short of funds",
            "Provider %(provider)s is short of funds (balance: %(balance)s). "
            "Orders for it wait until it is topped up.\n",
        ),
        "zh_TW": Text(
            "供應商 %(provider)s 餘額不足",
            "供應商 %(provider)s 餘額不足（餘額：%(balance)s）。"
            "儲值前，送往該供應商的訂單會暫停等待。\n",
        ),
    },
    "provider_failures": {
        "en": Text(
            "Provider %(provider)s keeps failing: %(what)s",
            "Provider %(provider)s failed again at %(what)s: %(error)s\n",
        ),
        "zh_TW": Text(
            "供應商 %(provider)s 持續失敗：%(what)s",
            "供應商 %(provider)s 在%(what)s時再次失敗：%(error)s\n",
        ),
    },
}


def render(texts: Mapping[str, Text], language: str, context: Mapping[str, str]) -> Text:
    """One text in `language` (English when the language is not one the panel speaks), filled
    from `context`: a missing key is the caller's mistake and raises KeyError."""
    text = texts.get(language) or texts[DEFAULT_LANGUAGE]
    values = dict(context)
    return Text(subject=text.subject % values, body=text.body % values)
