"""order, refill and cancel: the operator's side of the order life cycle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer

from smmpanel.cli.common import (
    bounded_option,
    fail,
    id_argument,
    in_transaction,
    one_of_ids,
    read_only,
)
from smmpanel.cli.providers import with_upstream
from smmpanel.cli.tables import moment, print_table, printable
from smmpanel.integers import MAX_INT64
from smmpanel.money import render_balance, render_charge
from smmpanel.orders.statuses import (
    CANCELED,
    COMPLETED,
    ORDER_STATUSES,
    REFILL_STATUSES,
    SUBSCRIPTION_STATUSES,
)

if TYPE_CHECKING:
    from sqlalchemy import Row, Select, Table
    from sqlalchemy.ext.asyncio import AsyncConnection

    from smmpanel.db import Database
    from smmpanel.orders.lifecycle import OrderChange
    from smmpanel.orders.subscriptions import RecordedPost
    from smmpanel.providers.client import UpstreamClient
    from smmpanel.providers.upstream_orders import Forwarded

order_app = typer.Typer(help="List and show orders, and move them through their life.")
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


def _order_option(request: str) -> int:
    return bounded_option(
        None,
        f"The order's id, instead of its open {request}'s.",
        low=1,
        high=MAX_INT64,
        name="--order",
    )


def _limit_option() -> int:
    return bounded_option(DEFAULT_LIMIT, "Show at most this many, newest first.", low=1)


# ---- orders


@order_app.command("list")
def list_orders(
    status: str = typer.Option(None, help="Only orders in this status."),
    customer: str = typer.Option(None, help="Only this customer's orders (id or name)."),
    limit: int = _limit_option(),
) -> None:
    """Orders, newest first."""
    from smmpanel.accounts.service import find_customer

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
    from sqlalchemy import select

    from smmpanel.accounts.models import customers
    from smmpanel.orders.models import orders

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


@order_app.command("show")
def show_order(order_id: int = id_argument("The order's id.")) -> None:
    """One order in full: status, money, forwarding, its ledger entries, refills and cancels."""
    shown = read_only(lambda conn: _order_in_full(conn, order_id))
    if shown is None:
        fail(f"no order {order_id}: see `smmpanel order list`")
    order, entries, refill_rows, cancel_rows = shown
    for label, value in _order_fields(order):
        typer.echo(f"{label:<14}{printable(value)}")
    typer.echo("\nledger entries:")
    print_table(
        ("when", "kind", "cause", "amount"),
        [(moment(e.created_at), e.kind, e.cause, render_balance(e.amount)) for e in entries],
        empty="none",
    )
    typer.echo("\nrefill requests:")
    print_table(
        ("id", "status", "requested", "updated", "upstream id", "last error"),
        [
            (
                r.id,
                r.status,
                moment(r.created_at),
                moment(r.updated_at),
                r.upstream_refill_id,
                r.last_error,
            )
            for r in refill_rows
        ],
        empty="none",
    )
    typer.echo("\ncancel requests:")
    print_table(
        ("id", "status", "requested", "resolved", "last error"),
        [
            (c.id, c.status, moment(c.created_at), moment(c.resolved_at), c.last_error)
            for c in cancel_rows
        ],
        empty="none",
    )


async def _order_in_full(
    conn: AsyncConnection, order_id: int
) -> tuple[Row[Any], list[Row[Any]], list[Row[Any]], list[Row[Any]]] | None:
    from sqlalchemy import select

    from smmpanel.accounts.models import ledger_entries
    from smmpanel.orders.models import cancel_requests, refills
    from smmpanel.orders.queries import order_with_names

    order = await order_with_names(conn, order_id)
    if order is None:
        return None
    of_order = {
        table: select(table).where(table.c.order_id == order_id).order_by(table.c.id)
        for table in (ledger_entries, refills, cancel_requests)
    }
    return (
        order,
        await _all(conn, of_order[ledger_entries]),
        await _all(conn, of_order[refills]),
        await _all(conn, of_order[cancel_requests]),
    )


def _order_fields(order: Row[Any]) -> list[tuple[str, object]]:
    forwarding = (
        "fulfilled by hand"
        if order.forward_state is None
        else f"{order.forward_state} at provider {order.provider} (id {order.provider_id})"
    )
    return [
        ("order", order.id),
        ("status", order.status),
        ("customer", f"{order.customer} (id {order.customer_id})"),
        ("service", f"{order.service_id} ({order.service})"),
        ("type", order.type),
        ("link", order.link),
        ("quantity", order.quantity),
        ("charge", render_balance(order.charge)),
        ("start count", order.start_count),
        ("remains", order.remains),
        ("forwarding", forwarding),
        ("upstream id", order.upstream_order_id),
        ("upstream says", order.upstream_status),
        ("fallback tried", "yes" if order.tried_fallback else "no"),
        ("last error", order.last_error),
        ("parent order", order.parent_id),
        ("created", moment(order.created_at)),
        ("updated", moment(order.updated_at)),
        ("finished", moment(order.finished_at)),
    ]


@order_app.command("update")
def update_order_command(
    order_id: int = id_argument("The order's id."),
    status: str = typer.Option(None, help=f"New status: {', '.join(ALL_ORDER_STATUSES)}."),
    start_count: int = bounded_option(None, "The count before delivery started.", high=MAX_INT64),
    remains: int = bounded_option(
        None, "Undelivered units (Partial refunds them).", high=MAX_INT64
    ),
) -> None:
    """Change an order's status, start count or remains; refunds what a new status calls for."""
    from smmpanel.orders.lifecycle import update_order
    from smmpanel.providers.upstream_orders import forwarded_order

    if status is None and start_count is None and remains is None:
        fail("nothing to change: give --status, --start-count or --remains")
    new_status = canonical_status(status, ALL_ORDER_STATUSES) if status else None

    async def work(db: Database, client: UpstreamClient) -> tuple[OrderChange, str | None]:
        async with db.write() as conn:
            change = await update_order(
                conn, order_id, status=new_status, start_count=start_count, remains=remains
            )
            forwarded = await forwarded_order(conn, order_id)
        if forwarded is None:
            return change, None
        return change, await _upstream_fate(client, forwarded, order_id, new_status)

    change, upstream = with_upstream(work)
    typer.echo(f"order {order_id} is {change.status}; {_refund_text(change.refunded)}")
    if upstream is not None:
        typer.echo(upstream)


async def _upstream_fate(
    client: UpstreamClient, forwarded: Forwarded, order_id: int, new_status: str | None
) -> str:
    """What the change does upstream: nothing, or for Canceled, the upstream's answer to a
    cancel of the order placed there."""
    from smmpanel.providers.upstream_orders import ask_to_cancel

    where = forwarded.describe(order_id)
    if new_status != CANCELED or not forwarded.placed_upstream:
        return f"{where}: the upstream order is not changed"
    refused = await ask_to_cancel(client, forwarded)
    if refused is None:
        return f"{where}: asked it to cancel there, and it accepted"
    return (
        f"{where}: asked it to cancel there, and it did not ({refused});"
        " it may still deliver: check on its side"
    )


@order_app.command("post")
def record_post_command(
    order_id: int = id_argument("The subscription's id."),
    quantity: int = bounded_option(
        ..., "The new post's order quantity, within the subscription's min and max.", low=1
    ),
) -> None:
    """Record a new post of a subscription fulfilled by hand: its order is placed (and charged
    when the subscription is paid per post); the last of its posts completes it."""
    from smmpanel.orders.subscriptions import record_post

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
    from smmpanel.providers.doubts import orders_in_doubt

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
    order_id: int = id_argument("The id from `smmpanel order doubts`."),
    sent: str = typer.Option(None, "--sent", help="The upstream has it: its order id there."),
    not_sent: bool = typer.Option(False, "--not-sent", help="The upstream never got it: resend."),
    cancel: bool = typer.Option(False, "--cancel", help="Cancel it and refund in full."),
) -> None:
    """Settle an order in doubt: exactly one of --sent ID, --not-sent or --cancel."""
    from smmpanel.providers.doubts import resolve_as_not_sent, resolve_as_sent, resolve_by_canceling

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
    from smmpanel.orders.queries import refill_request_rows

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
    refill_id: int = id_argument("The id from `smmpanel refill list`.", required=False),
    status: str = typer.Option(..., help=f"One of: {', '.join(REFILL_STATUSES)}."),
    order_id: int = _order_option("refill"),
) -> None:
    """Record how a refill went; the customer sees it in `refill_status`."""
    from smmpanel.orders.models import refills
    from smmpanel.orders.requests import update_refill

    new_status = canonical_status(status, REFILL_STATUSES)
    given = one_of_ids({"REFILL_ID": refill_id, "--order ORDER_ID": order_id})

    async def use_case(conn: AsyncConnection) -> int:
        request_id = await _request_id(conn, refills, given, "refill request")
        await update_refill(conn, request_id, new_status)
        return request_id

    typer.echo(f"refill {in_transaction(use_case)} is {new_status}")


async def _request_id(
    conn: AsyncConnection, table: Table, given: tuple[str, int], what: str
) -> int:
    """The request's id, given or as the open request of the order given."""
    from sqlalchemy import select

    name, value = given
    if not name.startswith("--order"):
        return value
    found = await conn.scalar(select(table.c.id).where(table.c.open_order_id == value))
    if found is None:
        fail(f"order {value} has no open {what}: `smmpanel order show {value}` lists its requests")
    return found


# ---- cancel requests


@cancel_app.command("list")
def list_cancels(
    all_: bool = typer.Option(False, "--all", help="Include requests already answered."),
    limit: int = _limit_option(),
) -> None:
    """Cancel requests waiting for an answer (with --all, answered ones too after them),
    newest first."""
    from smmpanel.orders.queries import cancel_request_rows

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
    cancel_id: int = id_argument("The id from `smmpanel cancel list`.", required=False),
    order_id: int = _order_option("cancel request"),
    accept: bool = typer.Option(
        ..., "--accept/--reject", help="Accept (the order is canceled) or reject (it goes on)."
    ),
    remains: int = bounded_option(
        None,
        "With --accept: units not delivered; the order becomes Partial, not Canceled.",
        high=MAX_INT64,
    ),
) -> None:
    """Answer a cancel request; accepting refunds the undelivered part."""
    from smmpanel.orders.models import cancel_requests
    from smmpanel.orders.requests import resolve_cancel

    if remains is not None and not accept:
        fail("--remains goes with --accept only: a rejected request leaves the order as it is")

    given = one_of_ids({"CANCEL_ID": cancel_id, "--order ORDER_ID": order_id})

    async def use_case(conn: AsyncConnection) -> tuple[int, OrderChange]:
        request_id = await _request_id(conn, cancel_requests, given, "cancel request")
        return request_id, await resolve_cancel(conn, request_id, accept=accept, remains=remains)

    cancel_id, change = in_transaction(use_case)
    if accept:
        typer.echo(
            f"cancel request {cancel_id} accepted: order {change.order_id} is {change.status}; "
            f"{_refund_text(change.refunded)}"
        )
    else:
        typer.echo(
            f"cancel request {cancel_id} rejected: order {change.order_id} stays {change.status}"
        )
