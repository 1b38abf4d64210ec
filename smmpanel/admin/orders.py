"""Operator pages: every order (search, filters), one order in full with a manual change (and,
for a subscription fulfilled by hand, its new posts), and the orders in doubt. Refill and cancel
requests are in orders_requests.py.

Changes go through the same domain functions as `smmpanel order update`, `order post` and
`order resolve`; the list's bulk actions apply them to each checked order in turn.
"""

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from smmpanel.accounts.operator_audit import AuditFilters, audit_query, operator_audit
from smmpanel.admin import orders_requests
from smmpanel.admin.audit import note
from smmpanel.admin.keyset import AFTER, BEFORE, cursor_from, keyset_address
from smmpanel.admin.orders_forms import (
    BULK_CANCEL,
    BULK_NO_ORDER,
    BULK_RESEND,
    BULK_STATUSES,
    FORWARD_LABELS,
    BulkChange,
    BulkOutcome,
    bulk_change,
    bulk_manual_change,
    bulk_message,
    change_message,
    check_bulk_status,
    check_in_doubt,
    list_address,
    manual_change,
    not_found,
    order_filters,
    refund_message,
    status_choices,
    upstream_order_id,
)
from smmpanel.admin.orders_queries import (
    MANUAL,
    SEARCH_WINDOW,
    OrderFilters,
    OrderInFull,
    find_orders,
    order_for_change,
    order_in_full,
    provider_choices,
    waiting_counts,
)
from smmpanel.errors import N_, Refusal, RefusalKind, refusal
from smmpanel.orders.lifecycle import NO_ORDER, update_order
from smmpanel.orders.statuses import ACTIVE, ALL_STATUSES, CANCELED, COMPLETED, FORWARD_IN_DOUBT
from smmpanel.orders.subscriptions import (
    ALL_POSTS_RECORDED,
    NOT_A_SUBSCRIPTION,
    POST_QUANTITY,
    POSTS_FINISHED,
    POSTS_FORWARDED,
    POSTS_PAUSED,
    RecordedPost,
    record_post,
)
from smmpanel.pagekit import i18n
from smmpanel.pagekit.forms import optional_count, text
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.money_format import format_money
from smmpanel.pagekit.pages import OperatorVisit, Visit
from smmpanel.pagekit.upstream_cancels import upstream_cancel
from smmpanel.providers.doubts import (
    orders_in_doubt,
    resolve_as_not_sent,
    resolve_as_sent,
    resolve_by_canceling,
)

router = APIRouter()
router.include_router(orders_requests.router)

ORDERS = "/admin/orders"
DOUBTS = "/admin/orders/doubts"
FILTER_FIELDS = ("q", "status", "service", "provider", "forward")
CHANGE_FIELDS = ("status", "start_count", "remains")
DOUBTS_SHOWN = 200
RESEND, SENT, CANCEL = "resend", "sent", "cancel"

NO_POST_QUANTITY = refusal("form_no_post_quantity", "Type the quantity of the new post's order.")
CHOOSE_RESOLUTION = refusal(
    "form_choose_doubt_resolution",
    "Choose how to settle it: it was sent, send it again, or cancel and refund.",
)
NOT_IN_DOUBT = refusal(
    "form_order_not_in_doubt", "Order %(id)s is not in doubt; nothing was changed."
)
# The post refusals as this page words them: the domain's words name the commands to run.
POST_PAGE_WORDING: dict[RefusalKind, str] = {
    POST_QUANTITY: N_("A post of this subscription gets between %(min)s and %(max)s."),
    POSTS_PAUSED: N_(
        "This subscription is Paused: add funds to the customer's balance if it is short, "
        "set it back to Active, then record the post."
    ),
    ALL_POSTS_RECORDED: N_(
        "This subscription has all its %(posts)s posts already: set it to Completed."
    ),
    POSTS_FINISHED: N_("This subscription is %(status)s: it takes no more posts."),
    POSTS_FORWARDED: N_(
        "This subscription is forwarded to a provider: its posts come from the provider."
    ),
    NOT_A_SUBSCRIPTION: N_("Order %(id)s is not a subscription: only a subscription has posts."),
}


# ---- the list


@router.get(ORDERS)
async def order_list(current: OperatorVisit) -> Response:
    query = current.request.url.query
    return await _listing(current, f"{ORDERS}?{query}" if query else ORDERS)


async def _listing(current: Visit, address: str, error: str | None = None) -> Response:
    """The list at this address (its filters and page); `error` from a bulk form sent on it."""
    params = dict(parse_qsl(urlsplit(address).query))
    typed = {name: params.get(name, "").strip() for name in FILTER_FIELDS}
    try:
        filters: OrderFilters | None = order_filters(typed)
    except Refusal as refused:
        filters, error = None, i18n.explain(refused)
    async with current.db.read() as conn:
        found = None if filters is None else await find_orders(conn, filters, cursor_from(params))
        counts = await waiting_counts(conn)
        providers = await provider_choices(conn)
    return current.render(
        "admin/orders.html",
        400 if error else 200,
        typed=typed,
        found=found,
        error=error,
        back=address,
        bulk_statuses=BULK_STATUSES,
        counts=counts,
        providers=providers,
        # The statuses' and forwarding states' words, translated once a page, not once a row.
        status_names=TranslatedOnce({status: status for status in ALL_STATUSES}),
        forward_names=TranslatedOnce(FORWARD_LABELS),
        order_label=_("Order %(id)s"),
        manual=MANUAL,
        search_window=SEARCH_WINDOW,
        page_url=lambda before=None, after=None: keyset_address(
            ORDERS, typed, **{BEFORE: before, AFTER: after}
        ),
    )


class TranslatedOnce(dict[str, str]):
    """Values to words: each word translated when built; a value it lacks, translated as itself."""

    def __init__(self, words: Mapping[str, str]) -> None:
        super().__init__((value, _(word)) for value, word in words.items())

    def __missing__(self, value: str) -> str:
        return _(value)


@router.post(ORDERS + "/bulk")
async def change_orders(current: OperatorVisit) -> Response:
    """Each checked order changed in a write of its own: one refused leaves the others done."""
    form = await current.form()
    back = list_address(text(form, "back"), ORDERS)
    try:
        bulk = bulk_change(form)
    except Refusal as refused:
        return await _listing(current, back, i18n.explain(refused))
    outcome = BulkOutcome()
    for order_id in bulk.order_ids:
        try:
            async with current.db.write() as conn:
                outcome.refunded += await _bulk_change_one(conn, current, order_id, bulk)
        except Refusal as refused:
            outcome.refused.append((order_id, i18n.explain(refused)))
        else:
            outcome.changed += 1
    kind = "error" if outcome.refused and not outcome.changed else "ok"
    return current.redirect(back, bulk_message(outcome, current.panel.currency), kind)


async def _bulk_change_one(
    conn: AsyncConnection, current: Visit, order_id: int, bulk: BulkChange
) -> int:
    """One order changed as its own page or the doubts page would; what it refunded."""
    before = await order_for_change(conn, order_id)
    if before is None:
        raise BULK_NO_ORDER()
    subject = f"order:{order_id}"
    if bulk.action == BULK_RESEND:
        check_in_doubt(before)
        await resolve_as_not_sent(conn, order_id)
        await note(conn, current, "order.resolve", subject, f"{RESEND} (bulk)")
        return 0
    if bulk.action == BULK_CANCEL and before.forward_state == FORWARD_IN_DOUBT:
        check_bulk_status(before, CANCELED)
        canceled = await resolve_by_canceling(conn, order_id)
        await note(conn, current, "order.resolve", subject, f"{CANCEL} (bulk)")
        return canceled.refunded
    change = bulk_manual_change(before, bulk)
    done = await update_order(conn, order_id, status=change.status, start_count=change.start_count)
    field = "status" if change.start_count is None else "start_count"
    detail = f"{field}={getattr(change, field)} (bulk)"
    await note(conn, current, "order.change", subject, detail)
    return done.refunded


# ---- one order


@router.get(ORDERS + "/{order_id:id}")
async def order_page(order_id: int, current: OperatorVisit) -> Response:
    return await _order_page(current, order_id)


async def _order_page(
    current: Visit,
    order_id: int,
    status_code: int = 200,
    error: str | None = None,
    typed: dict[str, str] | None = None,
    post_error: str | None = None,
    post_quantity: str = "",
    settle_error: str | None = None,
    settle_typed: str = "",
) -> Response:
    async with current.db.read() as conn:
        found = await order_in_full(conn, order_id)
        decisions = await _operator_decisions(conn, order_id)
    if found is None:
        raise not_found()
    return current.render(
        "admin/order.html",
        status_code,
        found=found,
        error=error,
        typed=typed or {"status": found.order.status, "start_count": "", "remains": ""},
        statuses=status_choices(found.order),
        forward_labels=FORWARD_LABELS,
        in_doubt=found.order.forward_state == FORWARD_IN_DOUBT,
        takes_posts=_takes_posts(found),
        post_error=post_error,
        post_quantity=post_quantity,
        settle_error=settle_error,
        settle_typed=settle_typed,
        decisions=decisions,
        upstream_cancel=upstream_cancel,
    )


async def _operator_decisions(conn: AsyncConnection, order_id: int) -> list:
    """What operators did to this order (changes, doubts settled), with who and when."""
    query = (
        audit_query(AuditFilters())
        .where(operator_audit.c.subject == f"order:{order_id}")
        .order_by(operator_audit.c.id)
    )
    return list((await conn.execute(query)).all())


def _takes_posts(found: OrderInFull) -> bool:
    """A subscription fulfilled by hand that can take a new post now (record_post decides)."""
    sub = found.subscription
    return (
        sub is not None
        and found.order.provider_id is None
        and found.order.status == ACTIVE
        and not (sub.posts and sub.posts_delivered >= sub.posts)
    )


@router.post(ORDERS + "/{order_id:id}")
async def change_order(order_id: int, current: OperatorVisit) -> Response:
    form = await current.form()
    typed = {name: str(form.get(name, "")).strip() for name in CHANGE_FIELDS}
    try:
        async with current.db.write() as conn:
            message = await _apply_change(conn, current, order_id, typed)
    except Refusal as refused:
        return await _order_page(current, order_id, 400, i18n.explain(refused), typed)
    return current.redirect(f"{ORDERS}/{order_id}", message)


async def _apply_change(
    conn: AsyncConnection, current: Visit, order_id: int, typed: Mapping[str, str]
) -> str:
    before = await order_for_change(conn, order_id)
    if before is None:
        raise not_found()
    change = manual_change(before, typed)
    if change.changes_nothing(before):
        return _("Nothing changed: the order already is as the form says.")
    done = await update_order(
        conn,
        order_id,
        status=change.status,
        start_count=change.start_count,
        remains=change.remains,
    )
    detail = ", ".join(f"{name}={value}" for name, value in typed.items())
    await note(conn, current, "order.change", f"order:{order_id}", detail)
    return change_message(before, done, current.panel.currency)


# ---- a new post of a subscription fulfilled by hand


@router.post(ORDERS + "/{order_id:id}/post")
async def record_new_post(order_id: int, current: OperatorVisit) -> Response:
    form = await current.form()
    typed = str(form.get("quantity", "")).strip()
    try:
        quantity = _post_quantity(typed)
        async with current.db.write() as conn:
            recorded = await record_post(conn, order_id, quantity)
            detail = f"quantity {quantity}, new order {recorded.order_id or '-'}"
            await note(conn, current, "order.post", f"order:{order_id}", detail)
    except Refusal as refused:
        if refused.kind is NO_ORDER:
            raise not_found() from refused
        error = i18n.explain(refused, POST_PAGE_WORDING.get(refused.kind))
        return await _order_page(current, order_id, 400, post_error=error, post_quantity=typed)
    address = f"{ORDERS}/{order_id}"
    if recorded.order_id is None:
        return current.redirect(address, _short_message(recorded, current.panel.currency), "error")
    return current.redirect(address, _post_message(order_id, recorded, current.panel.currency))


def _post_quantity(typed: str) -> int:
    quantity = optional_count(typed, _("Quantity"))
    if quantity is None:
        raise NO_POST_QUANTITY()
    return quantity


def _post_message(order_id: int, recorded: RecordedPost, currency: str) -> str:
    if recorded.posts:
        charged = _("nothing charged (paid up front)")
    else:
        charged = _("charged %(amount)s") % {"amount": _post_charge(recorded, currency)}
    message = _("New post recorded: order %(id)s for %(quantity)s, %(charged)s.") % {
        "id": recorded.order_id,
        "quantity": recorded.quantity,
        "charged": charged,
    }
    if recorded.status != COMPLETED:
        return message
    completed = _("Subscription %(id)s has all its posts and is Completed.") % {"id": order_id}
    return f"{message} {completed} {refund_message(recorded.refunded, currency)}"


def _short_message(recorded: RecordedPost, currency: str) -> str:
    return _(
        "The customer's balance is short of %(amount)s for this post: nothing was "
        "placed and the subscription is now Paused. Add funds, set it back to Active, then "
        "record the post again."
    ) % {"amount": _post_charge(recorded, currency)}


def _post_charge(recorded: RecordedPost, currency: str) -> str:
    return format_money(recorded.charge, "charge", i18n.current_language.get(), currency)


# ---- orders in doubt


@router.get(DOUBTS)
async def doubts_page(current: OperatorVisit) -> Response:
    return await _doubts_page(current)


async def _doubts_page(
    current: Visit,
    status_code: int = 200,
    error: str | None = None,
    typed: dict[int, str] | None = None,
) -> Response:
    async with current.db.read() as conn:
        rows = await orders_in_doubt(conn, DOUBTS_SHOWN)
    return current.render(
        "admin/doubts.html",
        status_code,
        rows=rows,
        shown=DOUBTS_SHOWN,
        error=error,
        typed=typed or {},
    )


@router.post(ORDERS + "/{order_id:id}/resolve")
async def resolve_doubt(order_id: int, current: OperatorVisit) -> Response:
    form = await current.form()
    resolution = str(form.get("resolution", ""))
    upstream_id = str(form.get("upstream_order_id", "")).strip()
    back = _settled_from(text(form, "back"), order_id)
    try:
        async with current.db.write() as conn:
            message = await _resolve(
                conn, order_id, resolution, upstream_id, current.panel.currency
            )
            detail = f"{resolution} {upstream_id}".strip()
            await note(conn, current, "order.resolve", f"order:{order_id}", detail)
    except Refusal as refused:
        error = i18n.explain(refused)
        if back == DOUBTS:
            return await _doubts_page(current, 400, error, {order_id: upstream_id})
        return await _order_page(
            current, order_id, 400, settle_error=error, settle_typed=upstream_id
        )
    return current.redirect(back, message)


def _settled_from(back: str, order_id: int) -> str:
    """Where a settled doubt leads: the order's own page if it was sent from there, else the
    list of orders in doubt (never an address the form could name elsewhere)."""
    own_page = f"{ORDERS}/{order_id}"
    return own_page if back == own_page else DOUBTS


async def _resolve(
    conn: AsyncConnection, order_id: int, resolution: str, upstream_id: str, currency: str
) -> str:
    if resolution not in (SENT, RESEND, CANCEL):
        raise CHOOSE_RESOLUTION()
    order = await order_for_change(conn, order_id)
    if order is None or order.forward_state != FORWARD_IN_DOUBT:
        raise NOT_IN_DOUBT(id=order_id)
    if resolution == SENT:
        await resolve_as_sent(conn, order_id, upstream_order_id(upstream_id))
        return _("Order %(id)s follows upstream order %(upstream)s from now on.") % {
            "id": order_id,
            "upstream": upstream_id,
        }
    if resolution == RESEND:
        await resolve_as_not_sent(conn, order_id)
        return _("Order %(id)s will be sent again.") % {"id": order_id}
    change = await resolve_by_canceling(conn, order_id)
    canceled = _("Order %(id)s is canceled.") % {"id": order_id}
    return f"{canceled} {refund_message(change.refunded, currency)}"
