"""order, refill and cancel: the operator's side of the order life cycle."""

from collections.abc import Sequence
from typing import Any

import typer
from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.accounts.models import customers
from smmpanel.accounts.service import find_customer
from smmpanel.cli.common import fail, in_transaction, read_only
from smmpanel.cli.tables import moment, print_table
from smmpanel.money import render_balance, render_charge
from smmpanel.orders.lifecycle import OrderChange, update_order
from smmpanel.orders.models import orders
from smmpanel.orders.queries import cancel_request_rows, refill_request_rows
from smmpanel.orders.requests import resolve_cancel, update_refill
from smmpanel.orders.statuses import (
    COMPLETED,
    ORDER_STATUSES,
    REFILL_STATUSES,
    SUBSCRIPTION_STATUSES,
)
from smmpanel.orders.subscriptions import RecordedPost, record_post
from smmpanel.providers.doubts import (
    orders_in_doubt,
    resolve_as_not_sent,
    resolve_as_sent,
    resolve_by_canceling,
)

order_app = typer.Typer(help="List orders and move them through their life cycle.")
refill_app = typer.Typer(help="List refill requests and answer them.")
cancel_app = typer.Typer(help="List cancel requests and accept or reject them.")

ALL_ORDER_STATUSES = tuple(dict.fromkeys(ORDER_STATUSES + SUBSCRIPTION_STATUSES))
DEFAULT_LIMIT = 50


def canonical_status(typed: str, known: Sequence[str], option: str = "--status") -> str:
    """The status as the API spells it ("in progress" -> "In progress")."""
    for status in known:
        if status.lower() == typed.strip().lower():
            return status
    fail(f"{option}: unknown status {typed!r}; use one of: {', '.join(known)}")


def _limit_option() -> int:
    return typer.Option(DEFAULT_LIMIT, min=1, help="Show at most this many, newest first.")


# ---- orders


@order_app.command("list")
def list_orders(
    status: str = typer.Option(None, help="Only orders in this status."),
    customer: str = typer.Option(None, help="Only this customer's orders (id or name)."),
    limit: int = _limit_option(),
) -> None:
    """Orders, newest first."""
    wanted = canonical_status(status, ALL_ORDER_STATUSES) if status else None

    async def query(conn: AsyncConnection) -> list:
        customer_id = await find_customer(conn, customer) if customer else None
        return await _orders(conn, wanted, customer_id, limit)

    rows = read_only(query)
    print_table(
        ("id", "customer", "service", "status", "quantity", "charge", "remains", "link"),
        [
            (
                row.id,
                row.customer,
                row.service_id,
                row.status,
                row.quantity,
                render_balance(row.charge),
                row.remains,
                row.link,
            )
            for row in rows
        ],
        empty="no orders match",
    )


async def _orders(
    conn: AsyncConnection, status: str | None, customer_id: int | None, limit: int
) -> list:
    query = (
        select(
            orders.c.id,
            customers.c.name.label("customer"),
            orders.c.service_id,
            orders.c.status,
            orders.c.quantity,
            orders.c.charge,
            orders.c.remains,
            orders.c.link,
        )
        .join(customers, customers.c.id == orders.c.customer_id)
        .order_by(orders.c.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(orders.c.status == status)
    if customer_id is not None:
        query = query.where(orders.c.customer_id == customer_id)
    return list((await conn.execute(query)).all())


@order_app.command("update")
def update_order_command(
    order_id: int = typer.Argument(..., help="The order's id."),
    status: str = typer.Option(None, help=f"New status: {', '.join(ALL_ORDER_STATUSES)}."),
    start_count: int = typer.Option(None, min=0, help="The count before delivery started."),
    remains: int = typer.Option(None, help="Undelivered units (Partial refunds them)."),
) -> None:
    """Change an order's status, start count or remains; refunds what a new status calls for."""
    if status is None and start_count is None and remains is None:
        fail("nothing to change: give --status, --start-count or --remains")
    new_status = canonical_status(status, ALL_ORDER_STATUSES) if status else None

    async def use_case(conn: AsyncConnection) -> OrderChange:
        return await update_order(
            conn, order_id, status=new_status, start_count=start_count, remains=remains
        )

    change = in_transaction(use_case)
    typer.echo(f"order {order_id} is {change.status}; {_refund_text(change.refunded)}")


@order_app.command("post")
def record_post_command(
    order_id: int = typer.Argument(..., help="The subscription's id."),
    quantity: int = typer.Option(
        ..., help="The new post's order quantity, within the subscription's min and max."
    ),
) -> None:
    """Record a new post of a subscription fulfilled by hand: its order is placed (and charged
    when the subscription is paid per post); the last of its posts completes it."""
    recorded = in_transaction(lambda conn: record_post(conn, order_id, quantity))
    if recorded.order_id is None:
        fail(
            f"the customer's balance is short of {render_charge(recorded.charge)} for this post: "
            f"nothing placed, subscription {order_id} is Paused. Add funds (`smmpanel funds "
            f"add`), resume it (`smmpanel order update {order_id} --status Active`), then "
            "record the post again"
        )
    typer.echo(_post_text(order_id, recorded))


def _post_text(order_id: int, recorded: RecordedPost) -> str:
    of_posts = f" of {recorded.posts}" if recorded.posts else ""
    charged = (
        "charged nothing (paid up front)"
        if recorded.posts
        else f"charged {render_charge(recorded.charge)}"
    )
    text = (
        f"post {recorded.posts_delivered}{of_posts} of subscription {order_id}: "
        f"order {recorded.order_id} for {recorded.quantity}, {charged}"
    )
    if recorded.status == COMPLETED:
        text += f"\nsubscription {order_id} is Completed; {_refund_text(recorded.refunded)}"
    return text


@order_app.command("doubts")
def list_doubts(limit: int = _limit_option()) -> None:
    """Orders sent upstream with no answer: check each on the provider's side, then resolve."""
    rows = read_only(lambda conn: orders_in_doubt(conn, limit))
    print_table(
        ("id", "customer", "provider", "quantity", "link", "since", "why"),
        [
            (r.id, r.customer, r.provider, r.quantity, r.link, moment(r.updated_at), r.last_error)
            for r in rows
        ],
        empty="no orders in doubt",
    )


@order_app.command("resolve")
def resolve_doubt_command(
    order_id: int = typer.Argument(..., help="The id from `smmpanel order doubts`."),
    sent: str = typer.Option(None, "--sent", help="The upstream has it: its order id there."),
    not_sent: bool = typer.Option(False, "--not-sent", help="The upstream never got it: resend."),
    cancel: bool = typer.Option(False, "--cancel", help="Cancel it and refund in full."),
) -> None:
    """Settle an order in doubt: exactly one of --sent ID, --not-sent or --cancel."""
    if (sent is not None) + not_sent + cancel != 1:
        fail("give exactly one of --sent UPSTREAM_ID, --not-sent or --cancel")
    if sent is not None:
        in_transaction(lambda conn: resolve_as_sent(conn, order_id, sent))
        typer.echo(f"order {order_id} follows upstream order {sent}")
    elif not_sent:
        in_transaction(lambda conn: resolve_as_not_sent(conn, order_id))
        typer.echo(f"order {order_id} will be sent again")
    else:
        in_transaction(lambda conn: resolve_by_canceling(conn, order_id))
        typer.echo(f"order {order_id} is Canceled and refunded")


async def _all(conn: AsyncConnection, query: Select[Any]) -> list[Row[Any]]:
    return list((await conn.execute(query)).all())


def _refund_text(refunded: int) -> str:
    return f"refunded {render_balance(refunded)}" if refunded else "nothing refunded"


# ---- refills


@refill_app.command("list")
def list_refills(
    status: str = typer.Option(None, help=f"Only these: {', '.join(REFILL_STATUSES)}."),
    limit: int = _limit_option(),
) -> None:
    """Refill requests: open ones first, then newest first."""
    wanted = canonical_status(status, REFILL_STATUSES) if status else None
    rows = read_only(lambda conn: _all(conn, refill_request_rows(wanted).limit(limit)))
    print_table(
        ("id", "order", "customer", "status", "requested", "updated"),
        [
            (r.id, r.order_id, r.customer, r.status, moment(r.created_at), moment(r.updated_at))
            for r in rows
        ],
        empty="no refill requests match",
    )


@refill_app.command("update")
def update_refill_command(
    refill_id: int = typer.Argument(..., help="The id from `smmpanel refill list`."),
    status: str = typer.Option(..., help=f"One of: {', '.join(REFILL_STATUSES)}."),
) -> None:
    """Record how a refill went; the customer sees it in `refill_status`."""
    new_status = canonical_status(status, REFILL_STATUSES)

    async def use_case(conn: AsyncConnection) -> None:
        await update_refill(conn, refill_id, new_status)

    in_transaction(use_case)
    typer.echo(f"refill {refill_id} is {new_status}")


# ---- cancel requests


@cancel_app.command("list")
def list_cancels(
    all_: bool = typer.Option(False, "--all", help="Include requests already answered."),
    limit: int = _limit_option(),
) -> None:
    """Cancel requests waiting for an answer (with --all, answered ones too after them),
    newest first."""
    query = cancel_request_rows(pending_only=not all_).limit(limit)
    rows = read_only(lambda conn: _all(conn, query))
    print_table(
        ("id", "order", "customer", "order status", "request", "requested"),
        [
            (r.id, r.order_id, r.customer, r.order_status, r.status, moment(r.created_at))
            for r in rows
        ],
        empty="no cancel requests waiting" if not all_ else "no cancel requests",
    )


@cancel_app.command("resolve")
def resolve_cancel_command(
    cancel_id: int = typer.Argument(..., help="The id from `smmpanel cancel list`."),
    accept: bool = typer.Option(
        ..., "--accept/--reject", help="Accept (the order is canceled) or reject (it goes on)."
    ),
    remains: int = typer.Option(
        None, help="With --accept: units not delivered; the order becomes Partial, not Canceled."
    ),
) -> None:
    """Answer a cancel request; accepting refunds the undelivered part."""
    if remains is not None and not accept:
        fail("--remains goes with --accept only: a rejected request leaves the order as it is")

    change = in_transaction(
        lambda conn: resolve_cancel(conn, cancel_id, accept=accept, remains=remains)
    )
    if accept:
        typer.echo(
            f"cancel request {cancel_id} accepted: order {change.order_id} is {change.status}; "
            f"{_refund_text(change.refunded)}"
        )
    else:
        typer.echo(
            f"cancel request {cancel_id} rejected: order {change.order_id} stays {change.status}"
        )
