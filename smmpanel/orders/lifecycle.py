"""Moving an order through its life cycle, with each refund made at most once."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.accounts.service import credit
from smmpanel.db.base import utcnow
from smmpanel.db.dialect import insert_or_ignore, locked, one_of
from smmpanel.errors import N_, refusal
from smmpanel.orders.models import cancel_requests, orders, refills, subscriptions
from smmpanel.orders.refunds import Charged, order_units
from smmpanel.orders.statuses import (
    ACTIVE,
    ALLOWED_AFTER_FINISH,
    CANCEL_ACCEPTED,
    CANCEL_REJECTED,
    CANCELED,
    COMPLETED,
    FORWARD_DRIPFEED_PLACED,
    IN_PROGRESS,
    ORDER_STATUSES,
    PARTIAL,
    PENDING,
    PROCESSING,
    REFILL_REJECTED,
    REFUND_PRO_RATA,
    REFUND_REST,
    SUBSCRIPTION_ENDED,
    SUBSCRIPTION_STATUSES,
    SUBSCRIPTIONS,
    is_finished,
    refund_cause,
)
from smmpanel.outbox.order_mails import Ending, mail_order_endings

NO_ORDER = refusal("no_such_order", "no order %(id)s: see `smmpanel order list`")
UNKNOWN_STATUS = refusal("unknown_order_status", "unknown status %(status)r; use one of: %(known)s")
FINISHED_ORDER = refusal(
    "finished_order_status",
    "order %(id)s is %(status)s and cannot become %(new_status)s: "
    "a finished order may only move to a status that refunds more",
)
REMAINS_SETTLED = refusal(
    "remains_settled",
    "order %(id)s is %(status)s: its remains were settled and cannot change",
)
PARTIAL_NEEDS_REMAINS = refusal(
    "partial_needs_remains",
    "a Partial order needs --remains between 1 and %(units)s (the undelivered count)",
)
REMAINS_BY_POSTS = refusal(
    "subscription_remains_by_posts",
    "subscription %(id)s ends with the units of its posts not delivered as its remains "
    "(%(undelivered)s): leave out --remains",
)
# A cancel request is accepted when its order finishes canceled in whole or in part.
CANCEL_ACCEPTING = frozenset({PARTIAL, CANCELED})
REFUNDED_IN_FULL = "the order was refunded in full: nothing delivered is left to refill"


# The moves `apply_progress` makes in bulk: none of them refunds anything.
MONEYLESS = frozenset({PENDING, IN_PROGRESS, PROCESSING, COMPLETED})
# The moves `settle_finished` makes in bulk, and the refund each makes; keyed by a change's
# status, None when the change keeps the status.
REFUNDING: dict[str | None, str] = {PARTIAL: REFUND_PRO_RATA, CANCELED: REFUND_REST}


@dataclass(frozen=True)
class OrderChange:
    order_id: int
    status: str
    start_count: int
    remains: int
    refunded: int  # millionths refunded by this change


@dataclass(frozen=True)
class Progress:
    """A change for `apply_progress`, read while the order was `seen_status`; the other fields
    mean what update_order's arguments of the same names mean."""

    order_id: int
    seen_status: str
    status: str | None = None
    start_count: int | None = None
    remains: int | None = None


class LockedOrder(NamedTuple):
    """An order's state as the bulk changes read it, locked until the transaction ends."""

    id: int
    status: str
    type: str
    parent_id: int | None
    start_count: int
    remains: int
    customer_id: int
    charge: int
    quantity: int
    runs: int | None


class ProgressWrite(NamedTuple):
    """One order's new values in a bulk update; the names are the statement's parameters."""

    order: int
    status: str
    start_count: int
    remains: int
    now: datetime


class RefundEntry(NamedTuple):
    """One refund's ledger row, as a bulk insert takes it."""

    customer_id: int
    amount: int
    kind: str
    reason: str
    order_id: int
    cause: str
    created_at: datetime


async def update_order(
    conn: AsyncConnection,
    order_id: int,
    *,
    status: str | None = None,
    start_count: int | None = None,
    remains: int | None = None,
) -> OrderChange:
    order = await _locked_order(conn, order_id)
    is_subscription = order.type == SUBSCRIPTIONS
    new_status = status or order.status
    _check_transition(order, new_status, is_subscription)
    new_remains = _new_remains(order, new_status, remains, is_subscription)
    values: dict[str, Any] = {"status": new_status, "remains": new_remains, "updated_at": utcnow()}
    if start_count is not None:
        values["start_count"] = start_count
    if is_finished(new_status):
        values["active_link"] = None
        values["finished_at"] = order.finished_at or utcnow()
    refunded = 0
    charged = _charged(order, new_remains)
    cause = refund_cause(new_status, is_subscription) if new_status != order.status else None
    if cause is not None:
        refunded = await _refund(conn, order, cause, charged.refund_due(new_status))
    await conn.execute(update(orders).where(orders.c.id == order_id).values(**values))
    if is_subscription and new_status == ACTIVE:
        await _clear_pause_reason(conn, order_id)
    if is_finished(new_status):
        await _close_cancel_requests(conn, [order_id], _cancel_rejection(new_status))
        if new_status == CANCELED or 0 < order.charge <= charged.refund_due(new_status):
            await _close_refills(conn, order_id)
        if order.parent_id is not None:
            await settle_dripfeed(conn, order.parent_id)
    if new_status != order.status:
        await mail_order_endings(conn, [Ending(order_id, new_status, new_remains)])
    return OrderChange(
        order_id=order_id,
        status=new_status,
        start_count=order.start_count if start_count is None else start_count,
        remains=new_remains,
        refunded=refunded,
    )


async def apply_progress(conn: AsyncConnection, changes: list[Progress]) -> list[Progress]:
    """Apply many changes that move no money in a few statements for the lot, exactly as
    update_order would: a new start count or remains, a move to Pending, In progress,
    Processing or Completed, of orders (not subscriptions) not finished yet.

    Returned, not applied: every other change (a refund, a drip-feed run that finishes, an
    order whose status is no longer the one the change was read against). Give the refunds to
    settle_finished, and what it returns to update_order, which checks each one by one.
    """
    if not changes:
        return []
    current = await _locked_orders(conn, [change.order_id for change in changes])
    now = utcnow()
    # By whether the write finishes the order.
    writes: dict[bool, list[ProgressWrite]] = {False: [], True: []}
    left: list[Progress] = []
    for change in changes:
        order = current.get(change.order_id)
        if order is None or not _moves_no_money(order, change):
            left.append(change)
            continue
        write = _progress_write(order, change, now)
        writes[write.status == COMPLETED].append(write)
    await _write_progress(conn, writes[False], finishing=False)
    await _write_progress(conn, writes[True], finishing=True)
    finished = [write.order for write in writes[True]]
    if finished:
        await _close_cancel_requests(conn, finished, _cancel_rejection(COMPLETED))
    return left


async def settle_finished(conn: AsyncConnection, changes: list[Progress]) -> list[Progress]:
    """Apply many moves to Partial or Canceled, each with its refund, in a few statements for
    the lot, exactly as update_order would: of orders not finished yet, neither subscriptions
    nor drip-feed runs. A refund is made at most once per order and cause (the ledger's unique
    constraint decides); balances are credited with what the ledger took.

    Returned, not applied: every other change (see apply_progress), for update_order.
    """
    if not changes:
        return []
    current = await _locked_orders(conn, [change.order_id for change in changes])
    settled: list[tuple[LockedOrder, Progress]] = []
    left: list[Progress] = []
    for change in changes:
        order = current.get(change.order_id)
        if order is None or not _settles_in_bulk(order, change):
            left.append(change)
        else:
            settled.append((order, change))
    if settled:
        now = utcnow()
        await _refund_all(conn, settled, now)
        writes = [_progress_write(order, change, now) for order, change in settled]
        await _write_progress(conn, writes, finishing=True)
        await _close_cancel_requests(conn, [order.id for order, _ in settled], None)
        await mail_order_endings(
            conn, [Ending(write.order, write.status, write.remains) for write in writes]
        )
    return left


def _settles_in_bulk(order: LockedOrder, change: Progress) -> bool:
    """A move update_order would make and refund, with nothing else to do after it."""
    return (
        change.status in REFUNDING
        and order.status == change.seen_status
        and order.type != SUBSCRIPTIONS
        and order.parent_id is None
        and not is_finished(order.status)
        and (change.status != PARTIAL or 0 < _remains_after(order, change) <= _plain_units(order))
    )


def _plain_units(order: LockedOrder) -> int:
    """The units of an order that is not a subscription (no posts to count)."""
    return order_units(order.quantity, order.runs, None, is_subscription=False)


def _plain_charged(order: LockedOrder, remains: int) -> Charged:
    return Charged(order.type, order.charge, order.quantity, order.runs, remains, None, None, None)


def _remains_after(order: LockedOrder, change: Progress) -> int:
    return order.remains if change.remains is None else change.remains


async def _refund_all(
    conn: AsyncConnection, settled: list[tuple[LockedOrder, Progress]], now: datetime
) -> None:
    """Each order's refund in one ledger insert; then each customer credited with the sum of
    the entries the ledger took, in customer id order."""
    before = await _refunded_totals(conn, [order.id for order, _ in settled])
    entries: list[RefundEntry] = []
    for order, change in settled:
        status = change.status or order.status  # one of REFUNDING's: _settles_in_bulk says
        due = _plain_charged(order, _remains_after(order, change)).refund_due(status)
        cause = REFUNDING[status]
        amount = due - before.get(order.id, 0)
        if amount > 0:
            entries.append(_refund_entry(order, cause, amount, now))
    if not entries:
        return
    taken = await conn.execute(
        insert_or_ignore(conn, ledger_entries).returning(
            ledger_entries.c.customer_id, ledger_entries.c.amount
        ),
        [entry._asdict() for entry in entries],
    )
    owed: dict[int, int] = {}
    for customer_id, amount in taken:
        owed[customer_id] = owed.get(customer_id, 0) + amount
    await conn.execute(
        update(customers)
        .where(customers.c.id == bindparam("customer"))
        .values(balance=customers.c.balance + bindparam("amount")),
        [{"customer": customer, "amount": amount} for customer, amount in sorted(owed.items())],
    )


def _refund_entry(order: LockedOrder, cause: str, amount: int, now: datetime) -> RefundEntry:
    return RefundEntry(
        customer_id=order.customer_id,
        amount=amount,
        kind="refund",
        reason=_refund_reason(order.id, cause),
        order_id=order.id,
        cause=cause,
        created_at=now,
    )


async def _refunded_totals(conn: AsyncConnection, order_ids: list[int]) -> dict[int, int]:
    rows = await conn.execute(
        select(ledger_entries.c.order_id, func.sum(ledger_entries.c.amount))
        .where(
            one_of(conn, ledger_entries.c.order_id, order_ids), ledger_entries.c.kind == "refund"
        )
        .group_by(ledger_entries.c.order_id)
    )
    return {order_id: int(total) for order_id, total in rows}


async def _locked_orders(conn: AsyncConnection, order_ids: list[int]) -> dict[int, LockedOrder]:
    """The orders' state now, locked in id order: two batches never wait on each other crosswise."""
    query = (
        select(*(orders.c[name] for name in LockedOrder._fields))
        .where(one_of(conn, orders.c.id, order_ids))
        .order_by(orders.c.id)
    )
    query = locked(conn, query)
    return {row.id: LockedOrder._make(row) for row in await conn.execute(query)}


def _moves_no_money(order: LockedOrder, change: Progress) -> bool:
    status = change.status or order.status
    return (
        order.status == change.seen_status
        and order.type != SUBSCRIPTIONS
        and not is_finished(order.status)
        and status in MONEYLESS
        and not (status == COMPLETED and order.parent_id is not None)
    )


def _progress_write(order: LockedOrder, change: Progress, now: datetime) -> ProgressWrite:
    """update_order's values for a change that moves no money."""
    status = change.status or order.status
    remains = change.remains
    if remains is None:
        remains = 0 if status == COMPLETED else order.remains
    start_count = order.start_count if change.start_count is None else change.start_count
    return ProgressWrite(order.id, status, start_count, remains, now)


async def _write_progress(
    conn: AsyncConnection, writes: list[ProgressWrite], finishing: bool
) -> None:
    if not writes:
        return
    values: dict[str, Any] = {
        "status": bindparam("status"),
        "start_count": bindparam("start_count"),
        "remains": bindparam("remains"),
        "updated_at": bindparam("now"),
    }
    if finishing:
        values.update(active_link=None, finished_at=bindparam("now"))
    await conn.execute(
        update(orders).where(orders.c.id == bindparam("order")).values(**values),
        [write._asdict() for write in writes],
    )


async def _clear_pause_reason(conn: AsyncConnection, order_id: int) -> None:
    """A subscription running again is no longer paused for the reason it was."""
    await conn.execute(
        update(subscriptions).where(subscriptions.c.order_id == order_id).values(pause_reason=None)
    )


async def settle_dripfeed(conn: AsyncConnection, parent_id: int) -> None:
    """A drip-feed run here ends once every run is placed and finished: the parent is settled
    on what its children left undelivered (runs never placed count as undelivered)."""
    parent = (
        await conn.execute(
            select(
                orders.c.forward_state,
                orders.c.status,
                orders.c.quantity,
                orders.c.runs,
                orders.c.runs_placed,
            ).where(orders.c.id == parent_id)
        )
    ).one()
    if parent.forward_state != FORWARD_DRIPFEED_PLACED or is_finished(parent.status):
        return
    children = (
        await conn.execute(
            select(orders.c.status, orders.c.remains, orders.c.quantity).where(
                orders.c.parent_id == parent_id
            )
        )
    ).all()
    if any(not is_finished(child.status) for child in children):
        return
    unplaced = (parent.runs - parent.runs_placed) * parent.quantity
    undelivered = unplaced + sum(
        _undelivered(child.status, child.remains, child.quantity) for child in children
    )
    if undelivered == 0:
        await update_order(conn, parent_id, status=COMPLETED)
    elif undelivered >= parent.quantity * parent.runs:
        await update_order(conn, parent_id, status=CANCELED)
    else:
        await update_order(conn, parent_id, status=PARTIAL, remains=undelivered)


def _undelivered(status: str, remains: int, quantity: int) -> int:
    """What a finished drip-feed run left undelivered."""
    if status == CANCELED:
        return quantity
    if status == PARTIAL:
        return max(0, min(remains, quantity))
    return 0


def _cancel_rejection(status: str) -> str | None:
    """Why a cancel request is rejected when its order finishes in `status`; None: accepted."""
    return None if status in CANCEL_ACCEPTING else f"the order was {status.lower()}"


async def _close_cancel_requests(
    conn: AsyncConnection, order_ids: list[int], rejection: str | None
) -> None:
    """Finished orders answer any cancel request still open for them: accepted, or rejected
    for `rejection`. One carried upstream is no longer sent."""
    await conn.execute(
        update(cancel_requests)
        .where(one_of(conn, cancel_requests.c.open_order_id, order_ids))
        .values(
            status=CANCEL_ACCEPTED if rejection is None else CANCEL_REJECTED,
            open_order_id=None,
            resolved_at=utcnow(),
            next_action_at=None,
            last_error=rejection,
        )
    )


async def _close_refills(conn: AsyncConnection, order_id: int) -> None:
    """An order refunded in full has nothing delivered left to refill: its open refill is
    rejected, and no longer carried upstream."""
    await conn.execute(
        update(refills)
        .where(refills.c.open_order_id == order_id)
        .values(
            status=REFILL_REJECTED,
            open_order_id=None,
            updated_at=utcnow(),
            next_action_at=None,
            last_error=REFUNDED_IN_FULL,
        )
    )


async def refunded_total(conn: AsyncConnection, order_id: int) -> int:
    total = await conn.scalar(
        select(func.coalesce(func.sum(ledger_entries.c.amount), 0)).where(
            ledger_entries.c.order_id == order_id, ledger_entries.c.kind == "refund"
        )
    )
    return int(total or 0)


async def _locked_order(conn: AsyncConnection, order_id: int) -> Row[Any]:
    query = (
        select(
            orders,
            subscriptions.c.posts,
            subscriptions.c.posts_delivered,
            subscriptions.c.max_quantity,
        )
        .outerjoin(subscriptions, subscriptions.c.order_id == orders.c.id)
        .where(orders.c.id == order_id)
    )
    query = locked(conn, query, of=orders)
    order = (await conn.execute(query)).first()
    if order is None:
        raise NO_ORDER(id=order_id)
    return order


def _check_transition(order: Row[Any], new_status: str, is_subscription: bool) -> None:
    known = SUBSCRIPTION_STATUSES if is_subscription else ORDER_STATUSES
    if new_status not in known:
        raise UNKNOWN_STATUS(status=new_status, known=", ".join(known))
    if new_status == order.status or not is_finished(order.status):
        return
    if new_status not in ALLOWED_AFTER_FINISH.get(order.status, frozenset()):
        raise FINISHED_ORDER(id=order.id, status=N_(order.status), new_status=N_(new_status))


def _new_remains(
    order: Row[Any], new_status: str, remains: int | None, is_subscription: bool
) -> int:
    settled = is_finished(order.status) and new_status == order.status
    if settled and remains is not None and remains != order.remains:
        raise REMAINS_SETTLED(id=order.id, status=N_(order.status))
    if is_subscription and new_status in SUBSCRIPTION_ENDED and not settled:
        return _ended_remains(order, new_status, remains)
    if remains is None:
        remains = 0 if new_status == COMPLETED and not is_subscription else order.remains
    units = _charged(order, remains).units
    if new_status == PARTIAL and not is_subscription and not 0 < remains <= units:
        raise PARTIAL_NEEDS_REMAINS(units=units)
    return remains


def _ended_remains(order: Row[Any], new_status: str, remains: int | None) -> int:
    """An ending subscription's remains: the units of its posts not delivered."""
    undelivered = _charged(order, order.remains).undelivered(new_status)
    if remains is not None and remains != undelivered:
        raise REMAINS_BY_POSTS(id=order.id, undelivered=undelivered)
    return undelivered


def _charged(order: Row[Any], remains: int) -> Charged:
    """What the refund rule reads of a locked order, with these remains."""
    return Charged(
        order.type,
        order.charge,
        order.quantity,
        order.runs,
        remains,
        order.posts,
        order.posts_delivered,
        order.max_quantity,
    )


async def _refund(conn: AsyncConnection, order: Row[Any], cause: str, due: int) -> int:
    """Refund what the order's new status says is due in all, less what was refunded."""
    amount = due - await refunded_total(conn, order.id)
    if amount <= 0:
        return 0
    done = await credit(
        conn,
        order.customer_id,
        amount,
        kind="refund",
        reason=_refund_reason(order.id, cause),
        order_id=order.id,
        cause=cause,
    )
    return amount if done else 0


def _refund_reason(order_id: int, cause: str) -> str:
    return f"order {order_id} {cause.split(':')[1]}"
