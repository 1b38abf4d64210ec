"""A payment is credited once: concurrent verified notices, replays and approvals race for one
conditional update, and the ledger rows' causes are unique per payment. On SQLite and
PostgreSQL, with committed transactions on a pool of connections."""

# The fixtures imported from payments_fixtures are parameters of the tests below.
# ruff: noqa: F811

import asyncio
from datetime import timedelta

import pytest
from payments_fixtures import Till, micros, payments_db  # noqa: F401 - fixtures
from sqlalchemy import select, update

from smmpanel.accounts.models import ledger_entries
from smmpanel.errors import Refusal
from smmpanel.payments.gateways import PAID as NOTICE_PAID
from smmpanel.payments.gateways import Notice
from smmpanel.payments.models import EXPIRED, FAILED, PAID, PENDING, REVIEW, payment_methods
from smmpanel.payments.service import (
    NOT_APPROVABLE,
    NOTICES_KEPT,
    REFERENCE_TAKEN,
    apply_notice,
    approve,
    expire_due,
    notices_of,
    payment_by_id,
    record_notice,
    reject,
)


async def notify(till: Till, payment_id: int, notice: Notice, live: bool = False) -> str:
    async with till.db.write() as conn:
        payment = await payment_by_id(conn, payment_id)
        return await apply_notice(conn, payment, notice, merchant="M1", live=live)


def paid(
    amount: str, currency: str = "TWD", *, simulated: bool = False, more_is_fine: bool = False
) -> Notice:
    return Notice(
        "g",
        NOTICE_PAID,
        amount=micros(amount),
        currency=currency,
        merchant="M1",
        simulated=simulated,
        more_is_fine=more_is_fine,
    )


async def ledger_causes(till: Till, payment_id: int) -> list[tuple[str, int]]:
    async with till.db.read() as conn:
        rows = await conn.execute(
            select(ledger_entries.c.cause, ledger_entries.c.amount)
            .where(ledger_entries.c.payment_id == payment_id)
            .order_by(ledger_entries.c.id)
        )
        return [(row.cause, row.amount) for row in rows]


async def test_fifty_identical_verified_notices_credit_once_with_its_bonus(payments_db):
    till = await Till.new(
        payments_db,
        gateway="manual",
        fee_percent=micros("2.5"),
        fee_fixed=micros("10"),
        bonus_percent=micros("5"),
        bonus_from=micros("1000"),
    )
    payment_id = await till.open("2000")

    outcomes = await asyncio.gather(*(notify(till, payment_id, paid("2000")) for _ in range(50)))

    assert outcomes.count("credited") == 1
    # fee 2.5 % of 2000 + 10 = 60; 1940 credited; bonus 5 % = 97
    assert await ledger_causes(till, payment_id) == [
        ("payment", micros("1940")),
        ("payment:bonus", micros("97")),
    ]
    assert await till.balance() == micros("2037")
    assert (await till.payment(payment_id)).status == PAID
    assert await till.audit() == []


async def test_an_operator_approving_while_a_notice_arrives_credits_once(payments_db):
    till = await Till.new(payments_db)
    payment_id = await till.open("500")

    async def approving() -> str:
        async with till.db.write() as conn:
            try:
                await approve(conn, payment_id)
            except Refusal as refused:
                return refused.code
        return "approved"

    results = await asyncio.gather(
        *(notify(till, payment_id, paid("500")) for _ in range(10)),
        *(approving() for _ in range(10)),
    )

    assert sum(result in ("credited", "approved") for result in results) == 1
    assert await till.balance() == micros("500")
    assert await till.audit() == []


@pytest.mark.parametrize(
    ("notice", "why"),
    [
        (paid("499"), "paid 499.00 TWD, asked 500.00"),
        (paid("501"), "paid 501.00 TWD, asked 500.00"),
        (paid("500", currency="USD"), "paid in USD, not TWD"),
        (
            Notice("g", NOTICE_PAID, amount=500_000_000, currency="TWD", merchant="M2"),
            "merchant M2",
        ),
    ],
)
async def test_a_paid_notice_that_does_not_match_goes_to_review_not_to_the_balance(
    payments_db, notice, why
):
    till = await Till.new(payments_db)
    payment_id = await till.open("500")

    outcome = await notify(till, payment_id, notice)

    payment = await till.payment(payment_id)
    assert (payment.status, outcome.startswith("review")) == (REVIEW, True)
    assert why in payment.note
    assert await till.balance() == 0
    # The operator approves what was asked, once.
    async with till.db.write() as conn:
        await approve(conn, payment_id)
    async with till.db.write() as conn:
        with pytest.raises(Refusal) as twice:
            await approve(conn, payment_id)
    assert twice.value.kind is NOT_APPROVABLE
    assert await till.balance() == micros("500")
    assert await till.audit() == []


async def test_more_paid_where_the_gateway_says_it_is_fine_is_credited_as_paid(payments_db):
    till = await Till.new(payments_db, rate=micros("31.5"), currency="USD")
    payment_id = await till.open("100")

    assert await notify(till, payment_id, paid("120", "USD", more_is_fine=True)) == "credited"

    payment = await till.payment(payment_id)
    assert (payment.amount, payment.credited) == (micros("120"), micros("3780"))
    assert await till.balance() == micros("3780")
    assert await till.audit() == []


async def test_a_simulated_payment_credits_nothing_in_production(payments_db):
    till = await Till.new(payments_db)
    payment_id = await till.open("500")

    outcome = await notify(till, payment_id, paid("500", simulated=True), live=True)

    assert "simulated" in outcome
    assert (await till.payment(payment_id)).status == PENDING
    assert await till.balance() == 0
    assert await notify(till, payment_id, paid("500", simulated=True)) == "credited"


async def test_an_expired_payment_paid_late_waits_for_review(payments_db):
    till = await Till.new(payments_db, gateway="manual")
    manual_id = await till.open("500", reference="late-1", lifetime=timedelta(seconds=-1))
    gateway_till = await Till.new(payments_db, gateway="manual")
    async with payments_db.write() as conn:  # a gateway's method: only those expire
        await conn.execute(
            update(payment_methods)
            .where(payment_methods.c.id == gateway_till.method_id)
            .values(gateway="ecpay")
        )
    payment_id = await gateway_till.open("500", lifetime=timedelta(seconds=-1))

    async with payments_db.write() as conn:
        assert await expire_due(conn) >= 1

    assert (await till.payment(manual_id)).status == PENDING, "a manual payment waits"
    assert (await gateway_till.payment(payment_id)).status == EXPIRED
    assert (await notify(gateway_till, payment_id, paid("500"))).startswith("review")
    assert (await gateway_till.payment(payment_id)).status == REVIEW
    assert await gateway_till.balance() == 0
    assert await gateway_till.audit() == []


async def test_a_manual_reference_is_used_once_and_a_rejected_payment_stays_unpaid(payments_db):
    till = await Till.new(payments_db)
    payment_id = await till.open("500", reference="TX-77")
    with pytest.raises(Refusal) as taken:
        await till.open("500", reference="TX-77")
    assert taken.value.kind is REFERENCE_TAKEN

    async with payments_db.write() as conn:
        await reject(conn, payment_id, "no such transfer")
    payment = await till.payment(payment_id)
    assert (payment.status, payment.note) == (FAILED, "rejected: no such transfer")
    # Money that arrives after all is the operator's to look at, not lost.
    assert await notify(till, payment_id, paid("500")) == "review: paid after it was failed"
    assert await notify(till, payment_id, paid("500")) == "ignored: the payment is review"
    assert await till.balance() == 0
    assert await till.audit() == []


async def test_a_flood_of_notices_keeps_a_bounded_number_with_the_payment(payments_db):
    till = await Till.new(payments_db)
    payment_id = await till.open("500")

    for n in range(NOTICES_KEPT + 10):
        async with payments_db.write() as conn:
            await record_notice(conn, payment_id, verified=False, outcome="refused", body=f"{n}")

    async with payments_db.read() as conn:
        kept = await notices_of(conn, payment_id)
    assert [row.body for row in kept] == [str(n) for n in range(NOTICES_KEPT)]
