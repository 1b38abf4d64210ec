"""Payments: opened by a customer, settled once.

Settling is one transaction: a conditional status update (only from the statuses the step
allows) and, when paid, ledger rows whose cause is unique per payment ("payment", and
"payment:bonus" for a bonus). A replayed notice, a race of two notices or an operator approving
twice finds the status moved on and changes nothing.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers
from smmpanel.accounts.service import credit
from smmpanel.db.base import AnyRow, as_utc, utcnow
from smmpanel.errors import refusal
from smmpanel.money import render_balance
from smmpanel.outbox.languages import mail_language
from smmpanel.outbox.queue import panel_url, queue_alert, queue_mail
from smmpanel.panel.service import get_settings as get_panel_settings
from smmpanel.payments.gateways import FAILED as NOTICE_FAILED
from smmpanel.payments.gateways import INFO, Notice
from smmpanel.payments.gateways import PAID as NOTICE_PAID
from smmpanel.payments.methods import Method, Quote, Terms
from smmpanel.payments.models import (
    EXPIRED,
    FAILED,
    PAID,
    PENDING,
    REVIEW,
    payment_methods,
    payment_notices,
    payments,
)

NOTICE_BODY_LIMIT = 8_000  # characters of a notice kept for the operator
NOTICES_KEPT = 50  # notices kept per payment
# The statuses an operator may settle a payment from.
APPROVABLE = (PENDING, EXPIRED, REVIEW)
REJECTABLE = (PENDING, REVIEW)

METHOD_DISABLED = refusal(
    "payment_method_disabled", "this payment method is not available; pick another"
)
AMOUNT_OUT_OF_LIMITS = refusal(
    "payment_amount_out_of_limits", "the amount must be between %(min)s and %(max)s %(currency)s"
)
NOTHING_TO_CREDIT = refusal(
    "payment_fee_takes_all", "the fee takes all of %(amount)s %(currency)s; pay more"
)
EMPTY_REFERENCE = refusal(
    "payment_reference_empty", "write the reference of your transfer so it can be found"
)
REFERENCE_TAKEN = refusal(
    "payment_reference_taken", "a payment with this reference exists already; check the reference"
)
NO_SUCH_PAYMENT = refusal("no_such_payment", "no payment %(id)s (see: smmpanel payment list)")
NOT_APPROVABLE = refusal(
    "payment_not_approvable",
    "payment %(id)s is %(status)s: only a pending, expired or review payment can be approved",
)
NOT_REJECTABLE = refusal(
    "payment_not_rejectable",
    "payment %(id)s is %(status)s: only a pending or review payment can be rejected",
)
NO_REJECT_REASON = refusal("payment_reject_reason", "say why the payment is rejected")


@dataclass(frozen=True)
class Payment:
    id: int
    customer_id: int
    method_id: int
    gateway_id: str | None
    amount: int
    currency: str
    fee: int
    credited: int
    bonus: int
    terms: Terms
    status: str
    note: str
    details: Mapping[str, str]
    created_at: datetime
    expires_at: datetime
    settled_at: datetime | None

    @classmethod
    def from_row(cls, row: AnyRow) -> "Payment":
        values = dict(row._mapping)
        values["terms"] = Terms.from_json(values["terms"])
        values["details"] = json.loads(values["details"])
        for name in ("created_at", "expires_at"):
            values[name] = as_utc(values[name])
        if values["settled_at"] is not None:
            values["settled_at"] = as_utc(values["settled_at"])
        return cls(**{name: values[name] for name in cls.__dataclass_fields__})


async def open_payment(
    conn: AsyncConnection,
    customer_id: int,
    method: Method,
    amount: int,
    lifetime: timedelta,
    reference: str | None = None,
) -> int:
    """A pending payment of `amount` in the method's currency; refused outside its limits or
    when the fee would take it all."""
    if not method.enabled:
        raise METHOD_DISABLED()
    terms = method.terms
    if not method.min_amount <= amount <= method.max_amount:
        raise AMOUNT_OUT_OF_LIMITS(
            min=render_balance(method.min_amount),
            max=render_balance(method.max_amount),
            currency=terms.currency,
        )
    quote = terms.quote(amount)
    if quote.credited <= 0:
        raise NOTHING_TO_CREDIT(amount=render_balance(amount), currency=terms.currency)
    if reference is not None:
        await _check_reference(conn, method.id, reference)
    now = utcnow()
    payment_id = await conn.scalar(
        insert(payments)
        .values(
            customer_id=customer_id,
            method_id=method.id,
            gateway_id=reference,
            currency=terms.currency,
            terms=terms.to_json(),
            status=PENDING,
            created_at=now,
            expires_at=now + lifetime,
            **_quoted(quote),
        )
        .returning(payments.c.id)
    )
    return int(payment_id)


async def _check_reference(conn: AsyncConnection, method_id: int, reference: str) -> None:
    if not reference.strip():
        raise EMPTY_REFERENCE()
    taken = await conn.scalar(
        select(payments.c.id).where(
            payments.c.method_id == method_id, payments.c.gateway_id == reference
        )
    )
    if taken is not None:
        raise REFERENCE_TAKEN()


def _quoted(quote: Quote) -> dict[str, int]:
    return {
        "amount": quote.amount,
        "fee": quote.fee,
        "credited": quote.credited,
        "bonus": quote.bonus,
    }


async def set_gateway_id(conn: AsyncConnection, payment_id: int, gateway_id: str) -> None:
    await conn.execute(
        update(payments).where(payments.c.id == payment_id).values(gateway_id=gateway_id)
    )


async def settle_paid(
    conn: AsyncConnection,
    payment_id: int,
    from_statuses: Iterable[str],
    quote: Quote | None = None,
    note: str = "",
) -> bool:
    """Mark the payment paid (at `quote`, if the amount paid differs from the one asked) and
    credit it, if it is in one of `from_statuses`; False if it was not."""
    values: dict[str, Any] = {"status": PAID, "settled_at": utcnow(), "note": note}
    if quote is not None:
        values |= _quoted(quote)
    moved = await conn.execute(
        update(payments)
        .where(payments.c.id == payment_id, payments.c.status.in_(sorted(from_statuses)))
        .values(**values)
    )
    if moved.rowcount != 1:
        return False
    payment = await payment_by_id(conn, payment_id)
    reason = f"payment {payment_id}"
    await credit(
        conn,
        payment.customer_id,
        payment.credited,
        kind="deposit",
        reason=reason,
        payment_id=payment_id,
        cause="payment",
    )
    if payment.bonus:
        await credit(
            conn,
            payment.customer_id,
            payment.bonus,
            kind="deposit",
            reason=f"{reason} bonus",
            payment_id=payment_id,
            cause="payment:bonus",
        )
    await _mail_receipt(conn, payment)
    return True


async def _mail_receipt(conn: AsyncConnection, payment: Payment) -> None:
    """The customer's receipt, if they gave an address; once per payment."""
    customer = (
        await conn.execute(
            select(customers.c.name, customers.c.email, customers.c.language).where(
                customers.c.id == payment.customer_id
            )
        )
    ).one()
    if not customer.email:
        return
    panel = await get_panel_settings(conn)
    await queue_mail(
        conn,
        to=customer.email,
        language=await mail_language(conn, customer.language),
        kind="deposit_receipt",
        context={
            "name": customer.name,
            "amount": f"{render_balance(payment.credited + payment.bonus)} {panel.currency}",
            "url": panel_url(f"/funds/payments/{payment.id}"),
        },
        dedup_key=f"deposit_receipt:{payment.id}",
    )


async def _move(
    conn: AsyncConnection, payment_id: int, status: str, from_statuses: Iterable[str], note: str
) -> bool:
    moved = await conn.execute(
        update(payments)
        .where(payments.c.id == payment_id, payments.c.status.in_(sorted(from_statuses)))
        .values(status=status, note=note, settled_at=utcnow())
    )
    return moved.rowcount == 1


async def approve(conn: AsyncConnection, payment_id: int) -> Payment:
    """An operator's approval: credits the payment as asked, once."""
    payment = await payment_by_id(conn, payment_id)
    if not await settle_paid(conn, payment_id, APPROVABLE, note=payment.note):
        raise NOT_APPROVABLE(id=payment_id, status=payment.status)
    return await payment_by_id(conn, payment_id)


async def reject(conn: AsyncConnection, payment_id: int, reason: str) -> Payment:
    if not reason.strip():
        raise NO_REJECT_REASON()
    payment = await payment_by_id(conn, payment_id)
    if not await _move(conn, payment_id, FAILED, REJECTABLE, f"rejected: {reason}"):
        raise NOT_REJECTABLE(id=payment_id, status=payment.status)
    return await payment_by_id(conn, payment_id)


async def fail(conn: AsyncConnection, payment_id: int, note: str) -> bool:
    return await _move(conn, payment_id, FAILED, (PENDING,), note)


async def expire_due(conn: AsyncConnection, now: datetime | None = None) -> int:
    """Pending payments past their time become expired (a manual one waits for the operator);
    how many."""
    manual = select(payment_methods.c.id).where(payment_methods.c.gateway == "manual")
    moved = await conn.execute(
        update(payments)
        .where(
            payments.c.status == PENDING,
            payments.c.expires_at < (now or utcnow()),
            payments.c.method_id.not_in(manual),
        )
        .values(status=EXPIRED, settled_at=utcnow())
    )
    return moved.rowcount


async def apply_notice(
    conn: AsyncConnection, payment: Payment, notice: Notice, *, merchant: str | None, live: bool
) -> str:
    """Act on a verified notice of `payment` (read in this transaction, locked by the update
    that moves it); what was done, for the notice's record."""
    if notice.outcome == NOTICE_PAID:
        return await _apply_paid(conn, payment, notice, merchant=merchant, live=live)
    if notice.outcome == NOTICE_FAILED:
        done = await fail(conn, payment.id, notice.summary or "the gateway says it failed")
        return "failed" if done else f"ignored: the payment is {payment.status}"
    if notice.outcome == INFO and notice.details:
        await conn.execute(
            update(payments)
            .where(payments.c.id == payment.id)
            .values(details=json.dumps(dict(notice.details), ensure_ascii=False))
        )
        return "payment details noted"
    return "nothing to do"


async def _apply_paid(
    conn: AsyncConnection, payment: Payment, notice: Notice, *, merchant: str | None, live: bool
) -> str:
    if notice.simulated and live:
        return "ignored: a simulated payment, and this panel is in production"
    mismatch = _mismatch(payment, notice, merchant)
    if not mismatch and payment.status in (EXPIRED, FAILED):
        mismatch = f"paid after it was {payment.status}"
    if mismatch:
        moved = await _move(conn, payment.id, REVIEW, (PENDING, EXPIRED, FAILED), mismatch)
        if moved:
            await _alert_review(conn, payment.id)
        return f"review: {mismatch}" if moved else f"ignored: the payment is {payment.status}"
    quote = None
    if notice.amount is not None and notice.amount > payment.amount:
        quote = payment.terms.quote(notice.amount)
    if await settle_paid(conn, payment.id, (PENDING,), quote, note=notice.summary):
        return "credited"
    return f"ignored: the payment is {payment.status}"


async def _alert_review(conn: AsyncConnection, payment_id: int) -> None:
    await queue_alert(
        conn,
        kind="payment_review",
        dedup_key=str(payment_id),
        context={
            "payment_id": str(payment_id),
            "url": panel_url(f"/admin/payments/{payment_id}"),
        },
    )


def _mismatch(payment: Payment, notice: Notice, merchant: str | None) -> str:
    """Why a paid notice does not match its payment; empty if it does."""
    if merchant is not None and notice.merchant is not None and notice.merchant != merchant:
        return f"paid to merchant {notice.merchant}, not {merchant}"
    if notice.currency is not None and notice.currency != payment.currency:
        return f"paid in {notice.currency}, not {payment.currency}"
    if notice.amount is None:
        return ""
    paid, asked = render_balance(notice.amount), render_balance(payment.amount)
    if notice.amount < payment.amount or (
        notice.amount > payment.amount and not notice.more_is_fine
    ):
        return f"paid {paid} {payment.currency}, asked {asked}"
    return ""


async def record_notice(
    conn: AsyncConnection, payment_id: int, *, verified: bool, outcome: str, body: str
) -> None:
    """Keep a notice with its payment; past NOTICES_KEPT of them (replays, forgeries sent in
    a flood) only the log tells of more."""
    kept = await conn.scalar(
        select(func.count())
        .select_from(payment_notices)
        .where(payment_notices.c.payment_id == payment_id)
    )
    if (kept or 0) >= NOTICES_KEPT:
        return
    await conn.execute(
        insert(payment_notices).values(
            payment_id=payment_id,
            verified=verified,
            outcome=outcome,
            body=body[:NOTICE_BODY_LIMIT],
            received_at=utcnow(),
        )
    )


async def payment_by_id(conn: AsyncConnection, payment_id: int) -> Payment:
    row = (await conn.execute(select(payments).where(payments.c.id == payment_id))).first()
    if row is None:
        raise NO_SUCH_PAYMENT(id=payment_id)
    return Payment.from_row(row)


async def payment_at_gateway(
    conn: AsyncConnection, gateway_name: str, gateway_id: str
) -> tuple[Payment, Method] | None:
    """The payment a gateway's id names, with its method; None if there is none."""
    row = (
        await conn.execute(
            select(payments.c.id, payments.c.method_id)
            .join(payment_methods, payment_methods.c.id == payments.c.method_id)
            .where(payment_methods.c.gateway == gateway_name, payments.c.gateway_id == gateway_id)
        )
    ).first()
    if row is None:
        return None
    method_row = (
        await conn.execute(select(payment_methods).where(payment_methods.c.id == row.method_id))
    ).one()
    return await payment_by_id(conn, row.id), Method.from_row(method_row)


async def notices_of(conn: AsyncConnection, payment_id: int) -> list[AnyRow]:
    rows = await conn.execute(
        select(payment_notices)
        .where(payment_notices.c.payment_id == payment_id)
        .order_by(payment_notices.c.id)
    )
    return list(rows)


PAGE_SIZE = 50


async def payment_rows(
    conn: AsyncConnection,
    *,
    status: str | None = None,
    customer_id: int | None = None,
    method_id: int | None = None,
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> list[AnyRow]:
    """Payments newest first with the customer's and the method's names; keyset pages."""
    query = (
        select(
            payments,
            customers.c.name.label("customer"),
            payment_methods.c.name.label("method"),
            payment_methods.c.gateway,
        )
        .join(customers, customers.c.id == payments.c.customer_id)
        .join(payment_methods, payment_methods.c.id == payments.c.method_id)
        .order_by(payments.c.id.desc())
        .limit(limit)
    )
    for column, value in (
        (payments.c.status, status),
        (payments.c.customer_id, customer_id),
        (payments.c.method_id, method_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if before_id is not None:
        query = query.where(payments.c.id < before_id)
    return list(await conn.execute(query))
