"""Demo data for a first run: a small manual catalogue and a customer with funds."""

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers
from smmpanel.accounts.operators import create_operator
from smmpanel.accounts.passwords import hash_password
from smmpanel.accounts.service import create_api_key, create_customer
from smmpanel.catalog.service import category_id_for, create_service
from smmpanel.money import parse, to_micros
from smmpanel.panel.content import KIND_PAGE, PageText, add_page, set_published
from smmpanel.payments.methods import add_method

DEMO_CUSTOMER = "demo"
DEMO_OPERATOR = "admin"
DEMO_BALANCE = "100"
# Paid by hand and approved by the operator: it needs no gateway account.
DEMO_PAYMENT_METHOD = {
    "name": "Bank transfer",
    "name_zh": "銀行轉帳",
    "instructions": "Transfer to account 000-1234567 (demo), then write the transfer's reference.",
    "instructions_zh": "請轉帳至帳號 000-1234567（示範），並填寫轉帳參考資料。",
    "gateway": "manual",
    "currency": "USD",
    "rate": to_micros(parse("1")),
    "min_amount": to_micros(parse("10")),
    "max_amount": to_micros(parse("10000")),
    "fee_percent": 0,
    "fee_fixed": 0,
    "bonus_percent": 0,
    "bonus_from": 0,
}

DEMO_CATALOG = {
    "Instagram - Followers": [
        ("Instagram Followers [Refill 30 days]", "Default", "1.02", 100, 10000, True, True, True),
        ("Instagram Followers - Cheap", "Default", "0.04", 500, 300000, True, False, False),
    ],
    "Instagram - Comments": [
        ("Instagram Custom Comments", "Custom Comments", "12.5", 5, 500, False, False, True),
        ("Instagram Comment Likes", "Comment Likes", "2.4", 20, 5000, False, False, True),
    ],
    "Instagram - Packages": [
        ("Instagram Starter Package", "Package", "3", 1, 1, False, False, False),
    ],
    "Instagram - Auto Likes": [
        (
            "Instagram Auto Likes (subscription)",
            "Subscriptions",
            "0.9",
            50,
            5000,
            False,
            False,
            False,
        ),
    ],
    "Telegram - Polls": [
        ("Telegram Poll Votes", "Poll", "0.8", 100, 50000, False, False, True),
    ],
}

# Published from the start, so that the footer shows its links.
DEMO_PAGES = [
    PageText(
        slug="terms",
        kind=KIND_PAGE,
        title_en="Terms of service",
        title_zh_tw="服務條款",
        body_en=(
            "# Orders\n\n"
            "- Check the link before you order: an order for a wrong or private link is not"
            " refunded.\n"
            "- Each service's refill period is on the [services page](/services).\n\n"
            "# Payments\n\nFunds added to your balance are not paid back in cash."
        ),
        body_zh_tw=(
            "# 訂單\n\n"
            "- 下單前請確認連結：連結錯誤或未公開的訂單不予退款。\n"
            "- 各服務的補量期限請見[服務列表](/services)。\n\n"
            "# 付款\n\n已加值至餘額的款項不以現金退還。"
        ),
    ),
    PageText(
        slug="faq",
        kind=KIND_PAGE,
        title_en="Frequently asked questions",
        title_zh_tw="常見問題",
        body_en=(
            "# When does my order start?\n\nMost orders start within an hour; the services"
            " page shows each service's average time.\n\n"
            "# Can I cancel an order?\n\nWhere the service allows it, from the order's page,"
            " until the order starts."
        ),
        body_zh_tw=(
            "# 訂單何時開始？\n\n大多數訂單會在一小時內開始；服務列表會顯示各服務的平均完成"
            "時間。\n\n"
            "# 可以取消訂單嗎？\n\n若服務允許，在訂單開始前可於訂單頁面申請取消。"
        ),
    ),
]


async def database_is_empty(conn: AsyncConnection) -> bool:
    return not await conn.scalar(select(func.count()).select_from(customers))


@dataclass(frozen=True)
class DemoAccess:
    api_key: str
    customer_password: str
    operator_password: str


async def create_demo_data(conn: AsyncConnection) -> DemoAccess:
    """Fill an empty panel with the demo catalogue, a customer and an operator."""
    for position, (category, rows) in enumerate(DEMO_CATALOG.items()):
        category_id = await category_id_for(conn, category, position)
        for service_position, row in enumerate(rows):
            name, type_, rate, low, high, dripfeed, refill, cancel = row
            await create_service(
                conn,
                category_id,
                name=name,
                type=type_,
                rate=to_micros(parse(rate)),
                min_quantity=low,
                max_quantity=high,
                description=f"{name}. Delivered by hand by the panel's operator.",
                dripfeed=dripfeed,
                refill=refill,
                cancel=cancel,
                position=service_position,
            )
    customer_password, operator_password = secrets.token_urlsafe(9), secrets.token_urlsafe(9)
    customer_id = await create_customer(
        conn,
        DEMO_CUSTOMER,
        to_micros(parse(DEMO_BALANCE)),
        password_hash=await hash_password(customer_password),
    )
    await create_operator(conn, DEMO_OPERATOR, await hash_password(operator_password))
    await add_method(conn, **DEMO_PAYMENT_METHOD)
    for page in DEMO_PAGES:
        await set_published(conn, await add_page(conn, page), True)
    api_key = await create_api_key(conn, customer_id)
    return DemoAccess(api_key, customer_password, operator_password)
